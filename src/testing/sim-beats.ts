// The simulated node network that carries LAN heartbeats between the
// speakers of a Simulation (speaker-simulation.ts): UDP datagrams that cross
// it after a LAN's fraction of a millisecond, each lost with the network's
// loss rate (seeded, so a run repeats), and lost with a cut cable, a dead
// process or a firewall rule on the port. A datagram reaches a process's
// JavaScript through its ProcessClock: late and in order after a freeze,
// never after a crash.
import type { HeartbeatDeps } from '../speaker/heartbeats.js';
import type { FakeClock } from './fake-clock.js';
import type { ProcessClock } from './sim-clock.js';

// The simulated cluster's heartbeat key (32 bytes, as the chart's Secret holds).
const SIM_BEAT_KEY = Buffer.alloc(32, 0x5a);
const BEAT_PORT = 7474;
// One way across the node network: a LAN's fraction of a millisecond.
const LATENCY_MS = 0.3;

type Endpoint = { host: string; port: number };
type Inbox = (datagram: Buffer, from: Endpoint) => void;

export class SimBeatNetwork {
  private readonly ports = new Map<string, SimBeatPort>();
  private readonly random: () => number;

  constructor(
    private readonly clock: FakeClock,
    /** Each datagram is lost with this probability (0..1), independently. */
    private readonly loss: number,
    seed: number,
  ) {
    this.random = mulberry32(seed);
  }

  /** The port of the node at `host`; its owner says whether it can send or receive right now. */
  port(host: string, owner: { clock(): ProcessClock; reachable(): boolean }): SimBeatPort {
    const p = new SimBeatPort(this, host, owner);
    this.ports.set(host, p);
    return p;
  }

  /** A datagram leaves `from` for `to`: lost, or delivered after the latency. */
  carry(datagram: Buffer, from: Endpoint, to: Endpoint): void {
    if (this.loss > 0 && this.random() < this.loss) return;
    const target = this.ports.get(to.host);
    this.clock.setTimeout(() => target?.deliver(datagram, from), LATENCY_MS);
  }
}

export class SimBeatPort {
  /** Datagrams to or from this node are lost (a firewall rule on the port), while everything else works. */
  blocked = false;
  private inbox: Inbox | undefined;

  constructor(
    private readonly net: SimBeatNetwork,
    readonly host: string,
    private readonly owner: { clock(): ProcessClock; reachable(): boolean },
  ) {}

  /** The speaker's heartbeat dependencies: this port as its UDP socket. */
  deps(): HeartbeatDeps {
    const process = this.owner.clock();
    const me = { host: this.host, port: BEAT_PORT };
    return {
      key: SIM_BEAT_KEY,
      address: me,
      open: async (_at, onMessage) => {
        this.inbox = onMessage;
        return {
          send: (datagram, to, done) => {
            done();
            if (process.isDead || !this.owner.reachable() || this.blocked) return;
            this.net.carry(datagram, me, to);
          },
          close: () => {
            this.inbox = undefined;
          },
        };
      },
    };
  }

  /** A datagram reaches this node's socket; its JavaScript reads it when it runs. */
  deliver(datagram: Buffer, from: Endpoint): void {
    const process = this.owner.clock();
    const inbox = this.inbox;
    if (process.isDead || !this.owner.reachable() || this.blocked || inbox === undefined) return;
    process.run(() => inbox(datagram, from));
  }

  /** The process died: its socket with it. */
  close(): void {
    this.inbox = undefined;
  }
}

/** A small seeded PRNG (mulberry32): uniform in [0, 1), the same sequence for the same seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
