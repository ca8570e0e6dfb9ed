// A LAN of BeatExchanges for unit tests (election/beat-exchange*.test.ts):
// host name = node name, delivery at once unless a node is cut off, every
// datagram captured, every node's metrics counted. Not the speaker
// simulation (speaker-simulation.ts), which runs whole speakers.
import {
  type BeatDrop,
  BeatExchange,
  type BeatMetrics,
  type BeatPlan,
  type BeatReceipt,
  type BeatTransport,
  type Endpoint,
} from '../election/beat-exchange.js';
import type { WitnessTiming } from '../election/beat-witness.js';
import { silentLogger } from '../observability/logger.js';
import { FakeClock } from './fake-clock.js';

export const KEY = Buffer.alloc(32, 7);

export class CountingMetrics implements BeatMetrics {
  readonly receipts: BeatReceipt[] = [];
  readonly drops: BeatDrop[] = [];
  sentBeats = 0;
  sentAcks = 0;
  sentOther = 0;
  silences = 0;
  contradictions = 0;
  sent(kind: 'beat' | 'ack' | 'query' | 'witness'): void {
    if (kind === 'beat') this.sentBeats++;
    else if (kind === 'ack') this.sentAcks++;
    else this.sentOther++;
  }
  received(_kind: 'beat' | 'ack' | 'query' | 'witness', r: BeatReceipt): void {
    this.receipts.push(r);
  }
  dropped(reason: BeatDrop): void {
    this.drops.push(reason);
  }
  silenced(): void {
    this.silences++;
  }
  contradicted(): void {
    this.contradictions++;
  }
  watching(): void {}
}

/** A LAN of exchanges: host name = node name, delivery at once, with a switch to cut a node off. */
export class BeatWire {
  readonly nodes = new Map<string, BeatExchange>();
  readonly cut = new Set<string>();
  /** One direction between two nodes lost ("from>to"), the rest working. */
  readonly lostPaths = new Set<string>();
  readonly captured: Array<{ datagram: Buffer; from: string; to: string }> = [];

  transport(from: string): BeatTransport {
    return {
      send: (datagram, to, done) => {
        this.captured.push({ datagram, from, to: to.host });
        done();
        if (this.cut.has(from) || this.cut.has(to.host) || this.lostPaths.has(`${from}>${to.host}`)) return;
        this.nodes.get(to.host)?.received(datagram, { host: from, port: 7474 });
      },
      close: () => {},
    };
  }
}

/** Every node sees the same Leases: `holders` maps each IP to its holder; every node is a candidate of every IP. */
export function beatCluster(
  names: string[],
  holders: Record<string, string>,
  over: { key?: (n: string) => Buffer; witness?: WitnessTiming } = {},
) {
  const clock = new FakeClock(0, Date.UTC(2026, 11, 4));
  const wire = new BeatWire();
  const changes: Array<{ at: number; node: string; holder: string; silent: boolean }> = [];
  const metrics = new Map<string, CountingMetrics>();
  for (const me of names) {
    const m = new CountingMetrics();
    metrics.set(me, m);
    const plan: BeatPlan = {
      held: () => Object.entries(holders).flatMap(([ip, h]) => (h === me ? [{ ip, candidates: names }] : [])),
      heldByOthers: () => Object.entries(holders).flatMap(([ip, h]) => (h !== me ? [{ ip, holder: h, candidates: names }] : [])),
      endpoint: (n): Endpoint | undefined => (names.includes(n) ? { host: n, port: 7474 } : undefined),
    };
    wire.nodes.set(
      me,
      new BeatExchange({
        me,
        clock,
        log: silentLogger(),
        key: over.key?.(me) ?? KEY,
        transport: wire.transport(me),
        plan,
        metrics: m,
        onChange: (holder, silent) => changes.push({ at: clock.now(), node: me, holder, silent }),
        ...(over.witness === undefined ? {} : { witness: over.witness }),
      }),
    );
  }
  const node = (n: string) => wire.nodes.get(n) as BeatExchange;
  return {
    clock,
    wire,
    changes,
    metrics,
    node,
    startAll: () => {
      for (const n of names) node(n).start();
    },
  };
}
