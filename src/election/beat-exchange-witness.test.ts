// The witness protocol of the slow liveness mode (beat-witness.ts) between
// real BeatExchanges on a test LAN: a silence counts once a second standby
// finds the same holder silent, and a witness withholds its acks while its
// answer can count.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { beatCluster, type CountingMetrics } from '../testing/beat-lan.js';
import { DEFAULT_BEAT_TIMING, silenceMs } from './beat-tracker.js';
import { standbysOf } from './beat-watchers.js';
import { DEFAULT_WITNESS_TIMING } from './beat-witness.js';

const SILENCE_MS = silenceMs(DEFAULT_BEAT_TIMING);
const TICK = DEFAULT_BEAT_TIMING.intervalMs;
const NAMES = ['node-a', 'node-b', 'node-c', 'node-d'];
const IP = '192.0.2.200';

function cluster() {
  const c = beatCluster(NAMES, { [IP]: 'node-a' }, { witness: DEFAULT_WITNESS_TIMING });
  const [first, second] = standbysOf(IP, 'node-a', NAMES) as [string, string];
  return { ...c, first, second };
}

describe('BeatExchange with a witness (slow liveness)', () => {
  it('a holder that stops: both standbys find it silent, witness each other, and tell the speaker within a tick of the silence', async () => {
    const c = cluster();
    c.startAll();
    await c.clock.advance(2_000);
    const stoppedAt = c.clock.now();
    c.node('node-a').stop();
    await c.clock.advance(SILENCE_MS + 2 * TICK);
    const told = c.changes.filter((x) => x.silent);
    assert.deepEqual(told.map((x) => x.node).sort(), [c.first, c.second].sort());
    for (const x of told) assert.ok(x.at - stoppedAt <= SILENCE_MS + TICK + 1, `told ${x.at - stoppedAt} ms after the stop`);
    const boot = c.node('node-a').bootId;
    assert.equal(c.node(c.first).witnessedSilent('node-a'), boot, 'about that very process');
    assert.equal(c.node('node-d').witnessedSilent('node-a'), undefined, 'no standby: never asked, never told');
    // The confirmation lasts only while queries keep being answered: cut the witness off and it runs out.
    c.wire.cut.add(c.second);
    await c.clock.advance(DEFAULT_WITNESS_TIMING.validMs + TICK);
    assert.equal(c.node(c.first).witnessedSilent('node-a'), undefined);
  });

  it('beats lost to one standby only: it finds the holder silent, the other does not, nobody is told', async () => {
    const c = cluster();
    c.startAll();
    await c.clock.advance(2_000);
    const withheldAtStart = (c.metrics.get(c.second) as CountingMetrics).drops.filter((d) => d === 'ack-withheld').length;
    c.wire.lostPaths.add(`node-a>${c.first}`);
    await c.clock.advance(3_000);
    assert.equal(c.node(c.first).isSilent('node-a'), true);
    assert.equal(c.node(c.first).witnessedSilent('node-a'), undefined);
    assert.deepEqual(
      c.changes.filter((x) => x.silent),
      [],
    );
    const second = c.metrics.get(c.second) as CountingMetrics;
    assert.ok(second.receipts.filter((r) => r === 'not-silent').length >= 20, 'the other standby was asked every tick and said nothing');
    assert.equal(second.drops.filter((d) => d === 'ack-withheld').length, withheldAtStart, 'and kept acking the holder');
    // Its promise rests on the other standby: the second-earliest accusation stays a silence window ahead.
    assert.ok(c.node('node-a').ackHorizon() >= c.clock.now() + SILENCE_MS - 2 * TICK);
  });

  it('a witness withholds its acks to the holder while its answer may count, then acks again', async () => {
    const c = cluster();
    c.startAll();
    await c.clock.advance(2_000);
    // Both standbys lose the holder for a moment, long enough to find it silent and witness each other.
    c.wire.lostPaths.add(`node-a>${c.first}`);
    c.wire.lostPaths.add(`node-a>${c.second}`);
    await c.clock.advance(SILENCE_MS + 2 * TICK);
    assert.ok(c.node(c.second).witnessedSilent('node-a') !== undefined);
    const heardAgainAt = c.clock.now();
    c.wire.lostPaths.clear();
    const second = c.metrics.get(c.second) as CountingMetrics;
    const acksBefore = second.sentAcks;
    await c.clock.advance(TICK + 1);
    assert.equal(c.node(c.second).isSilent('node-a'), false, 'heard again');
    assert.equal(c.node(c.second).witnessedSilent('node-a'), undefined);
    assert.ok(second.drops.includes('ack-withheld'), 'its beat is on record, its ack withheld');
    assert.equal(second.sentAcks, acksBefore, 'no ack to the holder yet');
    await c.clock.advance(DEFAULT_WITNESS_TIMING.embargoMs);
    assert.ok(second.sentAcks > acksBefore, 'acks again once the embargo is over');
    assert.ok(
      c.changes.some((x) => !x.silent && x.at >= heardAgainAt),
      'the speakers were told the silence ended',
    );
  });

  it('a new process withholds its acks for an embargo after it starts: its predecessor may have answered a query', async () => {
    const c = cluster();
    c.startAll();
    await c.clock.advance(DEFAULT_WITNESS_TIMING.embargoMs - 10);
    const m = c.metrics.get(c.first) as CountingMetrics;
    assert.equal(m.sentAcks, 0);
    assert.ok(m.drops.includes('ack-withheld'));
    await c.clock.advance(2 * TICK);
    assert.ok(m.sentAcks > 0, 'acks once the embargo is over');
  });

  it('an answer counts within its query’s validity only: replayed later, it confirms nothing', async () => {
    const c = cluster();
    c.startAll();
    await c.clock.advance(2_000);
    const answers: Buffer[] = [];
    c.node('node-a').stop();
    await c.clock.advance(SILENCE_MS + 2 * TICK);
    answers.push(...c.wire.captured.filter((x) => x.to === c.first && x.from === c.second).map((x) => x.datagram));
    // The holder beats again; the standbys hear it; the old answers are replayed.
    c.node('node-a').start();
    await c.clock.advance(3 * TICK);
    assert.equal(c.node(c.first).witnessedSilent('node-a'), undefined);
    const m = c.metrics.get(c.first) as CountingMetrics;
    const late = m.receipts.filter((r) => r === 'late-witness').length;
    for (const d of answers) c.node(c.first).received(d, { host: c.second, port: 7474 });
    assert.equal(c.node(c.first).witnessedSilent('node-a'), undefined);
    assert.ok(m.receipts.filter((r) => r === 'late-witness').length > late, 'counted as late');
  });
});
