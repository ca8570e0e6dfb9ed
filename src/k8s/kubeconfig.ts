// Where the API server is and how to prove who Baton is, read by Baton
// itself from a kubeconfig file or a pod's ServiceAccount mount. The client
// library can do this too, but loading it costs about 55 MiB of RSS and
// 25 MiB of heap (its generated API comes along) against a speaker budget of
// 64 MiB, for a job of a few small files and one YAML parse.
//
// What this loader does not read itself (exec plugins, auth providers, basic
// auth, impersonation, proxy-url, a $KUBECONFIG list to merge) it hands over,
// whole, to the library, which is then loaded on first use
// (request-credentials.ts): every kubeconfig that worked before still works,
// and only those pay for the library.
//
// Sources, in the library's loadFromDefault order (kubectl's too):
//   1. the --kubeconfig path;
//   2. $KUBECONFIG: a single file is read here; a list of several is merged by the library;
//   3. ~/.kube/config, when it exists;
//   4. in-cluster, when a ServiceAccount token is mounted: KUBERNETES_SERVICE_HOST/PORT, its token and ca.crt.
// Unlike the library, finding none of them is an error, not a guess at http://localhost:8080.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIPv6 } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import type * as Yaml from 'yaml';
import { type Clock, SystemClock } from '../clock.js';
import { BatonError } from '../errors.js';

/** Baton's own connection settings for one API server. */
export interface ClusterAccess {
  readonly kind: 'own';
  /** Base URL, without a trailing slash. */
  readonly server: string;
  /** PEM certificates to verify the server with; undefined: the system's roots. */
  readonly ca?: Buffer;
  readonly insecureSkipTlsVerify: boolean;
  /** The name to verify in the server's certificate (and send as SNI) when it is not the URL's host. */
  readonly tlsServerName?: string;
  readonly clientCert?: Buffer;
  readonly clientKey?: Buffer;
  /** The bearer token for the next request; a token file's copy is re-read once it is a minute old. */
  readonly token?: () => string;
}

/** A kubeconfig only the client library can read. */
export interface LibraryKubeconfig {
  readonly kind: 'library';
  /** The file for its loadFromFile; undefined: its loadFromDefault (which merges the $KUBECONFIG list). */
  readonly file: string | undefined;
  /** What Baton does not read itself, e.g. "user 'dev' has exec". */
  readonly reason: string;
}

export type ApiAccess = ClusterAccess | LibraryKubeconfig;

/** What the loader reads from the process; tests inject their own. */
export interface KubeconfigEnvironment {
  /** KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where the kubelet mounts a pod's ServiceAccount token and ca.crt. */
  readonly serviceAccountDir: string;
  /** Ages token files' copies. */
  readonly clock: Pick<Clock, 'now'>;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

// How old a token file's copy may get before it is read again. Bound ServiceAccount tokens rotate: the kubelet
// writes a new one once the old has lived 80% of its lifetime (10 min at the shortest), so a copy a minute stale
// is still valid. client-go and the client library wait the same minute.
const TOKEN_FILE_MAX_AGE_MS = 60_000;

// In-cluster ports the client library (so Baton until now) speaks plain http to: kubectl proxy's 8001, the
// API server's old insecure 8080, and 80. Kept so that a pod pointed at such a proxy keeps working.
const PLAIN_HTTP_PORTS: ReadonlySet<string> = new Set(['80', '8080', '8001']);

// What this loader reads of a cluster and of a user. Any other field is the library's business, and the whole
// kubeconfig goes to it rather than being half-read here. `extensions` is informational; kubectl ignores it too.
const CLUSTER_FIELDS: ReadonlySet<string> = new Set([
  'server',
  'certificate-authority',
  'certificate-authority-data',
  'insecure-skip-tls-verify',
  'tls-server-name',
  'extensions',
]);
const USER_FIELDS: ReadonlySet<string> = new Set([
  'token',
  'tokenFile',
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'extensions',
]);

// The yaml package adds about 2 MiB of RSS and 1 MiB of heap to a speaker, which in a pod reads no YAML, so it is
// loaded on the first kubeconfig file only. require() rather than import(): loading stays synchronous, and a bad kubeconfig stops
// the command before it starts anything, as it did with the library.
const requireModule = createRequire(import.meta.url);

type Fields = Record<string, unknown>;

/** The access the sources above give, first found wins; kubeconfigPath '' counts as not given. */
export function loadApiAccess(kubeconfigPath?: string, environment: Partial<KubeconfigEnvironment> = {}): ApiAccess {
  const { env = process.env, serviceAccountDir = SERVICE_ACCOUNT_DIR, clock = new SystemClock() } = environment;
  if (kubeconfigPath !== undefined && kubeconfigPath !== '') return fromKubeconfigFile(kubeconfigPath, clock);
  const listed = (env['KUBECONFIG'] ?? '').split(delimiter).filter((f) => f !== '');
  if (listed.length > 1) return { kind: 'library', file: undefined, reason: `$KUBECONFIG lists ${listed.length} files to merge` };
  if (listed[0] !== undefined) return fromKubeconfigFile(listed[0], clock);
  const home = env['HOME'];
  const homeConfig = home === undefined || home === '' ? undefined : join(home, '.kube', 'config');
  if (homeConfig !== undefined && existsSync(homeConfig)) return fromKubeconfigFile(homeConfig, clock);
  if (existsSync(join(serviceAccountDir, 'token'))) return inCluster(env, serviceAccountDir, clock);
  throw invalid(
    `no cluster access: no --kubeconfig, $KUBECONFIG is unset, ${homeConfig ?? '$HOME/.kube/config'} does not exist, and no ServiceAccount token is mounted at ${serviceAccountDir}`,
  );
}

/** Access to one server URL with an optional bearer token: kubectl proxy, a test's fake API server. */
export function accessForServer(server: string, token?: string): ClusterAccess {
  return { kind: 'own', server, insecureSkipTlsVerify: false, token: token === undefined ? undefined : () => token };
}

function inCluster(env: KubeconfigEnvironment['env'], dir: string, clock: KubeconfigEnvironment['clock']): ClusterAccess {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (host === undefined || host === '' || port === undefined || port === '') {
    throw invalid(`a ServiceAccount token is mounted at ${dir}, but KUBERNETES_SERVICE_HOST or KUBERNETES_SERVICE_PORT is not set`);
  }
  // A URL brackets an IPv6 address (RFC 3986): the port would be read as part of it otherwise.
  const urlHost = isIPv6(host) ? `[${host}]` : host;
  return {
    kind: 'own',
    server: `${PLAIN_HTTP_PORTS.has(port) ? 'http' : 'https'}://${urlHost}:${port}`,
    ca: readRequired(join(dir, 'ca.crt'), 'the ServiceAccount CA'),
    insecureSkipTlsVerify: false,
    token: tokenFromFile(join(dir, 'token'), clock),
  };
}

function fromKubeconfigFile(file: string, clock: KubeconfigEnvironment['clock']): ApiAccess {
  const text = readRequired(file, 'kubeconfig').toString('utf8');
  let doc: unknown;
  try {
    doc = (requireModule('yaml') as typeof Yaml).parse(text);
  } catch (err) {
    throw invalid(`${file} is neither YAML nor JSON: ${messageOf(err)}`, err);
  }
  if (!isFields(doc)) throw invalid(`${file} is not a kubeconfig: its top level is not a mapping`);
  const contextName = stringField(doc, 'current-context', file);
  if (contextName === undefined) throw invalid(`${file} has no current-context (kubectl config use-context <name> sets one)`);
  const context = entry(doc, 'contexts', 'context', contextName, file);
  const clusterName = stringField(context, 'cluster', `${file}: context '${contextName}'`);
  if (clusterName === undefined) throw invalid(`${file}: context '${contextName}' names no cluster`);
  const cluster = entry(doc, 'clusters', 'cluster', clusterName, file);
  // A context without a user is anonymous access, as with kubectl.
  const userName = stringField(context, 'user', `${file}: context '${contextName}'`);
  const user = userName === undefined ? {} : entry(doc, 'users', 'user', userName, file);
  const foreign =
    foreignField(cluster, CLUSTER_FIELDS, `cluster '${clusterName}'`) ??
    (userName === undefined ? undefined : foreignField(user, USER_FIELDS, `user '${userName}'`));
  if (foreign !== undefined) return { kind: 'library', file, reason: foreign };

  const dir = dirname(file);
  const where = `${file}: cluster '${clusterName}'`;
  const server = stringField(cluster, 'server', where);
  if (server === undefined) throw invalid(`${where} has no server`);
  if (!/^https?:\/\/./.test(server)) throw invalid(`${where}: server ${server} is not an http(s) URL`);
  const who = `${file}: user '${userName}'`;
  const tokenFile = stringField(user, 'tokenFile', who);
  const token = stringField(user, 'token', who);
  return {
    kind: 'own',
    server: server.replace(/\/$/, ''),
    ca: pem(cluster, 'certificate-authority', dir, where),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: stringField(cluster, 'tls-server-name', where),
    clientCert: pem(user, 'client-certificate', dir, who),
    clientKey: pem(user, 'client-key', dir, who),
    // Both given: the file's token wins, as in client-go ("the last successfully read value takes precedence").
    token: tokenFile !== undefined ? tokenFromFile(resolve(dir, tokenFile), clock) : token === undefined ? undefined : () => token,
  };
}

/** The `inner` mapping of the entry of doc[list] called name: contexts[].context, clusters[].cluster, users[].user. */
function entry(doc: Fields, list: string, inner: string, name: string, file: string): Fields {
  const entries = doc[list];
  const found = Array.isArray(entries) ? entries.find((e: unknown) => isFields(e) && e['name'] === name) : undefined;
  if (!isFields(found)) throw invalid(`${file}: ${inner} '${name}' is not among its ${list}`);
  // kubectl writes `user: {}` or `user: null` for a user with nothing set.
  const value = found[inner];
  return isFields(value) ? value : {};
}

/** Why the library must read this kubeconfig: the first set field this loader does not read, else undefined. */
function foreignField(fields: Fields, known: ReadonlySet<string>, what: string): string | undefined {
  const field = Object.keys(fields).find((k) => !known.has(k) && isSet(fields[k]));
  return field === undefined ? undefined : `${what} has ${field}`;
}

/** A certificate or key: the `<key>-data` field (base64, it overrides the file, as in client-go), else the file, relative to dir. */
function pem(fields: Fields, key: string, dir: string, where: string): Buffer | undefined {
  const data = stringField(fields, `${key}-data`, where);
  if (data !== undefined) return Buffer.from(data, 'base64');
  const file = stringField(fields, key, where);
  return file === undefined ? undefined : readRequired(resolve(dir, file), `${where}: ${key}`);
}

/**
 * The token in a file, read now and again on the first call once the copy is
 * TOKEN_FILE_MAX_AGE_MS old. A failed re-read keeps the last token, still
 * valid for a while (the kubelet replaces the file atomically, so this is a
 * moment's trouble), and the next call reads again.
 */
function tokenFromFile(file: string, clock: KubeconfigEnvironment['clock']): () => string {
  let token = readToken(file);
  let readAt = clock.now();
  return () => {
    if (clock.now() - readAt >= TOKEN_FILE_MAX_AGE_MS) {
      try {
        token = readToken(file);
        readAt = clock.now();
      } catch {
        // Kept: see above.
      }
    }
    return token;
  };
}

// Trimmed: a token file written by hand ends with a newline, and a newline in a header makes Node refuse the request.
function readToken(file: string): string {
  const token = readRequired(file, 'token file').toString('utf8').trim();
  if (token === '') throw invalid(`token file ${file} is empty`);
  return token;
}

function readRequired(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw invalid(`cannot read ${what} ${file}: ${messageOf(err)}`, err);
  }
}

/** A string field; undefined when absent, null or empty. */
function stringField(fields: Fields, key: string, where: string): string | undefined {
  const value = fields[key];
  if (!isSet(value)) return undefined;
  if (typeof value !== 'string') throw invalid(`${where}: ${key} is not a string`);
  return value;
}

// Absent, null and '' all mean "not set", as with kubectl: `kubectl config set` leaves empty fields behind.
function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function invalid(message: string, cause?: unknown): BatonError {
  return new BatonError('KUBECONFIG_INVALID', message, cause === undefined ? undefined : { cause });
}
