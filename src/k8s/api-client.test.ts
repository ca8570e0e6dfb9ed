import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { FakeApiServer } from '../testing/fake-api-server.js';
import { ApiClient, type ApiClientOptions, type RequestOutcome } from './api-client.js';
import { ApiError } from './api-error.js';
import { accessForServer, loadApiAccess } from './kubeconfig.js';

// Generous on purpose: only "long before the stuck request's own deadline" matters, on however busy a machine.
const STUCK_DEADLINE_MS = 5_000;
const BEFORE_THE_STUCK_ONE_MS = 2_500;

describe('ApiClient', () => {
  let server: FakeApiServer;
  /** Requests to /hang are never answered; the responses are kept so they can be ended at the end. */
  const held: ServerResponse[] = [];

  before(async () => {
    server = await FakeApiServer.start();
    server.intercept = (_req, res, url) => {
      if (url.pathname === '/hang') {
        held.push(res);
        return true;
      }
      if (url.pathname === '/ok') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        return true;
      }
      const m = /^\/status\/(\d+)\/(\w*)$/.exec(url.pathname);
      if (m !== null) {
        const code = Number(m[1]);
        const body = m[2] === 'raw' ? 'upstream connect error' : JSON.stringify({ kind: 'Status', code, reason: m[2], message: 'refused' });
        res.writeHead(code, { 'content-type': 'application/json' }).end(body);
        return true;
      }
      return false;
    };
  });

  after(async () => {
    for (const res of held) res.destroy();
    await server.close();
  });

  const clientFor = (options: ApiClientOptions = {}, url = server.url): ApiClient => new ApiClient(accessForServer(url), options);

  it('maps each refusal to its stable code, keeping the status and the Status reason', async () => {
    const client = clientFor();
    const table: Array<[number, string, string]> = [
      [400, 'BadRequest', 'K8S_BAD_REQUEST'],
      [401, 'Unauthorized', 'K8S_UNAUTHORIZED'],
      [403, 'Forbidden', 'K8S_FORBIDDEN'],
      [404, 'NotFound', 'K8S_NOT_FOUND'],
      [409, 'AlreadyExists', 'K8S_ALREADY_EXISTS'],
      [409, 'Conflict', 'K8S_CONFLICT'],
      [410, 'Expired', 'K8S_GONE'],
      [422, 'Invalid', 'K8S_INVALID'],
      [429, 'TooManyRequests', 'K8S_TOO_MANY_REQUESTS'],
      [500, 'InternalError', 'K8S_SERVER_ERROR'],
      [503, 'ServiceUnavailable', 'K8S_UNAVAILABLE'],
      [504, 'Timeout', 'K8S_TIMEOUT'],
    ];
    try {
      for (const [status, reason, code] of table) {
        await assert.rejects(
          client.get(`/status/${status}/${reason}`),
          (err: unknown) => err instanceof ApiError && err.code === code && err.status === status && err.reason === reason,
          `${status} ${reason} -> ${code}`,
        );
      }
      await assert.rejects(client.get('/status/502/raw'), (err: unknown) => {
        assert.ok(err instanceof ApiError);
        assert.equal(err.code, 'K8S_SERVER_ERROR');
        assert.match(err.message, /upstream connect error/, 'a body that is not a Status is kept as the message');
        return true;
      });
    } finally {
      client.close();
    }
  });

  it('reports a refused connection as K8S_CONNECTION_FAILED with status 0', async () => {
    const gone = await FakeApiServer.start();
    const url = gone.url;
    await gone.close();
    const client = clientFor({}, url);
    await assert.rejects(client.get('/ok'), { name: 'ApiError', code: 'K8S_CONNECTION_FAILED', status: 0 });
    client.close();
  });

  it('fails a request the server never answers at its deadline, with K8S_TIMEOUT', async () => {
    const client = clientFor();
    const started = performance.now();
    await assert.rejects(client.request({ verb: 'get', path: '/hang', timeoutMs: 150 }), { code: 'K8S_TIMEOUT', status: 0 });
    const waited = performance.now() - started;
    assert.ok(waited >= 150, `not before its deadline (${waited} ms)`);
    assert.ok(waited < BEFORE_THE_STUCK_ONE_MS, `not much after it (${waited} ms)`);
    client.close();
  });

  it('counts queueing against the deadline: a request stuck behind another on a 1-socket lane fails at its own deadline', async () => {
    const client = clientFor({ laneSockets: { leases: 1 } });
    const stuck = client.request({ verb: 'get', path: '/hang', lane: 'leases', timeoutMs: STUCK_DEADLINE_MS }).catch((err: unknown) => err);
    const started = performance.now();
    await assert.rejects(client.request({ verb: 'get', path: '/ok', lane: 'leases', timeoutMs: 200 }), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 'K8S_TIMEOUT');
      assert.match(err.message, /no answer within 200 ms, all of it waiting for a free connection on lane 'leases'/);
      return true;
    });
    const waited = performance.now() - started;
    assert.ok(waited >= 200 && waited < BEFORE_THE_STUCK_ONE_MS, `failed at its own deadline, not the stuck one's (${waited} ms)`);
    assert.equal(server.requestsTo('/ok').length, 0, 'it never left the queue');

    held.pop()?.writeHead(200, { 'content-type': 'application/json' }).end('{"late":true}');
    assert.deepEqual(await stuck, { late: true }, 'the stuck request still gets its answer');
    assert.deepEqual(
      await client.request({ verb: 'get', path: '/ok', lane: 'leases', timeoutMs: 1_000 }),
      { ok: true },
      'and the lane serves again',
    );
    client.close();
  });

  it('fails every request in flight when closed, queued ones too', async () => {
    const client = clientFor({ laneSockets: { default: 1 } });
    const pending = [1, 2].map(() =>
      client.request({ verb: 'get', path: '/hang', timeoutMs: STUCK_DEADLINE_MS }).catch((err: unknown) => err),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    client.close();
    for (const err of await Promise.all(pending)) assert.ok(err instanceof ApiError && err.code === 'K8S_CONNECTION_FAILED');
    assert.ok(performance.now() - started < BEFORE_THE_STUCK_ONE_MS);
  });

  it('keeps lanes independent: a blocked default lane does not delay a liveness renewal or a lease write', async () => {
    const outcomes: RequestOutcome[] = [];
    const client = clientFor({ laneSockets: { default: 1 }, onRequest: (o) => outcomes.push(o) });
    const stuck = [1, 2, 3].map(() =>
      client.request({ verb: 'get', path: '/hang', timeoutMs: STUCK_DEADLINE_MS }).catch((err: unknown) => err),
    );
    const started = performance.now();
    assert.deepEqual(await client.request({ verb: 'get', path: '/ok', lane: 'liveness', timeoutMs: 1_000 }), { ok: true });
    assert.deepEqual(await client.request({ verb: 'get', path: '/ok', lane: 'leases', timeoutMs: 1_000 }), { ok: true });
    assert.ok(performance.now() - started < BEFORE_THE_STUCK_ONE_MS);
    assert.deepEqual(
      outcomes.map((o) => [o.lane, o.status]),
      [
        ['liveness', 200],
        ['leases', 200],
      ],
    );
    client.close();
    await Promise.all(stuck);
  });

  it('calls onRequest once for every request, whatever its outcome, watches included', async () => {
    const outcomes: RequestOutcome[] = [];
    const client = clientFor({ onRequest: (o) => outcomes.push(o) });
    await client.get('/ok');
    await client.create('/status/409/AlreadyExists', {}).catch(() => undefined);
    await client.request({ verb: 'update', path: '/hang', lane: 'leases', timeoutMs: 50 }).catch(() => undefined);
    const abort = new AbortController();
    const res = await client.watch({ path: '/api/v1/namespaces/ns/configmaps', signal: abort.signal });
    abort.abort(new Error('test done'));
    res.destroy();
    assert.deepEqual(
      outcomes.map((o) => [o.verb, o.lane, o.status]),
      [
        ['get', 'default', 200],
        ['create', 'default', 409],
        ['update', 'leases', 0],
        ['watch', 'watch', 200],
      ],
    );
    assert.ok(outcomes.every((o) => o.durationMs >= 0));
    client.close();
  });

  it('speaks plain http with the kubeconfig credentials, as kubectl does to kubectl proxy', async () => {
    let authorization: string | undefined;
    const seen = await FakeApiServer.start();
    seen.intercept = (req, res) => {
      authorization = req.headers.authorization;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return true;
    };
    const client = new ApiClient(accessForServer(seen.url, 'secret-token'));
    try {
      assert.deepEqual(await client.get('/api/v1/namespaces'), {});
      assert.equal(authorization, 'Bearer secret-token');
    } finally {
      client.close();
      await seen.close();
    }
  });

  it('speaks plain http with credentials only the client library reads, through its skipTLSVerify view', async () => {
    let authorization: string | undefined;
    const seen = await FakeApiServer.start();
    seen.intercept = (req, res) => {
      authorization = req.headers.authorization;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return true;
    };
    const dir = mkdtempSync(join(tmpdir(), 'baton-api-client-'));
    const file = join(dir, 'config');
    writeFileSync(
      file,
      stringify({
        'current-context': 'ctx',
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
        clusters: [{ name: 'c', cluster: { server: seen.url } }],
        users: [{ name: 'u', user: { username: 'admin', password: 'pw' } }],
      }),
    );
    const access = loadApiAccess(file);
    assert.equal(access.kind, 'library');
    const client = new ApiClient(access);
    try {
      assert.deepEqual(await client.get('/api/v1/namespaces'), {});
      assert.equal(authorization, `Basic ${Buffer.from('admin:pw').toString('base64')}`);
    } finally {
      client.close();
      await seen.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a watch the server refuses with its ApiError (410: K8S_GONE)', async () => {
    const client = clientFor();
    await assert.rejects(client.watch({ path: '/status/410/Expired', signal: new AbortController().signal }), {
      code: 'K8S_GONE',
      status: 410,
    });
    client.close();
  });
});
