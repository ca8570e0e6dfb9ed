import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { silentLogger } from '../observability/logger.js';
import { FakeApiServer } from '../testing/fake-api-server.js';
import { FakeClock } from '../testing/fake-clock.js';
import { ApiClient, type RequestOutcome } from './api-client.js';
import { EVENT_CONCURRENCY, EventRecorder, type EventTarget } from './event-recorder.js';
import { accessForServer } from './kubeconfig.js';

// How long a test waits for something that takes milliseconds on an idle machine.
const PATIENCE_MS = 5_000;

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = performance.now() + PATIENCE_MS;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function service(name: string): EventTarget {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'apps', uid: `uid-${name}` } };
}

describe('EventRecorder', () => {
  let server: FakeApiServer;
  let client: ApiClient;
  const outcomes: RequestOutcome[] = [];
  /** Event creates the server has not answered yet, with their reasons. */
  let held: Array<{ res: ServerResponse; reason: string }> = [];
  let holding = false;
  const posted: string[] = [];

  before(async () => {
    server = await FakeApiServer.start();
    client = new ApiClient(accessForServer(server.url), { onRequest: (o) => outcomes.push(o) });
    server.intercept = (req, res, url) => {
      if (req.method !== 'POST' || !url.pathname.endsWith('/events')) return false;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const reason = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { reason: string }).reason;
        posted.push(reason);
        if (holding) held.push({ res, reason });
        else res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      });
      return true;
    };
  });

  beforeEach(() => {
    held = [];
    holding = false;
    posted.length = 0;
    outcomes.length = 0;
  });

  after(async () => {
    client.close();
    await server.close();
  });

  const release = (): void => {
    holding = false;
    for (const h of held.splice(0)) h.res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
  };

  it('keeps at most a few creates in flight, on the default lane, and writes the rest as they finish', async () => {
    const recorder = new EventRecorder(client, 'baton-controller', 'node-1', new FakeClock(), silentLogger());
    holding = true;
    for (let i = 0; i < 10; i++) recorder.record(service(`svc-${i}`), 'Normal', `Reason${i}`, 'm');
    await until('the first creates', () => held.length === EVENT_CONCURRENCY);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(held.length, EVENT_CONCURRENCY, 'no more than the bound in flight');
    assert.equal(recorder.inFlight, 10);
    release();
    await recorder.drained();
    assert.equal(posted.length, 10);
    assert.deepEqual(
      posted,
      Array.from({ length: 10 }, (_, i) => `Reason${i}`),
      'in order',
    );
    assert.ok(outcomes.every((o) => o.lane === 'default' && o.verb === 'create'));
    assert.equal(recorder.inFlight, 0);
  });

  it('drops the oldest queued events beyond its cap, counts them and logs once per burst', async () => {
    const lines: Array<{ msg: string; dropped?: number }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { msg: string }) });
    const recorder = new EventRecorder(client, 'baton-speaker', 'node-1', new FakeClock(), log, { concurrency: 1, maxQueued: 3 });
    holding = true;
    for (let i = 1; i <= 6; i++) recorder.record(service(`svc-${i}`), 'Normal', `E${i}`, 'm');
    // E1 in flight; E2..E4 queued; E5 and E6 push out E2 and E3.
    assert.equal(recorder.dropped, 2);
    assert.equal(recorder.inFlight, 4);
    await until('the first create', () => held.length === 1);
    release();
    await until('the rest', () => posted.length === 4);
    await recorder.drained();
    assert.deepEqual(posted, ['E1', 'E4', 'E5', 'E6']);
    const full = lines.filter((l) => l.msg.startsWith('event queue full'));
    assert.equal(full.length, 1, 'one warning for the burst');
    const caughtUp = lines.filter((l) => l.msg.startsWith('event queue caught up'));
    assert.deepEqual(
      caughtUp.map((l) => l.dropped),
      [2],
      'and one line with its count once the queue emptied',
    );
  });

  it('drops repeats of the same event on the same object within the dedupe window', async () => {
    const clock = new FakeClock();
    const recorder = new EventRecorder(client, 'baton-controller', 'node-1', clock, silentLogger());
    recorder.record(service('web'), 'Warning', 'PoolExhausted', 'no address left');
    recorder.record(service('web'), 'Warning', 'PoolExhausted', 'no address left');
    recorder.record(service('api'), 'Warning', 'PoolExhausted', 'no address left');
    await recorder.drained();
    assert.equal(posted.length, 2);
    await clock.advance(10 * 60_000);
    recorder.record(service('web'), 'Warning', 'PoolExhausted', 'no address left');
    await recorder.drained();
    assert.equal(posted.length, 3, 'a lasting problem is announced again after the window');
  });

  it('records Events of cluster-scoped objects in the default namespace', async () => {
    const recorder = new EventRecorder(client, 'baton-controller', 'node-1', new FakeClock(), silentLogger());
    recorder.record({ apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'Eip', metadata: { name: 'pool' } }, 'Normal', 'Accepted', 'ok');
    await recorder.drained();
    assert.equal(server.requests.at(-1)?.path, '/api/v1/namespaces/default/events');
  });
});
