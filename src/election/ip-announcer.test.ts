import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FakeClock } from '../testing/fake-clock.js';
import { MemoryLeaseStore } from '../testing/memory-lease-store.js';
import { Simulation, TIMING } from '../testing/speaker-simulation.js';

const IP = '192.0.2.200';

async function cluster(outageMode = true, names = ['node-1', 'node-2', 'node-3']) {
  const clock = new FakeClock();
  const sim = new Simulation(clock, new MemoryLeaseStore(), names, outageMode);
  sim.addIp(IP);
  sim.start();
  await clock.advance(1_000);
  return { clock, sim };
}

/** Advances time in small steps, asking who has ip at each; fails on any step where two MACs answer. */
async function watchOneMac(
  sim: Simulation,
  clock: FakeClock,
  ms: number,
  ip = IP,
  stepMs = 10,
): Promise<Array<{ t: number; macs: string[] }>> {
  const seen: Array<{ t: number; macs: string[] }> = [];
  for (let t = 0; t < ms; t += stepMs) {
    const macs = await sim.ask(ip);
    assert.ok(macs.length <= 1, `at ${clock.now()} ms two MACs answered: ${macs.join(', ')}`);
    seen.push({ t: clock.now(), macs });
    await clock.advance(stepMs - 1);
  }
  return seen;
}

function macOf(sim: Simulation, name: string): string {
  return sim.speaker(name).link.mac;
}

describe('IpAnnouncer (simulated LAN, fake clock)', () => {
  it('elects exactly one holder, which alone answers ARP', async () => {
    const { sim } = await cluster();
    const holder = sim.holderOf(IP);
    assert.ok(holder !== undefined);
    assert.deepEqual(sim.answering(IP), [holder]);
    assert.deepEqual(await sim.ask(IP), [macOf(sim, holder)]);
  });

  it('takes over from a crashed holder within the lease duration plus one rank delay, one MAC at a time', async () => {
    const { clock, sim } = await cluster();
    const holder = sim.holderOf(IP) as string;
    const crashedAt = clock.now();
    sim.speaker(holder).crash();
    const seen = await watchOneMac(sim, clock, 3_000);
    const back = seen.find((s) => s.t > crashedAt && s.macs.length === 1);
    assert.ok(back !== undefined, 'someone answers again');
    assert.ok(back.t - crashedAt <= TIMING.durationMs + TIMING.rankDelayMs + 100, `answered again after ${back.t - crashedAt} ms`);
    const heir = sim.holderOf(IP) as string;
    assert.notEqual(heir, holder);
    assert.deepEqual(sim.answering(IP), [heir]);
  });

  it('spreads a dead node’s IPs over every survivor', async () => {
    const clock = new FakeClock();
    const sim = new Simulation(clock, new MemoryLeaseStore(), ['node-1', 'node-2', 'node-3', 'node-4']);
    const ips = Array.from({ length: 40 }, (_, i) => `192.0.2.${100 + i}`);
    for (const ip of ips) sim.addIp(ip);
    sim.start();
    await clock.advance(2_000);
    const victim = 'node-1';
    const orphaned = ips.filter((ip) => sim.holderOf(ip) === victim);
    assert.ok(orphaned.length > 3, `node-1 holds ${orphaned.length}`);
    sim.speaker(victim).crash();
    await clock.advance(3_000);
    const heirs = new Set(orphaned.map((ip) => sim.holderOf(ip)));
    assert.ok(!heirs.has(victim));
    assert.ok(heirs.size >= 2, `inherited by ${[...heirs].join(', ')}`);
    for (const ip of ips) assert.equal(sim.answering(ip).length, 1, `${ip} answered by one node`);
  });

  it('outage mode: a holder cut from the API server answers until the heir announces, then yields at once', async () => {
    const { clock, sim } = await cluster(true);
    const holder = sim.holderOf(IP) as string;
    sim.speaker(holder).partition(true);
    const seen = await watchOneMac(sim, clock, 3_000);
    const heir = sim.holderOf(IP) as string;
    assert.notEqual(heir, holder);
    assert.ok(
      seen.every((s) => s.macs.length === 1),
      'no moment without an answer',
    );
    assert.deepEqual(sim.answering(IP), [heir]);
    sim.speaker(holder).partition(false);
    await watchOneMac(sim, clock, 2_000);
    assert.equal(sim.holderOf(IP), heir, 'the returning node takes nothing back');
  });

  it('without outage mode: a cut-off holder falls silent before anyone may take over (a gap, never an overlap)', async () => {
    const { clock, sim } = await cluster(false);
    const holder = sim.holderOf(IP) as string;
    const cutAt = clock.now();
    sim.speaker(holder).partition(true);
    const seen = await watchOneMac(sim, clock, 3_000);
    const silentFrom = seen.find((s) => s.macs.length === 0)?.t as number;
    const heirFrom = seen.find((s) => s.macs.length === 1 && s.macs[0] !== macOf(sim, holder))?.t as number;
    assert.ok(silentFrom - cutAt <= TIMING.renewDeadlineMs + 20, `stopped ${silentFrom - cutAt} ms after the cut`);
    assert.ok(heirFrom > silentFrom, 'the heir starts after the holder stopped');
  });

  it('keeps answering from the holder alone while the whole API server is down, and nothing moves when it returns', async () => {
    const { clock, sim } = await cluster(true);
    const holder = sim.holderOf(IP) as string;
    for (const s of sim.speakers) s.partition(true);
    const seen = await watchOneMac(sim, clock, 60_000, IP, 500);
    assert.ok(seen.every((s) => s.macs.length === 1 && s.macs[0] === macOf(sim, holder)));
    for (const s of sim.speakers) s.partition(false);
    await watchOneMac(sim, clock, 3_000);
    assert.equal(sim.holderOf(IP), holder);
    assert.deepEqual(sim.answering(IP), [holder]);
  });

  it('hands over on shutdown with no moment unanswered', async () => {
    const { clock, sim } = await cluster(true);
    const holder = sim.holderOf(IP) as string;
    const leaving = sim.speaker(holder);
    const done = (async () => {
      await leaving.renewer.release();
      await leaving.announcer.handOverAll([IP]);
    })();
    const seen = await watchOneMac(sim, clock, 1_000, IP, 5);
    await done;
    assert.ok(
      seen.every((s) => s.macs.length === 1),
      'every request answered during the hand-over',
    );
    const heir = sim.holderOf(IP) as string;
    assert.notEqual(heir, holder);
    const switchedAt = seen.find((s) => s.macs[0] === macOf(sim, heir))?.t as number;
    assert.ok(switchedAt - seen[0]!.t < 300, `heir answering after ${switchedAt - seen[0]!.t} ms`);
    assert.deepEqual(sim.answering(IP), [heir]);
  });

  it('keeps answering when someone deletes the IP’s lease by hand: the holder re-creates it, the others wait', async () => {
    const { clock, sim } = await cluster(true);
    const holder = sim.holderOf(IP) as string;
    const lease = sim.store.all().find((l) => l.annotations?.['baton.dev/ip'] === IP);
    await sim.store.delete(lease!);
    const seen = await watchOneMac(sim, clock, 2_000);
    assert.ok(
      seen.every((s) => s.macs.length === 1 && s.macs[0] === macOf(sim, holder)),
      'answered throughout, by the same node',
    );
    assert.equal(sim.holderOf(IP), holder, 'the lease names the holder again');
  });

  it('never lets two MACs answer one request, whatever crashes and partitions happen (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            node: fc.constantFrom('node-1', 'node-2', 'node-3'),
            what: fc.constantFrom('crash', 'cut', 'heal'),
            afterMs: fc.integer({ min: 0, max: 2_500 }),
          }),
          { maxLength: 6 },
        ),
        async (events) => {
          const { clock, sim } = await cluster(true);
          for (const e of events) {
            await watchOneMac(sim, clock, e.afterMs + 10, IP, 10);
            const s = sim.speaker(e.node);
            if (!s.alive) continue;
            if (e.what === 'crash' && sim.speakers.filter((x) => x.alive).length > 1) s.crash();
            if (e.what === 'cut') s.partition(true);
            if (e.what === 'heal') s.partition(false);
          }
          for (const s of sim.speakers) if (s.alive) s.partition(false);
          await watchOneMac(sim, clock, 4_000, IP, 20);
          const live = sim.speakers.filter((s) => s.alive).map((s) => s.name);
          const answering = sim.answering(IP);
          assert.equal(answering.length, 1, `after things settle one live node answers (live: ${live.join(', ')})`);
          assert.ok(live.includes(answering[0] as string));
          assert.equal(sim.holderOf(IP), answering[0], 'and it is the lease holder');
        },
      ),
      { numRuns: 40 },
    );
  });
});
