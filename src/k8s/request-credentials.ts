// What each request takes from an ApiAccess: the server to send it to, its
// TLS options and its Authorization header. Baton's own ClusterAccess is
// applied here directly. A kubeconfig only the client library can read goes
// to the library's KubeConfig, imported on first use: this is the one place
// in src/ that loads the library, and only such kubeconfigs pay for it (about
// 55 MiB of RSS, kubeconfig.ts).
import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestOptions as HttpsRequestOptions } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import { BatonError } from '../errors.js';
import type { ApiAccess, ClusterAccess, LibraryKubeconfig } from './kubeconfig.js';

/** A request's options as the API client builds them: its headers object is the one it sends. */
export type CredentialOptions = HttpsRequestOptions & { headers: OutgoingHttpHeaders; secureContext?: SecureContext };

export interface RequestCredentials {
  /** Base URL of the API server. */
  readonly server: string;
  /** Sets one request's TLS options and Authorization header. May take a while: exec plugins run here. */
  apply(opts: CredentialOptions): Promise<void>;
}

export async function credentialsFor(access: ApiAccess): Promise<RequestCredentials> {
  return access.kind === 'own' ? ownCredentials(access) : await libraryCredentials(access);
}

function ownCredentials(access: ClusterAccess): RequestCredentials {
  // Over plain http (kubectl proxy, a test's fake API server) there is no TLS to set up; the token goes all the
  // same, as kubectl sends it.
  const tls = new URL(access.server).protocol === 'https:';
  // One TLS context for every connection. Given only ca, cert and key, Node builds a context per new
  // connection, parsing the CA each time: after request timeouts had closed connections, that was a tenth
  // of a busy speaker's CPU (bench-scale profile). The fields stay set too: the agent pools by them, and
  // if they make no context, each connection fails on them as before (with the connection's error).
  const context = tls ? sharedContext(access) : undefined;
  return {
    server: access.server,
    apply: async (opts) => {
      if (tls) {
        if (context !== undefined) opts.secureContext = context;
        if (access.ca !== undefined) opts.ca = access.ca;
        if (access.clientCert !== undefined) opts.cert = access.clientCert;
        if (access.clientKey !== undefined) opts.key = access.clientKey;
        if (access.tlsServerName !== undefined) opts.servername = access.tlsServerName;
        // Set only to skip, so NODE_TLS_REJECT_UNAUTHORIZED keeps its meaning otherwise, as with the library.
        if (access.insecureSkipTlsVerify) opts.rejectUnauthorized = false;
      }
      const token = access.token?.();
      if (token !== undefined) opts.headers['authorization'] = `Bearer ${token}`;
    },
  };
}

function sharedContext(access: ClusterAccess): SecureContext | undefined {
  try {
    return createSecureContext({
      ...(access.ca === undefined ? {} : { ca: access.ca }),
      ...(access.clientCert === undefined ? {} : { cert: access.clientCert }),
      ...(access.clientKey === undefined ? {} : { key: access.clientKey }),
    });
  } catch {
    return undefined;
  }
}

async function libraryCredentials(kubeconfig: LibraryKubeconfig): Promise<RequestCredentials> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const source = `${kubeconfig.file ?? 'the $KUBECONFIG list'} (read by the client library: ${kubeconfig.reason})`;
  const kc = new KubeConfig();
  try {
    if (kubeconfig.file === undefined) kc.loadFromDefault();
    else kc.loadFromFile(kubeconfig.file);
  } catch (err) {
    throw new BatonError('KUBECONFIG_INVALID', `${source}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new BatonError('KUBECONFIG_INVALID', `${source}: no current cluster`);
  // The library refuses to prepare a plain-http request unless the cluster says skipTLSVerify (there is no TLS
  // to verify): for an http: server Baton asks a copy that says so, and sends the same credentials kubectl would.
  // One copy for good: exec plugins' tokens are cached per KubeConfig.
  let from = kc;
  if (new URL(cluster.server).protocol === 'http:') {
    from = new KubeConfig();
    from.loadFromClusterAndUser({ ...cluster, skipTLSVerify: true }, kc.getCurrentUser() ?? { name: 'anonymous' });
  }
  return { server: cluster.server, apply: (opts) => from.applyToHTTPSOptions(opts) };
}
