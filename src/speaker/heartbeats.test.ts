// The speaker with LAN heartbeats on (--heartbeats), on the simulated LAN and
// API server: real Speakers over the addon's own rules, heartbeats over a
// simulated node network that can lose datagrams, observed from the client's
// side of the wire and from the API server's record of who owned each IP.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../testing/fake-clock.js';
import { longestUnanswered, oneMacViolations } from '../testing/sim-invariants.js';
import { type SimOptions, Simulation } from '../testing/speaker-simulation.js';

const IP = '192.0.2.200';
// The client asks every 10 ms: a gap is measured to within that.
const PROBE_MS = 10;

async function cluster(options: SimOptions = {}) {
  const clock = new FakeClock();
  const sim = new Simulation(clock, 3, { heartbeats: true, ...options });
  sim.addIp(IP);
  const started = sim.start();
  sim.client.probe(() => sim.externalIps(), PROBE_MS);
  // Past the start tail of the ack horizon (beat-acks.ts), so acks count, and past the rebalancing settle time.
  await clock.advance(15_000);
  await started;
  return { clock, sim };
}

function holder(sim: Simulation): string {
  const h = sim.holderOf(IP);
  assert.ok(h !== undefined, `${IP} has a holder`);
  return h;
}

/** How long after t0 the client first got an answer from a MAC other than `old`'s. */
function heirAnsweredAfter(sim: Simulation, old: string, t0: number): number {
  const first = sim.client.sightings.find((x) => x.kind === 'reply' && x.ip === IP && x.t >= t0 && x.mac !== sim.node(old).mac);
  return first === undefined ? Number.POSITIVE_INFINITY : first.t - t0;
}

async function counter(c: { get(): Promise<{ values: Array<{ value: number }> }> }): Promise<number> {
  return (await c.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** Freezes (SIGSTOP) the holder at 8 moments spread over a renew interval; how long until the client is answered again. */
async function failoverTimes(options: SimOptions): Promise<number[]> {
  const { sim, clock } = await cluster(options);
  const times: number[] = [];
  for (let i = 0; i < 8; i++) {
    await clock.advance(1_000 + i * 63);
    const h = holder(sim);
    const t0 = clock.now();
    sim.node(h).freeze('process');
    await clock.advance(3_000);
    times.push(heirAnsweredAfter(sim, h, t0));
    assert.notEqual(holder(sim), h);
    sim.node(h).thaw();
    // Past the rebalancing settle time: the IP may move back, with no gap.
    await clock.advance(12_000);
  }
  assert.deepEqual(oneMacViolations(sim, IP), []);
  return times;
}

describe('Speaker with heartbeats', () => {
  it('a frozen holder (no beats, no renewals) is replaced in 0.5-0.7 s instead of a lease duration', async () => {
    const withBeats = await failoverTimes({ heartbeats: true });
    const without = await failoverTimes({ heartbeats: false });
    process.stdout.write(`# failover after SIGSTOP, ms: heartbeats ${withBeats.join(' ')}; without ${without.join(' ')}\n`);
    for (const t of withBeats) assert.ok(t >= 300 && t <= 700, `answered again ${t} ms after the freeze (with heartbeats)`);
    for (const t of without) assert.ok(t >= 1_000, `answered again ${t} ms after the freeze (without): the Lease decides`);
  });

  it('a holder whose beats are lost but who renews its Lease keeps its IP: no takeover, no two MACs', async () => {
    const { sim, clock } = await cluster();
    const h = holder(sim);
    const t0 = clock.now();
    sim.node(h).beats.blocked = true;
    await clock.advance(10_000);
    assert.equal(holder(sim), h, 'nothing moved');
    assert.ok(longestUnanswered(sim, IP, t0, clock.now()) <= 2 * PROBE_MS, 'answered throughout');
    const standbys = sim.nodes.filter((n) => n.name !== h);
    const silences = await Promise.all(standbys.map((n) => counter(n.metrics.beatSilences)));
    const contradictions = await Promise.all(standbys.map((n) => counter(n.metrics.beatContradictions)));
    assert.ok(
      silences.some((x) => x > 0),
      'its standbys did find it silent',
    );
    assert.deepEqual(contradictions, silences, 'and each silence was contradicted by a renewal');
    sim.node(h).beats.blocked = false;
    await clock.advance(2_000);
    assert.equal(holder(sim), h);
    assert.deepEqual(oneMacViolations(sim, IP), []);
  });

  it('a lossy node network (30% of datagrams lost) moves nothing', async () => {
    const { sim, clock } = await cluster({ beatLoss: 0.3, seed: 7 });
    const h = holder(sim);
    const t0 = clock.now();
    await clock.advance(30_000);
    assert.equal(holder(sim), h);
    assert.ok(longestUnanswered(sim, IP, t0, clock.now()) <= 2 * PROBE_MS);
    for (const n of sim.nodes) assert.equal(await counter(n.metrics.beatFenceLapses), 0, `${n.name}: its fence held`);
    assert.deepEqual(oneMacViolations(sim, IP), []);
  });

  it('a standby whose own event loop stalled accuses nobody', async () => {
    const { sim, clock } = await cluster();
    const h = holder(sim);
    const writes = sim.api.writes;
    const t0 = clock.now();
    // Stalls that begin at moments spread over a beat interval: which comes first after the stall, the standby's
    // own tick or the beats queued meanwhile, depends on it.
    for (const standby of sim.nodes.filter((n) => n.name !== h)) {
      for (const phase of [0, 20, 40, 60, 80]) {
        await clock.advance(phase);
        standby.freeze('loop');
        await clock.advance(2_000);
        standby.thaw();
        await clock.advance(1_000);
      }
      assert.equal(await counter(standby.metrics.beatSilences), 0, `${standby.name} called nobody silent`);
    }
    assert.equal(holder(sim), h);
    // Renewals only (3 speakers, 2 a second, about 30 s), and the stalled standby's own after each stall: no IP Lease write.
    const seconds = (clock.now() - t0) / 1_000;
    assert.ok(sim.api.writes - writes <= 3 * 2 * seconds + 2 * 10, `${sim.api.writes - writes} writes in ${seconds} s`);
    assert.ok(
      sim.api.history.every((x) => x.t < t0 || !x.name.startsWith('baton-ip-')),
      'no IP Lease changed hands',
    );
    assert.deepEqual(oneMacViolations(sim, IP), []);
  });

  // Five moments over a renew interval: whether the holder could still defend by its renewals alone depends on it.
  for (const offset of [0, 100, 200, 300, 400]) {
    it(`beats lost, renewals hanging, its watch late (+${offset} ms): the heir takes over by silence, the holder does not defend (the fence)`, async () => {
      const { sim, clock } = await cluster();
      await clock.advance(offset);
      const h = holder(sim);
      const node = sim.node(h);
      node.beats.blocked = true;
      node.writesHang(true);
      // Its watch shows the takeover only 300 ms late: until then only the reader's license can keep it from fighting.
      node.watchLag(300);
      const t0 = clock.now();
      await clock.advance(3_000);
      assert.notEqual(holder(sim), h, 'taken over by silence');
      const takenAt = (sim.api.history.find((x) => x.t >= t0 && x.holder !== h && x.holder !== '')?.t ?? Number.NaN) - t0;
      assert.ok(takenAt < 1_000, `taken ${takenAt} ms in, before the holder's renew deadline (1 s)`);
      assert.deepEqual(
        node.eventsRecorded.filter((e) => e.reason === 'IPConflict'),
        [],
        'the holder never defended against the heir',
      );
      node.writesHang(false);
      node.beats.blocked = false;
      node.watchLag(0);
      await clock.advance(3_000);
      assert.deepEqual(oneMacViolations(sim, IP), []);
      assert.ok(longestUnanswered(sim, IP, t0, clock.now()) <= 2 * PROBE_MS, 'answered throughout (outage mode)');
      assert.ok((await counter(node.metrics.beatFenceLapses)) >= 1, 'its fence ran out: it confirmed before defending again');
    });
  }

  it('heartbeats blocked everywhere: failover at Lease speed, never a wrong takeover', async () => {
    const { sim, clock } = await cluster();
    for (const n of sim.nodes) n.beats.blocked = true;
    await clock.advance(5_000);
    const h = holder(sim);
    const t0 = clock.now();
    sim.node(h).crash();
    await clock.advance(4_000);
    const after = heirAnsweredAfter(sim, h, t0);
    assert.ok(after >= 1_000 && after <= 1_500 + 2 * 200 + 100, `answered again after ${after} ms`);
    assert.deepEqual(oneMacViolations(sim, IP), []);
  });
});
