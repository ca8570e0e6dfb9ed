// A client on the LAN that keeps asking an external IP for a page, as a user
// would: every interval a new TCP connection (so every lost ARP answer
// shows), a short timeout, and a record of who answered. Runs inside the
// client namespace with this same Node.js binary.
import { lab } from '../../dev/lab/current.js';
import type { ManagedProcess } from '../../dev/lab/managed-process.js';

export interface ProbeSample {
  /** Epoch ms the request started. */
  t: number;
  ok: boolean;
  /** Node name that answered, or the error code. */
  from: string;
}

const PROBE = `
const [ip, port, interval, timeout] = process.argv.slice(1).map((v, i) => (i === 0 ? v : Number(v)));
const http = require('node:http');
function once() {
  const t = Date.now();
  let done = false;
  const finish = (ok, from) => { if (done) return; done = true; process.stdout.write(JSON.stringify({ t, ok, from }) + '\\n'); };
  const req = http.get({ host: ip, port, path: '/', agent: false, timeout }, (res) => {
    let body = '';
    res.on('data', (c) => (body += c));
    res.on('end', () => finish(true, body));
  });
  req.on('timeout', () => { req.destroy(); finish(false, 'timeout'); });
  req.on('error', (e) => finish(false, e.code || 'error'));
}
setInterval(once, interval);
once();
`;

export class ClientProbe {
  private readonly samples: ProbeSample[] = [];
  private buffer = '';
  private readonly proc: ManagedProcess;

  /** intervalMs 20 and timeoutMs 150: a gap is measured to within a few tens of ms. */
  constructor(ip: string, port = 80, intervalMs = 20, timeoutMs = 150) {
    const { lan } = lab();
    this.proc = lan.spawn(
      lan.client,
      `probe-${ip}-${Date.now()}`,
      process.execPath,
      ['-e', PROBE, ip, String(port), String(intervalMs), String(timeoutMs)],
      {
        onOutput: (chunk) => {
          this.buffer += chunk;
          for (let nl = this.buffer.indexOf('\n'); nl !== -1; nl = this.buffer.indexOf('\n')) {
            const line = this.buffer.slice(0, nl);
            this.buffer = this.buffer.slice(nl + 1);
            try {
              this.samples.push(JSON.parse(line) as ProbeSample);
            } catch {
              // not a sample line
            }
          }
        },
      },
    );
  }

  snapshot(): ProbeSample[] {
    return [...this.samples];
  }

  async stop(): Promise<ProbeSample[]> {
    await this.proc.stop('SIGKILL');
    return this.snapshot();
  }
}

/**
 * The longest stretch without a successful answer, from the first failure
 * after `from` to the next success (ms); 0 if nothing failed.
 */
export function longestOutage(samples: readonly ProbeSample[], from = 0): { ms: number; start: number | undefined } {
  let worst = 0;
  let worstStart: number | undefined;
  let failingSince: number | undefined;
  for (const s of samples) {
    if (s.t < from) continue;
    if (!s.ok) {
      failingSince ??= s.t;
    } else if (failingSince !== undefined) {
      if (s.t - failingSince > worst) {
        worst = s.t - failingSince;
        worstStart = failingSince;
      }
      failingSince = undefined;
    }
  }
  return { ms: worst, start: worstStart };
}

/** Which node answered last before t, and first after. */
export function servedBy(samples: readonly ProbeSample[]): string[] {
  const order: string[] = [];
  for (const s of samples) if (s.ok && order.at(-1) !== s.from) order.push(s.from);
  return order;
}
