import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { silentLogger } from '../observability/logger.js';
import { BeatWire, CountingMetrics as Counting, type CountingMetrics, beatCluster as cluster, KEY } from '../testing/beat-lan.js';
import { FakeClock } from '../testing/fake-clock.js';
import { encodeBeat } from './beat-codec.js';
import { BeatExchange, type BeatPlan, PLAN_IDLE_REFRESH_MS, WATCHED_REFRESH_MIN_MS, WATCHER_GRACE_MS } from './beat-exchange.js';
import { DEFAULT_BEAT_TIMING, silenceMs } from './beat-tracker.js';
import { standbysOf } from './beat-watchers.js';

const SILENCE_MS = silenceMs(DEFAULT_BEAT_TIMING);
const NAMES = ['node-a', 'node-b', 'node-c', 'node-d', 'node-e'];
const IP = '192.0.2.200';

/** node-a alone on a fake clock, with the plan given: for tests of how often it asks the plan. */
function started(plan: Omit<BeatPlan, 'endpoint'>): { clock: FakeClock; exchange: BeatExchange } {
  const clock = new FakeClock(0, Date.UTC(2026, 11, 4));
  const wire = new BeatWire();
  const exchange = new BeatExchange({
    me: 'node-a',
    clock,
    log: silentLogger(),
    key: KEY,
    transport: wire.transport('node-a'),
    plan: { ...plan, endpoint: (n) => ({ host: n, port: 7474 }) },
    metrics: new Counting(),
    onChange: () => {},
  });
  wire.nodes.set('node-a', exchange);
  exchange.start();
  return { clock, exchange };
}

describe('BeatExchange', () => {
  it('a holder that stops beating is called silent by its standbys within the silence window plus one tick, and by nobody else', async () => {
    const c = cluster(NAMES, { [IP]: 'node-a' });
    c.startAll();
    await c.clock.advance(2_000);
    assert.equal(c.changes.length, 0, 'a beating holder is never silent');
    const standbys = standbysOf(IP, 'node-a', NAMES);
    assert.equal(standbys.length, 2);
    for (const s of standbys) assert.equal(c.node(s).isSilent('node-a'), false);
    const crashAt = c.clock.now();
    c.node('node-a').stop();
    await c.clock.advance(SILENCE_MS + 2 * DEFAULT_BEAT_TIMING.intervalMs);
    const silenced = c.changes.filter((x) => x.silent);
    assert.deepEqual(silenced.map((x) => x.node).sort(), [...standbys].sort(), 'exactly the standbys notice');
    for (const x of silenced) {
      assert.equal(x.holder, 'node-a');
      const after = x.at - crashAt;
      assert.ok(
        after >= SILENCE_MS - DEFAULT_BEAT_TIMING.intervalMs && after <= SILENCE_MS + DEFAULT_BEAT_TIMING.intervalMs,
        `${after} ms`,
      );
    }
    const others = NAMES.filter((n) => n !== 'node-a' && !standbys.includes(n));
    for (const n of others) assert.equal(c.node(n).isSilent('node-a'), false, `${n} is no standby: it judges by the Lease`);
    for (const n of others)
      assert.ok(
        c.metrics.get(n)?.receipts.every((r) => r !== 'fresh'),
        'a non-standby never tracks the holder',
      );
  });

  it('beats go to the standbys only, and each beat is acked', async () => {
    const c = cluster(NAMES, { [IP]: 'node-a' });
    c.startAll();
    await c.clock.advance(1_000);
    const targets = new Set(c.wire.captured.filter((x) => c.node(x.to) !== undefined).map((x) => x.to));
    const standbys = standbysOf(IP, 'node-a', NAMES);
    // Datagrams to non-standbys are only acks back to node-a.
    assert.deepEqual([...targets].sort(), [...standbys, 'node-a'].sort());
    const a = c.metrics.get('node-a') as CountingMetrics;
    assert.ok(a.sentBeats >= 20, `node-a sent ${a.sentBeats} beats in 1 s to 2 standbys`);
    assert.equal(a.receipts.filter((r) => r === 'ack').length, a.sentBeats, 'every beat acked');
  });

  it('a holder never heard is never silent: the wrong key degrades to Lease-speed liveness, never to a takeover', async () => {
    const c = cluster(NAMES, { [IP]: 'node-a' }, { key: (n) => (n === 'node-a' ? randomBytes(32) : KEY) });
    c.startAll();
    await c.clock.advance(1_000);
    c.node('node-a').stop();
    await c.clock.advance(2_000);
    assert.equal(c.changes.length, 0);
    for (const s of standbysOf(IP, 'node-a', NAMES)) {
      const m = c.metrics.get(s) as CountingMetrics;
      assert.ok(m.drops.length > 0 && m.drops.every((d) => d === 'bad-signature'), `${s} dropped ${m.drops.join()}`);
    }
  });

  it('replayed beats of a dead holder keep nobody alive', async () => {
    const c = cluster(NAMES, { [IP]: 'node-a' });
    c.startAll();
    await c.clock.advance(1_000);
    const [first] = standbysOf(IP, 'node-a', NAMES) as [string];
    const recorded = c.wire.captured.filter((x) => x.to === first).map((x) => x.datagram);
    c.node('node-a').stop();
    const replayer = (): void => {
      for (const d of recorded) c.node(first).received(d, { host: 'intruder', port: 7474 });
    };
    for (let t = 0; t < SILENCE_MS + 200; t += 50) {
      replayer();
      await c.clock.advance(50);
    }
    assert.equal(c.node(first).isSilent('node-a'), true);
    assert.ok(c.metrics.get(first)?.receipts.includes('replay'));
  });

  it('a forged beat signed with another key is dropped, and an own echo too', async () => {
    const c = cluster(NAMES, { [IP]: 'node-a' });
    const forged = encodeBeat(
      {
        kind: 'beat',
        sender: 'node-a',
        bootId: 'ffffffffffffffff',
        sequence: 1n,
        sentAtMs: c.clock.wallNow().getTime(),
        heldDigest: '0000000000000000',
      },
      randomBytes(32),
    );
    c.node('node-b').received(forged, { host: 'x', port: 1 });
    c.node('node-b').received(Buffer.from('not a beat'), { host: 'x', port: 1 });
    const own = encodeBeat(
      {
        kind: 'beat',
        sender: 'node-b',
        bootId: 'ffffffffffffffff',
        sequence: 1n,
        sentAtMs: c.clock.wallNow().getTime(),
        heldDigest: '0000000000000000',
      },
      KEY,
    );
    c.node('node-b').received(own, { host: 'x', port: 1 });
    assert.deepEqual(c.metrics.get('node-b')?.drops, ['bad-signature', 'bad-magic', 'own']);
  });

  it('a standby whose own event loop stalled judges nobody for the time it missed', async () => {
    const c = cluster(NAMES, { [IP]: 'node-a' });
    c.startAll();
    await c.clock.advance(1_000);
    const [first] = standbysOf(IP, 'node-a', NAMES) as [string];
    // The standby freezes for 2 s (SIGSTOP); the holder keeps beating, but nothing is read meanwhile.
    c.node(first).stop();
    c.wire.cut.add(first);
    await c.clock.advance(2_000);
    c.wire.cut.delete(first);
    c.node(first).start();
    // The first tick after the stall comes before the datagrams queued in its socket are read.
    assert.equal(c.node(first).isSilent('node-a'), false, 'missed time is not missed beats');
    await c.clock.advance(1_000);
    assert.equal(c.node(first).isSilent('node-a'), false);
    assert.deepEqual(
      c.changes.filter((x) => x.node === first),
      [],
    );
  });

  it('a renewal of the silent holder’s liveness Lease ends the silence, and its beats are not believed until one arrives', async () => {
    const c = cluster(NAMES, { [IP]: 'node-a' });
    c.startAll();
    await c.clock.advance(1_000);
    const [first] = standbysOf(IP, 'node-a', NAMES) as [string];
    // The holder lives but its datagrams are lost (a firewall rule).
    c.wire.cut.add('node-a');
    await c.clock.advance(SILENCE_MS + 100);
    assert.equal(c.node(first).isSilent('node-a'), true);
    c.node(first).renewalSeen('node-a');
    assert.equal(c.node(first).isSilent('node-a'), false);
    assert.equal(c.metrics.get(first)?.contradictions, 1);
    await c.clock.advance(5_000);
    assert.equal(c.node(first).isSilent('node-a'), false, 'never silent again while its beats stay lost');
    // Beats flow again, then stop: judged again.
    c.wire.cut.delete('node-a');
    await c.clock.advance(500);
    c.node('node-a').stop();
    await c.clock.advance(SILENCE_MS + 100);
    assert.equal(c.node(first).isSilent('node-a'), true);
    const seq = c.changes.filter((x) => x.node === first).map((x) => x.silent);
    assert.deepEqual(seq, [true, false, true]);
  });

  it('a holder heard again after a silence is live again', async () => {
    const c = cluster(NAMES, { [IP]: 'node-a' });
    c.startAll();
    await c.clock.advance(1_000);
    const [first] = standbysOf(IP, 'node-a', NAMES) as [string];
    c.wire.cut.add('node-a');
    await c.clock.advance(SILENCE_MS + 100);
    assert.equal(c.node(first).isSilent('node-a'), true);
    c.wire.cut.delete('node-a');
    await c.clock.advance(200);
    assert.equal(c.node(first).isSilent('node-a'), false);
  });

  it('a renewal of a holder that is not silent changes nothing', async () => {
    const c = cluster(NAMES, { [IP]: 'node-a' });
    c.startAll();
    await c.clock.advance(1_000);
    const [first] = standbysOf(IP, 'node-a', NAMES) as [string];
    c.node(first).renewalSeen('node-a');
    c.node('node-a').stop();
    await c.clock.advance(SILENCE_MS + 100);
    assert.equal(c.node(first).isSilent('node-a'), true, 'a renewal before the silence does not blind the standby');
  });

  it('a node that stops being a watcher keeps getting beats for the grace period; a standby no longer expecting them forgets the holder', async () => {
    const holders: Record<string, string> = { [IP]: 'node-a' };
    const c = cluster(NAMES, holders);
    c.startAll();
    await c.clock.advance(1_000);
    const [first] = standbysOf(IP, 'node-a', NAMES) as [string];
    // The IP moves to `first` (a hand-over): node-a holds nothing and `first` watches nobody.
    holders[IP] = first;
    for (const n of NAMES) c.node(n).replan();
    // Beats (kind byte 1) from node-a to `first`; acks of `first`'s own beats may flow that way too.
    const beatsToFirst = () => c.wire.captured.filter((x) => x.from === 'node-a' && x.to === first && x.datagram[4] === 1).length;
    await c.clock.advance(200);
    const before = beatsToFirst();
    await c.clock.advance(WATCHER_GRACE_MS - 1_000);
    assert.ok(beatsToFirst() - before >= 250, 'beats continue through the grace period');
    await c.clock.advance(2_000);
    const afterGrace = beatsToFirst();
    await c.clock.advance(1_000);
    assert.equal(beatsToFirst(), afterGrace, 'and stop after it');
    assert.equal(c.node(first).isSilent('node-a'), false, 'the end of beats it no longer expects is no silence');
  });

  it('asks whom it beats to at the next tick after a change, and whom it watches at most once a second, however many changes', async () => {
    const holders: Record<string, string> = { [IP]: 'node-b' };
    const asked = { held: 0, others: 0 };
    const { clock, exchange } = started({
      held: () => {
        asked.held++;
        return Object.entries(holders).flatMap(([ip, h]) => (h === 'node-a' ? [{ ip, candidates: NAMES }] : []));
      },
      heldByOthers: () => {
        asked.others++;
        return Object.entries(holders).flatMap(([ip, h]) => (h !== 'node-a' ? [{ ip, holder: h, candidates: NAMES }] : []));
      },
    });
    await clock.advance(2_000);
    assert.deepEqual(asked, { held: 1, others: 1 }, 'computed once at start, then not again while nothing changes');
    // Lease events while owners settle: a replan every 100 ms for 3 s.
    for (let t = 0; t < 3_000; t += 100) {
      exchange.replan();
      await clock.advance(100);
    }
    assert.equal(asked.held, 31, 'whom it beats to: at each tick after a change');
    assert.ok(
      asked.others >= 3 && asked.others <= 1 + Math.ceil(3_000 / WATCHED_REFRESH_MIN_MS),
      `whom it watches: ${asked.others} times in 3 s, at most one a second`,
    );
    // The last change is not lost to the limit: it is looked at within the limit.
    const before = asked.others;
    exchange.replan();
    await clock.advance(WATCHED_REFRESH_MIN_MS + 100);
    assert.equal(asked.others, before + 1);
    await clock.advance(PLAN_IDLE_REFRESH_MS);
    assert.equal(asked.others, before + 2, 'and at the idle refresh regardless');
    exchange.stop();
  });

  it('ranks an IP’s candidates again only when its holder or its candidate set changed', async () => {
    let walks = 0;
    // One candidate set for every IP, as candidatesLookup hands the IPs of one pool, counting its walks.
    const candidates: Iterable<string> = {
      *[Symbol.iterator]() {
        walks++;
        yield* NAMES;
      },
    };
    const holders = new Map(Array.from({ length: 100 }, (_, i) => [`198.51.100.${i}`, NAMES[1 + (i % 4)] as string]));
    const { clock, exchange } = started({
      held: () => [],
      heldByOthers: () => [...holders].map(([ip, holder]) => ({ ip, holder, candidates })),
    });
    await clock.advance(100);
    assert.ok(walks >= 101, `first refresh ranks every IP (${walks} walks)`);
    walks = 0;
    exchange.replan();
    await clock.advance(WATCHED_REFRESH_MIN_MS);
    assert.equal(walks, 1, 'nothing changed: the set is read once, no IP ranked again');
    walks = 0;
    holders.set('198.51.100.7', holders.get('198.51.100.7') === 'node-e' ? 'node-c' : 'node-e');
    exchange.replan();
    await clock.advance(WATCHED_REFRESH_MIN_MS);
    assert.ok(walks >= 2 && walks <= 3, `one IP's holder changed: it alone is ranked again (${walks} walks)`);
    exchange.stop();
  });
});
