// The acks of the LAN heartbeats, and the promises built on them
// (beat-acks.ts): who acks what, and how the holder's ack horizon moves.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { beatCluster as cluster, KEY } from '../testing/beat-lan.js';
import { decodeBeat, encodeBeat } from './beat-codec.js';
import { DEFAULT_BEAT_TIMING, silenceMs } from './beat-tracker.js';
import { standbysOf } from './beat-watchers.js';

const T = DEFAULT_BEAT_TIMING;
const SILENCE_MS = silenceMs(T);
// After a start, a node's previous process may still be accused for this long (beat-acks.ts): the horizon fails.
const START_TAIL_MS = 2 * T.intervalMs + SILENCE_MS + T.believeMs + T.intervalMs;
const NAMES = ['node-a', 'node-b', 'node-c', 'node-d', 'node-e'];
const IP = '192.0.2.200';

describe('BeatExchange acks', () => {
  it('the holder’s horizon fails after its start, then stays a silence window ahead while its standbys ack', async () => {
    const c = cluster(NAMES, { [IP]: 'node-a' });
    c.startAll();
    await c.clock.advance(START_TAIL_MS - 100);
    assert.equal(c.node('node-a').ackHorizon(), Number.NEGATIVE_INFINITY, 'a previous process may still be accused');
    await c.clock.advance(200);
    for (let i = 0; i < 10; i++) {
      await c.clock.advance(37);
      const ahead = c.node('node-a').ackHorizon() - c.clock.now();
      // The newest acked beat is at most one interval old; the margin is one interval.
      assert.ok(ahead > SILENCE_MS - 2 * T.intervalMs && ahead <= SILENCE_MS - T.intervalMs, `${ahead} ms ahead`);
    }
  });

  it('a standby that stops acking holds the horizon at its last acked beat, so the holder’s promise runs out before the silence', async () => {
    const c = cluster(NAMES, { [IP]: 'node-a' });
    c.startAll();
    await c.clock.advance(START_TAIL_MS + 500);
    const [first] = standbysOf(IP, 'node-a', NAMES) as [string];
    c.wire.cut.add(first);
    const cutAt = c.clock.now();
    const horizon = c.node('node-a').ackHorizon();
    await c.clock.advance(SILENCE_MS + 2 * T.intervalMs);
    assert.equal(c.node('node-a').ackHorizon(), horizon, 'frozen at the last ack');
    assert.ok(horizon <= cutAt + SILENCE_MS - T.intervalMs, 'over a margin before the standby can call the holder silent');
    assert.equal(c.node(first).isSilent('node-a'), true);
  });

  it('acks only what it keeps on record: not a beat of a skewed clock, not one read just after its own stall', async () => {
    const c = cluster(NAMES, { [IP]: 'node-a' });
    c.startAll();
    await c.clock.advance(1_000);
    const [first] = standbysOf(IP, 'node-a', NAMES) as [string];
    const acksBefore = c.metrics.get(first)?.sentAcks ?? 0;
    const skewed = encodeBeat(
      {
        kind: 'beat',
        sender: 'node-a',
        bootId: 'f0f1f2f3f4f5f6f7',
        sequence: 1n,
        sentAtMs: c.clock.wallNow().getTime() - T.maxSkewMs - 1,
        heldDigest: '0000000000000000',
      },
      KEY,
    );
    c.node(first).received(skewed, { host: 'node-a', port: 7474 });
    assert.equal(c.metrics.get(first)?.sentAcks, acksBefore, 'no ack for a beat it did not believe');
    // A stall: the holder's beats queue meanwhile and are read late, after the first tick.
    c.node(first).stop();
    c.wire.cut.add(first);
    await c.clock.advance(1_000);
    c.wire.cut.delete(first);
    c.node(first).start();
    const late = c.wire.captured.filter((x) => x.from === 'node-a' && x.to === first).at(-1)?.datagram as Buffer;
    const acks = c.metrics.get(first)?.sentAcks ?? 0;
    c.node(first).received(late, { host: 'node-a', port: 7474 });
    assert.equal(c.metrics.get(first)?.sentAcks, acks, 'a beat read right after the stall is no evidence of anything');
    assert.equal(c.metrics.get(first)?.drops.at(-1), 'after-stall');
  });

  it('an ack counts only for a recent beat of this very process to that very node', async () => {
    const c = cluster(NAMES, { [IP]: 'node-a' });
    c.startAll();
    await c.clock.advance(1_000);
    const [first, second] = standbysOf(IP, 'node-a', NAMES) as [string, string];
    const ackFromFirst = c.wire.captured.filter((x) => x.from === first && x.to === 'node-a').at(-1)?.datagram as Buffer;
    const d = decodeBeat(ackFromFirst, KEY);
    assert.ok(d.ok && d.value.kind === 'ack');
    const drops = () => c.metrics.get('node-a')?.drops.filter((r) => r === 'unmatched-ack').length ?? 0;
    // The same ack, re-signed as if the previous process of node-a had been acked.
    c.node('node-a').received(encodeBeat({ ...d.value, ackOf: '0000000000000001' }, KEY), { host: first, port: 7474 });
    assert.equal(drops(), 1);
    // An ack by the second standby of a beat that went to the first.
    c.node('node-a').received(encodeBeat({ ...d.value, sender: second }, KEY), { host: second, port: 7474 });
    assert.equal(drops(), 2);
  });

  it('a silence is believed for believeMs, then the holder is judged by its Lease alone', async () => {
    const c = cluster(NAMES, { [IP]: 'node-a' });
    c.startAll();
    await c.clock.advance(1_000);
    const [first] = standbysOf(IP, 'node-a', NAMES) as [string];
    c.node('node-a').stop();
    await c.clock.advance(SILENCE_MS + T.intervalMs);
    assert.equal(c.node(first).isSilent('node-a'), true);
    await c.clock.advance(T.believeMs - 2 * T.intervalMs);
    assert.equal(c.node(first).isSilent('node-a'), true);
    await c.clock.advance(2 * T.intervalMs);
    assert.equal(c.node(first).isSilent('node-a'), false);
    assert.deepEqual(
      c.changes.filter((x) => x.node === first).map((x) => x.silent),
      [true, false],
    );
  });
});
