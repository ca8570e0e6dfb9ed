// Random fault schedules on the simulated LAN (property test): whatever
// combination of crashes, freezes, API cuts, write outages, stalled
// watches, foreign claims, cut cables and hand edits hits three speakers,
// (1) once a node announces an IP it owns, no other node claims it until a
// newer owner announces it, and (2) once the faults are over, every IP is
// answered again within a bound and stays answered. Run as shipped, with
// LAN heartbeats on over a lossy node network, and with the slow liveness
// Lease (heartbeats on, the Lease renewed every 10 s), with the heartbeats'
// own faults: a node's heartbeats blocked (a firewall rule on the port), and
// the same with its writes hanging and its watch late (the case a heartbeat
// takeover must not turn into two MACs: the holder alive, unable to prove it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ipLeaseName, speakerLeaseName } from '../k8s/lease-names.js';
import { FakeClock } from '../testing/fake-clock.js';
import { longestUnanswered, oneMacViolations } from '../testing/sim-invariants.js';
import { type SimOptions, Simulation } from '../testing/speaker-simulation.js';

const IPS = ['192.0.2.200', '192.0.2.201', '192.0.2.202'];
const PROBE_MS = 20;
// After the last fault ends: a stalled watch resumes (blind for up to a lease duration), a takeover needs a
// lease duration plus rank delays, a quick restart a confirmation retried with backoff. 6 s covers them all.
const RECOVERY_BOUND_MS = 6_000;
// How many schedules one run tries; raise it to hunt (BATON_PROPERTY_RUNS=200).
const RUNS = Number(process.env['BATON_PROPERTY_RUNS'] ?? 6);

const FAULTS = [
  'crash',
  'freeze',
  'block-loop',
  'cut-api',
  'writes-hang',
  'stall-watch',
  'foreign-claim',
  'cut-link',
  'delete-liveness',
  'strip-labels',
  'block-beats',
  'block-beats-writes-lag',
] as const;
type FaultKind = (typeof FAULTS)[number];

interface Fault {
  kind: FaultKind;
  node: number;
  atMs: number;
  forMs: number;
  ip: number;
}

const fault = fc.record({
  kind: fc.constantFrom(...FAULTS),
  node: fc.nat(2),
  atMs: fc.integer({ min: 0, max: 8_000 }),
  forMs: fc.integer({ min: 200, max: 5_000 }),
  ip: fc.nat(IPS.length - 1),
});

async function inject(sim: Simulation, clock: FakeClock, f: Fault): Promise<() => Promise<void>> {
  const node = sim.nodes[f.node];
  assert.ok(node !== undefined);
  const ip = IPS[f.ip] as string;
  switch (f.kind) {
    case 'crash':
      node.crash();
      return async () => {
        const restarted = node.restart();
        await clock.advance(1);
        void restarted;
      };
    case 'freeze':
      node.freeze('process');
      return async () => node.thaw();
    case 'block-loop':
      node.freeze('loop');
      return async () => node.thaw();
    case 'cut-api':
      node.cutApi(true);
      return async () => node.cutApi(false);
    case 'writes-hang':
      node.writesHang(true);
      return async () => node.writesHang(false);
    case 'stall-watch':
      node.stallWatch(true);
      return async () => node.stallWatch(false);
    case 'foreign-claim':
      sim.foreign.claim(ip);
      return async () => {};
    case 'cut-link':
      node.cutLink(true);
      return async () => node.cutLink(false);
    case 'delete-liveness':
      sim.api.deleteByHand(speakerLeaseName(node.name));
      return async () => {};
    case 'strip-labels':
      if (sim.api.peek(ipLeaseName(ip)) !== undefined) sim.api.edit(ipLeaseName(ip), (l) => ({ ...l, labels: {} }));
      return async () => {};
    case 'block-beats':
      node.beats.blocked = true;
      return async () => {
        node.beats.blocked = false;
      };
    case 'block-beats-writes-lag':
      node.beats.blocked = true;
      node.writesHang(true);
      // Late by less than a renew interval, so its own renewals' echo does not blind it.
      node.watchLag(300);
      return async () => {
        node.beats.blocked = false;
        node.writesHang(false);
        node.watchLag(0);
      };
  }
}

/** fc.assert, with the failing assertion's own message in the error (the test runner prints only the message). */
async function assertShowingCause(property: Parameters<typeof fc.assert>[0], params: Parameters<typeof fc.assert>[1]): Promise<void> {
  try {
    await fc.assert(property, params);
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    throw new Error(`${(err as Error).message}\ncaused by: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** Runs the schedule on the fake clock: each fault at its time, healed after its duration. */
async function runSchedule(sim: Simulation, clock: FakeClock, faults: readonly Fault[]): Promise<number> {
  const start = clock.now();
  const events: Array<{ t: number; run: () => Promise<void> }> = [];
  for (const f of faults) {
    events.push({
      t: start + f.atMs,
      run: async () => {
        // A node already under a fault of its own (crashed, frozen) takes no second one meanwhile.
        const heal = await inject(sim, clock, f);
        events.push({ t: clock.now() + f.forMs, run: heal });
        events.sort((a, b) => a.t - b.t);
      },
    });
  }
  events.sort((a, b) => a.t - b.t);
  let end = start;
  while (events.length > 0) {
    const next = events.shift() as { t: number; run: () => Promise<void> };
    if (next.t > clock.now()) await clock.advance(next.t - clock.now());
    await next.run();
    end = Math.max(end, clock.now());
  }
  return end;
}

// Heartbeats on: the node network loses none, a tenth or a third of the datagrams, by a seeded choice.
const beatNetwork = fc.record({ loss: fc.constantFrom(0, 0.1, 0.3), seed: fc.nat() });

const MODES: Array<{ name: string; options: SimOptions }> = [
  { name: '', options: {} },
  { name: ', heartbeats on', options: { heartbeats: true } },
  { name: ', slow liveness Lease', options: { heartbeats: true, liveness: 'slow' } },
];

type BeatNetwork = { loss: number; seed: number };

/** One schedule on a fresh simulation, then both promises checked for every IP. */
async function checkSchedule(mode: (typeof MODES)[number], faults: readonly Fault[], net: BeatNetwork): Promise<void> {
  const heartbeats = mode.options.heartbeats === true;
  // One fault per node at a time keeps the schedule meaningful (a frozen node is not also crashed).
  const byNode = new Map<number, Fault[]>();
  for (const f of faults) byNode.set(f.node, [...(byNode.get(f.node) ?? []), f]);
  const schedule = [...byNode.values()].flatMap((fs) => {
    let free = 0;
    return [...fs]
      .sort((a, b) => a.atMs - b.atMs)
      .filter((f) => {
        if (f.atMs < free) return false;
        free = f.atMs + f.forMs;
        return true;
      });
  });
  const clock = new FakeClock();
  const sim = new Simulation(clock, 3, heartbeats ? { ...mode.options, beatLoss: net.loss, seed: net.seed } : {});
  for (const ip of IPS) sim.addIp(ip);
  const started = sim.start();
  sim.client.probe(() => IPS, PROBE_MS);
  // With heartbeats, past the start tail of the ack horizon (beat-acks.ts, 10.7 s): acks, not only renewals,
  // extend the holders' fences while the faults hit.
  await clock.advance(heartbeats ? 12_000 : 3_000);
  await started;
  const end = await runSchedule(sim, clock, schedule);
  await clock.advance(RECOVERY_BOUND_MS + 5_000);
  const run = `${JSON.stringify(schedule)}${heartbeats ? ` with ${JSON.stringify({ ...net, ...mode.options })}` : ''}`;
  for (const ip of IPS) {
    assert.deepEqual(oneMacViolations(sim, ip), [], `${ip} under ${run}`);
    const gap = longestUnanswered(sim, ip, end + RECOVERY_BOUND_MS, clock.now());
    assert.ok(gap <= 3 * PROBE_MS, `${ip}: unanswered ${gap} ms after recovery, under ${run}`);
  }
}

// Schedules the property once found, kept as fixed cases in every mode (the property's seeds change each run).
const FOUND: Array<{ why: string; faults: Fault[]; net: BeatNetwork }> = [
  {
    // Heartbeats on, CI of cc9c2cd: node-3 (the holder) crashed, node-2 took over by silence and was frozen with
    // its acquire write under way; the write went through, node-1 saw node-2's liveness lapse and took the IP,
    // and node-2, thawed, announced on its write's old proof: two MACs. Fixed in ip-state.ts afterWrite.
    why: 'an heir frozen while its takeover write is under way announces nothing on that write once thawed',
    faults: [
      { kind: 'freeze', node: 1, atMs: 5407, forMs: 1100, ip: 0 },
      { kind: 'crash', node: 0, atMs: 1906, forMs: 2595, ip: 0 },
      { kind: 'crash', node: 2, atMs: 4504, forMs: 901, ip: 0 },
    ],
    net: { loss: 0, seed: 0 },
  },
];

for (const mode of MODES) {
  describe(`Speaker under random fault schedules (property)${mode.name}`, () => {
    it('never two MACs for an owned IP; every IP answered again within the bound once the faults end', async () => {
      await assertShowingCause(
        fc.asyncProperty(fc.array(fault, { minLength: 1, maxLength: 4 }), beatNetwork, (faults, net) => checkSchedule(mode, faults, net)),
        { numRuns: RUNS },
      );
    });
    for (const found of FOUND) it(`found before: ${found.why}`, () => checkSchedule(mode, found.faults, found.net));
  });
}
