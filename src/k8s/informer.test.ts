// The informer against a local fake API server over plain HTTP, on the real
// clock with small timings. Assertions are on counts and orderings, with
// lower bounds that hold however slow the machine (a timer never fires
// early) and upper bounds far above what an idle machine needs.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { SystemClock } from '../clock.js';
import { errorCode } from '../errors.js';
import { silentLogger } from '../observability/logger.js';
import { FakeApiServer, type StoredObject } from '../testing/fake-api-server.js';
import { ApiClient } from './api-client.js';
import { Informer, type InformerOptions } from './informer.js';
import { accessForServer } from './kubeconfig.js';

const CONFIGMAPS = '/api/v1/namespaces/ns/configmaps';
// How long a test waits for something that takes milliseconds on an idle machine.
const PATIENCE_MS = 5_000;

interface ConfigMap {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
}

function cm(name: string, v: string): StoredObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { app: 'test' } }, data: { v } };
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = performance.now() + PATIENCE_MS;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Rig {
  server: FakeApiServer;
  client: ApiClient;
  informer: Informer<ConfigMap>;
  /** "add a", "update a 2", "delete b", in the order the handlers saw them. */
  events: string[];
  retries: Array<{ delayMs: number; code: string | undefined }>;
  broken: number;
  resumed: number;
  /** Watch requests the server received, in order. */
  watches: () => Array<{ at: number }>;
}

const rigs: Rig[] = [];

async function rig(options: Partial<InformerOptions> = {}): Promise<Rig> {
  const server = await FakeApiServer.start();
  const client = new ApiClient(accessForServer(server.url));
  const r: Rig = {
    server,
    client,
    events: [],
    retries: [],
    broken: 0,
    resumed: 0,
    watches: () => server.requestsTo(CONFIGMAPS).filter((q) => q.query.get('watch') === 'true'),
    informer: new Informer<ConfigMap>({
      name: 'configmaps',
      client,
      path: CONFIGMAPS,
      labelSelector: 'app=test',
      clock: new SystemClock(),
      log: silentLogger(),
      backoff: { initialMs: 10, maxMs: 80 },
      onRetry: ({ delayMs, err }) => r.retries.push({ delayMs, code: errorCode(err) }),
      onBroken: () => r.broken++,
      onResumed: () => r.resumed++,
      ...options,
    }),
  };
  r.informer.on({
    add: (o) => r.events.push(`add ${o.metadata?.name}`),
    update: (o) => r.events.push(`update ${o.metadata?.name} ${o.data?.['v']}`),
    delete: (o) => r.events.push(`delete ${o.metadata?.name}`),
  });
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.informer.stop();
    r.client.close();
    await r.server.close();
  }
});

describe('Informer', () => {
  it('lists, then watches: adds, updates and deletes reach the handlers in order', async () => {
    const r = await rig();
    r.server.put(CONFIGMAPS, cm('a', '1'));
    r.server.put(CONFIGMAPS, cm('b', '1'));
    r.server.put(CONFIGMAPS, { metadata: { name: 'other', labels: { app: 'else' } } });
    await r.informer.start();
    assert.equal(r.informer.synced, true);
    assert.deepEqual(r.events, ['add a', 'add b'], 'the label selector applies');
    await until('the watch', () => r.server.openWatches === 1);

    r.server.put(CONFIGMAPS, cm('a', '2'));
    r.server.put(CONFIGMAPS, cm('c', '1'));
    r.server.remove(CONFIGMAPS, 'b');
    await until('three events', () => r.events.length === 5);
    assert.deepEqual(r.events, ['add a', 'add b', 'update a 2', 'add c', 'delete b']);
    assert.equal(r.informer.get('a', 'ns')?.data?.['v'], '2');
    assert.deepEqual(
      r.informer
        .list('ns')
        .map((o) => o.metadata?.name)
        .sort(),
      ['a', 'c'],
    );
    assert.deepEqual(r.informer.stats, { restarts: 0, errors: 0, relists: 1 });
  });

  it('freezes cached objects, all the way down', async () => {
    const r = await rig();
    r.server.put(CONFIGMAPS, cm('a', '1'));
    await r.informer.start();
    await until('the watch', () => r.server.openWatches === 1);
    r.server.put(CONFIGMAPS, cm('b', '1'));
    await until('b', () => r.informer.get('b', 'ns') !== undefined);
    for (const name of ['a', 'b']) {
      const obj = r.informer.get(name, 'ns');
      assert.ok(Object.isFrozen(obj) && Object.isFrozen(obj?.metadata) && Object.isFrozen(obj?.data), `${name} (listed or watched)`);
    }
  });

  for (const goneAs of ['status', 'event'] as const) {
    it(`relists on 410 Gone (${goneAs === 'status' ? 'HTTP status' : 'ERROR event'}), emitting deletes for objects that vanished meanwhile`, async () => {
      const r = await rig();
      r.server.goneAs = goneAs;
      r.server.put(CONFIGMAPS, cm('stays', '1'));
      r.server.put(CONFIGMAPS, cm('vanishes', '1'));
      await r.informer.start();
      await until('the watch', () => r.server.openWatches === 1);

      // The watch breaks, and while the informer cannot watch, things change and the server forgets its history.
      let refusing = true;
      r.server.intercept = (_req, res, url) => {
        if (!refusing || url.searchParams.get('watch') !== 'true') return false;
        res.writeHead(503).end();
        return true;
      };
      r.server.endWatches();
      await until('a refused watch', () => r.retries.length >= 1);
      r.server.remove(CONFIGMAPS, 'vanishes');
      r.server.put(CONFIGMAPS, cm('appears', '1'));
      r.server.compact();
      refusing = false;

      await until('the relist', () => r.informer.stats.relists === 2);
      await until('its events', () => r.events.length === 4);
      assert.deepEqual(r.events.slice(2).sort(), ['add appears', 'delete vanishes']);
      assert.deepEqual(
        r.informer
          .list()
          .map((o) => o.metadata?.name)
          .sort(),
        ['appears', 'stays'],
      );
      assert.equal(r.broken, 1, 'broken once');
      assert.equal(r.resumed, 1, 'current again after the relist');
      assert.ok(!r.retries.some((x) => x.code === 'K8S_GONE'), 'a Gone on a resumed watch is a relist, not a failure');
    });
  }

  it('backs off instead of relisting in a loop when even a fresh list is Gone at once', async () => {
    const r = await rig();
    r.server.intercept = (_req, res, url) => {
      if (url.searchParams.get('watch') !== 'true') return false;
      res.writeHead(410, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired' }));
      return true;
    };
    await r.informer.start();
    await sleep(300);
    const relists = r.informer.stats.relists;
    assert.ok(relists >= 2, 'it does relist');
    // Lower bounds of equal jitter with steps 10, 20, 40, 80, 80...: 5+10+20+40+40+40+40 ms already exceed 190 ms.
    assert.ok(relists <= 12, `but at the backoff's pace (${relists} relists in 300 ms)`);
    assert.ok(r.retries.every((x) => x.code === 'K8S_GONE'));
  });

  it('retries a watch that sent a generic ERROR event after a backoff, and keeps watching', async () => {
    const r = await rig();
    await r.informer.start();
    await until('the watch', () => r.server.openWatches === 1);
    r.server.sendToWatches({ type: 'ERROR', object: { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd is sad' } });
    await until('the retry', () => r.retries.length === 1);
    const [retry] = r.retries;
    assert.equal(retry?.code, 'K8S_SERVER_ERROR');
    assert.ok(retry !== undefined && retry.delayMs >= 5 && retry.delayMs <= 10, 'the first step: [initial/2, initial]');
    await until('a new watch', () => r.server.openWatches === 1 && r.watches().length === 2);
    r.server.put(CONFIGMAPS, cm('later', '1'));
    await until('the event after the retry', () => r.events.includes('add later'));
    assert.equal(r.informer.stats.errors, 1);
  });

  it('fails a malformed watch line with INFORMER_BAD_EVENT', async () => {
    const r = await rig();
    await r.informer.start();
    await until('the watch', () => r.server.openWatches === 1);
    r.server.sendToWatches('this is not json');
    await until('the retry', () => r.retries.length === 1);
    assert.equal(r.retries[0]?.code, 'INFORMER_BAD_EVENT');
  });

  it('grows its backoff, caps it, and jitters each pause within [step/2, step]', async () => {
    const r = await rig({ backoff: { initialMs: 8, maxMs: 64 } });
    r.server.intercept = (_req, res, url) => {
      if (url.searchParams.get('watch') !== 'true') return false;
      res.writeHead(503).end();
      return true;
    };
    await r.informer.start();
    await until('seven retries', () => r.retries.length >= 7);
    const steps = [8, 16, 32, 64, 64, 64, 64];
    steps.forEach((step, i) => {
      const d = r.retries[i]?.delayMs ?? -1;
      assert.ok(d >= step / 2 && d <= step, `pause ${i + 1}: ${d} ms within [${step / 2}, ${step}]`);
    });
    assert.ok(new Set(r.retries.map((x) => x.delayMs)).size > 1, 'jittered, not fixed');
    const at = r.watches().map((w) => w.at);
    for (let i = 0; i + 1 < 7; i++) {
      const gap = (at[i + 1] ?? 0) - (at[i] ?? 0);
      assert.ok(gap >= (r.retries[i]?.delayMs ?? 0) - 1, `attempt ${i + 2} came after its pause (gap ${gap} ms)`);
    }
  });

  it('resets its backoff after a watch that worked', async () => {
    const r = await rig({ backoff: { initialMs: 10, maxMs: 1_000 } });
    let refusing = true;
    r.server.intercept = (_req, res, url) => {
      if (!refusing || url.searchParams.get('watch') !== 'true') return false;
      res.writeHead(503).end();
      return true;
    };
    await r.informer.start();
    await until('four refusals', () => r.retries.length === 4);
    refusing = false;
    await until('a watch', () => r.server.openWatches === 1);
    r.server.put(CONFIGMAPS, cm('proof', '1'));
    await until('an event on it', () => r.events.includes('add proof'));
    refusing = true;
    r.server.endWatches();
    await until('the next refusal', () => r.retries.length === 5);
    const delays = r.retries.map((x) => x.delayMs);
    assert.ok((delays[3] ?? 0) >= 40, `before: the fourth pause had grown to step 80 (${delays[3]} ms)`);
    assert.ok((delays[4] ?? Number.POSITIVE_INFINITY) <= 10, `after: back to the first step (${delays[4]} ms)`);
  });

  it('does not hot-loop on a watch the server ends right after opening (200, then EOF)', async () => {
    const r = await rig({ backoff: { initialMs: 50, maxMs: 200 } });
    r.server.intercept = (_req, res, url) => {
      if (url.searchParams.get('watch') !== 'true') return false;
      res.writeHead(200, { 'content-type': 'application/json' }).end();
      return true;
    };
    await r.informer.start();
    await sleep(600);
    const watches = r.watches().length;
    assert.ok(watches >= 2, 'it retries');
    // Lower bounds of the pauses: 25 + 50 + 100 + 100 + 100 + 100 ms already exceed 450 ms; a hot loop makes hundreds.
    assert.ok(watches <= 10, `at the backoff's pace (${watches} watches in 600 ms)`);
    assert.ok(r.retries.every((x) => x.code === 'INFORMER_WATCH_TOO_SHORT'));
    assert.equal(r.broken, 1, 'the cache is broken once, not flapping each time the proxy answers 200');
    assert.equal(r.resumed, 0);
  });

  it('abandons a watch that goes silent for idleTimeoutMs, or whose answer never comes', async () => {
    for (const mode of ['headers only', 'no answer'] as const) {
      const r = await rig({ idleTimeoutMs: 100 });
      let first = true;
      r.server.intercept = (_req, res, url) => {
        if (url.searchParams.get('watch') !== 'true' || !first) return false;
        first = false;
        if (mode === 'headers only') res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
        return true;
      };
      const started = performance.now();
      await r.informer.start();
      await until('the retry', () => r.retries.length === 1);
      assert.equal(r.retries[0]?.code, 'INFORMER_WATCH_IDLE', mode);
      assert.ok(performance.now() - started >= 100, 'not before the idle limit');
      await until('a working watch', () => r.server.openWatches === 1);
    }
  });

  it('stop() aborts the open watch and ends the loop, also during a backoff pause', async () => {
    const r = await rig();
    await r.informer.start();
    await until('the watch', () => r.server.openWatches === 1);
    await r.informer.stop();
    await until('the server to see the watch closed', () => r.server.openWatches === 0);
    const requests = r.server.requests.length;
    await sleep(100);
    assert.equal(r.server.requests.length, requests, 'nothing after stop()');
    assert.equal(r.retries.length, 0, 'stopping is not a failure');

    const pausing = await rig({ backoff: { initialMs: 10_000, maxMs: 10_000 } });
    pausing.server.intercept = (_req, res, url) => {
      if (url.searchParams.get('watch') !== 'true') return false;
      res.writeHead(503).end();
      return true;
    };
    await pausing.informer.start();
    await until('the first failure', () => pausing.retries.length === 1);
    const started = performance.now();
    await pausing.informer.stop();
    assert.ok(performance.now() - started < 1_000, 'stop() does not wait out a 5-10 s pause');
  });
});
