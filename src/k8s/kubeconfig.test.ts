import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify as yaml } from 'yaml';
import { FakeClock } from '../testing/fake-clock.js';
import { type ApiAccess, type ClusterAccess, type KubeconfigEnvironment, loadApiAccess } from './kubeconfig.js';

const CA = '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** A kubeconfig with one context `ctx` joining cluster `c` and user `u`. */
function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown> | undefined): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'ctx',
    contexts: [{ name: 'ctx', context: { cluster: 'c', ...(user !== undefined ? { user: 'u' } : {}) } }],
    clusters: [{ name: 'c', cluster }],
    users: user !== undefined ? [{ name: 'u', user }] : [],
  };
}

function own(access: ApiAccess): ClusterAccess {
  assert.equal(access.kind, 'own', access.kind === 'library' ? access.reason : '');
  return access as ClusterAccess;
}

describe('loadApiAccess', () => {
  let root: string;
  let n = 0;
  /** A fresh directory under the test's root. */
  const dir = (): string => {
    const d = join(root, String(n++));
    mkdirSync(d, { recursive: true });
    return d;
  };
  const write = (path: string, text: string): string => {
    writeFileSync(path, text);
    return path;
  };
  /** Nothing found by default: no $KUBECONFIG, a HOME without .kube, no ServiceAccount mount. */
  const nowhere = (extra: Partial<KubeconfigEnvironment> = {}): Partial<KubeconfigEnvironment> => ({
    env: { HOME: dir() },
    serviceAccountDir: join(dir(), 'serviceaccount'),
    clock: new FakeClock(),
    ...extra,
  });

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'baton-kubeconfig-'));
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  /** A mounted ServiceAccount: its directory, with a token and a CA. */
  const serviceAccount = (token = 'sa-token'): string => {
    const sa = dir();
    write(join(sa, 'token'), token);
    write(join(sa, 'ca.crt'), CA);
    return sa;
  };

  it('reads in-cluster access from the ServiceAccount mount and the service variables', () => {
    const access = own(
      loadApiAccess(
        undefined,
        nowhere({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: serviceAccount() }),
      ),
    );
    assert.equal(access.server, 'https://10.96.0.1:443');
    assert.equal(access.ca?.toString(), CA);
    assert.equal(access.insecureSkipTlsVerify, false);
    assert.equal(access.token?.(), 'sa-token');
    assert.equal(access.clientCert, undefined);
  });

  it('brackets an IPv6 service host in the server URL', () => {
    const access = own(
      loadApiAccess(
        undefined,
        nowhere({ env: { KUBERNETES_SERVICE_HOST: 'fd00:10:96::1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: serviceAccount() }),
      ),
    );
    assert.equal(access.server, 'https://[fd00:10:96::1]:443');
    assert.equal(new URL('/api', access.server).hostname, '[fd00:10:96::1]');
  });

  it('refuses a mounted token without the service variables, with a coded error', () => {
    assert.throws(() => loadApiAccess(undefined, nowhere({ env: {}, serviceAccountDir: serviceAccount() })), {
      code: 'KUBECONFIG_INVALID',
      message: /KUBERNETES_SERVICE_HOST/,
    });
  });

  it('reads a kubeconfig with inline certificates, a token, tls-server-name and insecure-skip-tls-verify', () => {
    const file = write(
      join(dir(), 'config'),
      yaml(
        kubeconfig(
          {
            server: 'https://api.example:6443/',
            'certificate-authority-data': b64(CA),
            'tls-server-name': 'kubernetes.default',
            'insecure-skip-tls-verify': true,
          },
          { 'client-certificate-data': b64(CERT), 'client-key-data': b64(KEY), token: 'static-token' },
        ),
      ),
    );
    const access = own(loadApiAccess(file, nowhere()));
    assert.equal(access.server, 'https://api.example:6443', 'the trailing slash goes, as with the library');
    assert.equal(access.ca?.toString(), CA);
    assert.equal(access.clientCert?.toString(), CERT);
    assert.equal(access.clientKey?.toString(), KEY);
    assert.equal(access.tlsServerName, 'kubernetes.default');
    assert.equal(access.insecureSkipTlsVerify, true);
    assert.equal(access.token?.(), 'static-token');
  });

  it('reads a JSON kubeconfig, and a context without a user as anonymous', () => {
    const file = write(join(dir(), 'config.json'), JSON.stringify(kubeconfig({ server: 'http://127.0.0.1:8001' }, undefined)));
    const access = own(loadApiAccess(file, nowhere()));
    assert.equal(access.server, 'http://127.0.0.1:8001');
    assert.equal(access.token, undefined);
  });

  it('resolves relative certificate, key and token files against the kubeconfig directory', () => {
    const d = dir();
    mkdirSync(join(d, 'pki'));
    write(join(d, 'pki', 'ca.pem'), CA);
    write(join(d, 'pki', 'client.pem'), CERT);
    write(join(d, 'pki', 'client.key'), KEY);
    write(join(d, 'token'), 'file-token\n');
    const file = write(
      join(d, 'config'),
      yaml(
        kubeconfig(
          { server: 'https://api.example:6443', 'certificate-authority': 'pki/ca.pem' },
          { 'client-certificate': 'pki/client.pem', 'client-key': './pki/client.key', tokenFile: 'token' },
        ),
      ),
    );
    const access = own(loadApiAccess(file, nowhere()));
    assert.equal(access.ca?.toString(), CA);
    assert.equal(access.clientCert?.toString(), CERT);
    assert.equal(access.clientKey?.toString(), KEY);
    assert.equal(access.token?.(), 'file-token', 'read from the directory and trimmed');
  });

  it('re-reads a token file once its copy is 60 s old, and keeps the last token when a re-read fails', async () => {
    const d = dir();
    const tokenFile = write(join(d, 'token'), 'first');
    const file = write(join(d, 'config'), yaml(kubeconfig({ server: 'https://api.example:6443' }, { tokenFile })));
    const clock = new FakeClock();
    const token = own(loadApiAccess(file, nowhere({ clock }))).token;
    assert.ok(token !== undefined);
    write(tokenFile, 'second');
    await clock.advance(59_999);
    assert.equal(token(), 'first', 'a copy younger than a minute is used as it is');
    await clock.advance(1);
    assert.equal(token(), 'second');
    unlinkSync(tokenFile);
    await clock.advance(60_000);
    assert.equal(token(), 'second', 'the kubelet swaps the file atomically: a failed read is a moment, not a lost token');
    write(tokenFile, 'third');
    assert.equal(token(), 'third', 'the next call reads again');
  });

  it('re-reads the in-cluster token on the same schedule', async () => {
    const sa = serviceAccount('one');
    const clock = new FakeClock();
    const token = own(
      loadApiAccess(
        undefined,
        nowhere({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: sa, clock }),
      ),
    ).token;
    write(join(sa, 'token'), 'two');
    assert.equal(token?.(), 'one');
    await clock.advance(60_000);
    assert.equal(token?.(), 'two');
  });

  it('refuses a kubeconfig without current-context, or naming what it does not define, with a coded error', () => {
    const d = dir();
    const noContext = { ...kubeconfig({ server: 'https://api.example:6443' }, {}), 'current-context': undefined };
    assert.throws(() => loadApiAccess(write(join(d, 'a'), JSON.stringify(noContext)), nowhere()), {
      name: 'BatonError',
      code: 'KUBECONFIG_INVALID',
      message: /has no current-context/,
    });
    const missingUser = { ...kubeconfig({ server: 'https://api.example:6443' }, {}), users: [] };
    assert.throws(() => loadApiAccess(write(join(d, 'b'), JSON.stringify(missingUser)), nowhere()), {
      code: 'KUBECONFIG_INVALID',
      message: /user 'u' is not among its users/,
    });
    assert.throws(() => loadApiAccess(write(join(d, 'c'), yaml(kubeconfig({}, {}))), nowhere()), {
      code: 'KUBECONFIG_INVALID',
      message: /cluster 'c' has no server/,
    });
    assert.throws(() => loadApiAccess(write(join(d, 'd'), 'clusters: [unclosed'), nowhere()), { code: 'KUBECONFIG_INVALID' });
    assert.throws(() => loadApiAccess(join(d, 'absent'), nowhere()), { code: 'KUBECONFIG_INVALID', message: /cannot read kubeconfig/ });
  });

  it('hands a kubeconfig whose user runs exec, or anything else it does not read, to the client library', () => {
    const d = dir();
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', command: 'aws', args: ['eks', 'get-token'] };
    const file = write(join(d, 'exec'), yaml(kubeconfig({ server: 'https://api.example:6443' }, { exec })));
    assert.deepEqual(loadApiAccess(file, nowhere()), { kind: 'library', file, reason: "user 'u' has exec" });
    const basic = write(join(d, 'basic'), yaml(kubeconfig({ server: 'https://api.example:6443' }, { username: 'admin', password: 'pw' })));
    assert.equal(loadApiAccess(basic, nowhere()).kind, 'library');
    const proxied = write(join(d, 'proxy'), yaml(kubeconfig({ server: 'https://api.example:6443', 'proxy-url': 'http://proxy:3128' }, {})));
    assert.deepEqual(loadApiAccess(proxied, nowhere()), { kind: 'library', file: proxied, reason: "cluster 'c' has proxy-url" });
    const unset = write(
      join(d, 'unset'),
      yaml(kubeconfig({ server: 'https://api.example:6443', extensions: [] }, { exec: null, username: '' })),
    );
    assert.equal(loadApiAccess(unset, nowhere()).kind, 'own', 'null and empty fields are not set; extensions are informational');
  });

  it('takes the sources in the library order: --kubeconfig, $KUBECONFIG, ~/.kube/config, in-cluster', () => {
    const kc = (server: string): string => write(join(dir(), 'config'), yaml(kubeconfig({ server }, { token: 't' })));
    const home = dir();
    mkdirSync(join(home, '.kube'));
    write(join(home, '.kube', 'config'), yaml(kubeconfig({ server: 'https://home:6443' }, {})));
    const inCluster = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const everything = (env: Record<string, string>): Partial<KubeconfigEnvironment> =>
      nowhere({ env: { ...inCluster, HOME: home, ...env }, serviceAccountDir: serviceAccount() });
    const server = (access: ApiAccess): string => own(access).server;

    const fromEnv = kc('https://env:6443');
    assert.equal(server(loadApiAccess(kc('https://flag:6443'), everything({ KUBECONFIG: fromEnv }))), 'https://flag:6443');
    assert.equal(server(loadApiAccess('', everything({ KUBECONFIG: fromEnv }))), 'https://env:6443', "'' is no --kubeconfig");
    assert.equal(server(loadApiAccess(undefined, everything({}))), 'https://home:6443');
    assert.equal(server(loadApiAccess(undefined, everything({ HOME: dir() }))), 'https://10.96.0.1:443');
    assert.deepEqual(loadApiAccess(undefined, everything({ KUBECONFIG: `${fromEnv}:${kc('https://other:6443')}` })), {
      kind: 'library',
      file: undefined,
      reason: '$KUBECONFIG lists 2 files to merge',
    });
    assert.throws(() => loadApiAccess(undefined, nowhere()), { code: 'KUBECONFIG_INVALID', message: /no cluster access/ });
  });
});
