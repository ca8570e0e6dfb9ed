import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { accessForServer, type ClusterAccess } from './kubeconfig.js';
import { type CredentialOptions, credentialsFor } from './request-credentials.js';

// dist/src/k8s/request-credentials.test.js -> dist/src/: the modules the image ships, as Node loads them.
const SHIPPED = fileURLToPath(new URL('../', import.meta.url));

describe('credentialsFor', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'baton-credentials-'));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const applied = async (access: Parameters<typeof credentialsFor>[0]): Promise<CredentialOptions> => {
    const opts: CredentialOptions = { headers: { accept: 'application/json' } };
    await (await credentialsFor(access)).apply(opts);
    return opts;
  };

  it("sets Baton's own access as TLS options and a bearer token, on the headers object the client sends", async () => {
    const access: ClusterAccess = {
      kind: 'own',
      server: 'https://api.example:6443',
      ca: Buffer.from('ca'),
      clientCert: Buffer.from('cert'),
      clientKey: Buffer.from('key'),
      tlsServerName: 'kubernetes.default',
      insecureSkipTlsVerify: false,
      token: () => 'tok',
    };
    const opts = await applied(access);
    assert.equal((await credentialsFor(access)).server, 'https://api.example:6443');
    assert.deepEqual(opts.ca, Buffer.from('ca'));
    assert.deepEqual(opts.cert, Buffer.from('cert'));
    assert.deepEqual(opts.key, Buffer.from('key'));
    assert.equal(opts.servername, 'kubernetes.default');
    assert.equal(opts.rejectUnauthorized, undefined, 'left to Node (and NODE_TLS_REJECT_UNAUTHORIZED) unless skipped');
    assert.deepEqual(opts.headers, { accept: 'application/json', authorization: 'Bearer tok' });
    assert.equal((await applied({ ...access, insecureSkipTlsVerify: true })).rejectUnauthorized, false);
  });

  it('builds one TLS context for every connection when the certificates make one, and none when they do not', async () => {
    const access: ClusterAccess = {
      kind: 'own',
      server: 'https://api.example:6443',
      ca: Buffer.from(rootCertificates[0] as string),
      insecureSkipTlsVerify: false,
    };
    const credentials = await credentialsFor(access);
    const first: CredentialOptions = { headers: {} };
    const second: CredentialOptions = { headers: {} };
    await credentials.apply(first);
    await credentials.apply(second);
    assert.ok(first.secureContext !== undefined, 'a context from the CA');
    assert.equal(second.secureContext, first.secureContext, 'the same context, not one per connection');
    assert.deepEqual(second.ca, access.ca, 'the CA stays set: the agent pools connections by it');
    // Not certificates at all: each connection meets them as before (and fails on them with its own error).
    const fake = await applied({ ...access, ca: Buffer.from('ca'), clientCert: Buffer.from('cert'), clientKey: Buffer.from('key') });
    assert.equal(fake.secureContext, undefined);
    assert.deepEqual(fake.cert, Buffer.from('cert'));
  });

  it('sends only the token to a plain-http server: there is no TLS to set up', async () => {
    const opts = await applied({ ...accessForServer('http://127.0.0.1:8001', 'tok'), ca: Buffer.from('ca') });
    assert.equal(opts.ca, undefined);
    assert.equal(opts.headers['authorization'], 'Bearer tok');
  });

  it('hands a kubeconfig it does not read to the client library, and codes the library refusing it', async () => {
    const file = join(dir, 'basic');
    writeFileSync(
      file,
      stringify({
        'current-context': 'ctx',
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
        clusters: [{ name: 'c', cluster: { server: 'https://api.example:6443' } }],
        users: [{ name: 'u', user: { username: 'admin', password: 'pw' } }],
      }),
    );
    const credentials = await credentialsFor({ kind: 'library', file, reason: "user 'u' has username" });
    assert.equal(credentials.server, 'https://api.example:6443');
    const opts: CredentialOptions = { headers: {} };
    await credentials.apply(opts);
    assert.equal(opts.auth, 'admin:pw');
    await assert.rejects(credentialsFor({ kind: 'library', file: join(dir, 'absent'), reason: 'test' }), {
      code: 'KUBECONFIG_INVALID',
      message: /read by the client library: test/,
    });
  });

  it('is the only shipped module that loads the client library, and only by a lazy import()', () => {
    // Compiled JavaScript, so type-only imports are gone: what is left is what Node loads with the speaker.
    const loaders = readdirSync(SHIPPED, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.js') && !f.endsWith('.test.js') && !f.startsWith('testing'))
      .filter((f) => readFileSync(join(SHIPPED, f), 'utf8').includes('@kubernetes/client-node'));
    assert.deepEqual(loaders, [relative(SHIPPED, fileURLToPath(new URL('./request-credentials.js', import.meta.url)))]);
    const text = readFileSync(new URL('./request-credentials.js', import.meta.url), 'utf8');
    assert.doesNotMatch(text, /from '@kubernetes\/client-node'/, 'a static import would load it with the speaker');
    assert.match(text, /await import\('@kubernetes\/client-node'\)/);
  });
});
