// Small probes run from inside a namespace with this same Node.js binary (no
// extra tools): a TCP connect with a deadline, and one UDP datagram that
// makes the sender's kernel resolve the address by ARP.
import { runInNetns } from './exec.js';
import type { LanHost } from './lan.js';

const TCP_PROBE = `
const net = require('node:net');
const [host, port, timeout] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port) });
const t = setTimeout(() => { console.log('timeout'); process.exit(0); }, Number(timeout));
s.on('connect', () => { clearTimeout(t); console.log('connected'); s.destroy(); process.exit(0); });
s.on('error', (e) => { clearTimeout(t); console.log('error ' + e.code); process.exit(0); });
`;

export type TcpProbeResult = 'connected' | 'timeout' | `error ${string}`;

/** Tries a TCP connection from inside host's namespace. */
export async function tcpProbe(from: LanHost, ip: string, port: number, timeoutMs: number): Promise<TcpProbeResult> {
  const res = await runInNetns(from.netns, process.execPath, ['-e', TCP_PROBE, ip, String(port), String(timeoutMs)], {
    timeoutMs: timeoutMs + 10_000,
  });
  return res.stdout.trim() as TcpProbeResult;
}

const UDP_NUDGE = `
const s = require('node:dgram').createSocket('udp4');
s.send(Buffer.from('baton'), 9, process.argv[1], () => setTimeout(() => s.close(), 200));
`;

/** Sends one datagram to ip's discard port, so the sender's kernel ARPs for ip and fills its neighbour table. */
export async function udpNudge(from: LanHost, ip: string): Promise<void> {
  await runInNetns(from.netns, process.execPath, ['-e', UDP_NUDGE, ip]);
}
