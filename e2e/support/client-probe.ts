// A client on the LAN that keeps loading a page from external IPs and asks
// who has them, as a user's machine would: the product's own probe
// (`baton probe`, src/chaos/probe.ts) run inside the client namespace, the
// same one `baton chaos` uses. Every interval, per IP, a new TCP connection
// (so every lost ARP answer shows) with a short timeout, and a broadcast ARP
// request whose replies are recorded with the gratuitous ARPs it hears.
// Outages are computed by the chaos analysis (src/chaos/analysis.ts), so
// the tests and `baton chaos` measure downtime the same way.
import { lab } from '../../dev/lab/current.js';
import type { ManagedProcess } from '../../dev/lab/managed-process.js';
import { analyseIp, type IpAnalysis } from '../../src/chaos/analysis.js';
import { decodeEvents, type ProbeEvent } from '../../src/chaos/probe-events.js';
import { CLI } from './baton-process.js';

export interface ProbeSample {
  /** Epoch ms the request started. */
  t: number;
  ok: boolean;
  /** Node name that answered, or the error code. */
  from: string;
  /** The external IP loaded. */
  ip: string;
}

type HttpEvent = Extract<ProbeEvent, { kind: 'http' }>;

export class ClientProbe {
  private readonly received: ProbeEvent[] = [];
  private buffer = '';
  private readonly proc: ManagedProcess;
  readonly ips: readonly string[];

  /** intervalMs 20 and timeoutMs 150: a gap is measured to within a few tens of ms. */
  constructor(ips: string | readonly string[], port = 80, intervalMs = 20, timeoutMs = 150) {
    const { lan } = lab();
    this.ips = typeof ips === 'string' ? [ips] : [...ips];
    this.proc = lan.spawn(
      lan.client,
      `probe-${this.ips[0]}-${Date.now()}`,
      process.execPath,
      [
        '--enable-source-maps',
        CLI,
        'probe',
        `--interface=${lan.client.iface}`,
        `--source-ip=${lan.client.ip}`,
        `--source-ip6=${lan.client.ip6}`,
        `--ips=${this.ips.join(',')}`,
        `--http-port=${port}`,
        `--interval=${intervalMs}ms`,
        `--timeout=${timeoutMs}ms`,
      ],
      {
        onOutput: (chunk) => {
          this.buffer += chunk;
          const nl = this.buffer.lastIndexOf('\n');
          if (nl === -1) return;
          this.received.push(...decodeEvents(this.buffer.slice(0, nl)));
          this.buffer = this.buffer.slice(nl + 1);
        },
      },
    );
  }

  /** The page loads so far. */
  snapshot(): ProbeSample[] {
    return this.received.filter((e): e is HttpEvent => e.kind === 'http').map((e) => ({ t: e.t, ok: e.ok, from: e.from, ip: e.ip }));
  }

  /** Everything the probe saw so far: page loads, ARP replies to its requests, gratuitous ARPs. */
  events(): ProbeEvent[] {
    return [...this.received];
  }

  /** The chaos analysis of one IP, for an injection at injectedAt (epoch ms). */
  analysis(ip: string, injectedAt: number, endedAt = Date.now()): IpAnalysis {
    return analyseIp(this.received, ip, injectedAt, endedAt);
  }

  /** Stops the probe (SIGTERM: it ends cleanly and its last lines arrive) and returns every page load. */
  async stop(): Promise<ProbeSample[]> {
    await this.proc.stop('SIGTERM', 2_000);
    return this.snapshot();
  }

  get logFile(): string {
    return this.proc.logFile;
  }
}

/**
 * The longest stretch without a successful page load, from the first
 * failure to the next success (ms; an outage still going at the last sample
 * counts up to it), counted from `from` on; over several IPs, the worst. 0
 * if nothing failed. Computed by the chaos analysis.
 */
export function longestOutage(samples: readonly ProbeSample[], from = 0): { ms: number; start: number | undefined } {
  const endedAt = samples.reduce((m, s) => Math.max(m, s.t), from);
  let worst = { ms: 0, start: undefined as number | undefined };
  for (const ip of new Set(samples.map((s) => s.ip))) {
    const events: HttpEvent[] = samples
      .filter((s) => s.ip === ip)
      .map((s) => ({ kind: 'http', t: s.t, ip, ok: s.ok, from: s.from, ms: 0 }));
    const a = analyseIp(events, ip, from, endedAt);
    if (a.downtimeMs > worst.ms) {
      const o = a.outages.find((x) => x.to > from && Math.round(x.to - Math.max(x.from, from)) === a.downtimeMs);
      worst = { ms: a.downtimeMs, start: o === undefined ? undefined : Math.max(o.from, from) };
    }
  }
  return worst;
}

/** The nodes that served the page, in order, repeats folded. */
export function servedBy(samples: readonly ProbeSample[]): string[] {
  const order: string[] = [];
  for (const s of samples) if (s.ok && order.at(-1) !== s.from) order.push(s.from);
  return order;
}
