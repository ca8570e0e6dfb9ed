// One TCP connection of a process inside a node's namespace, found and
// stalled: the kernel's socket table (ss) says which connections a process
// has and how many bytes each moved, and an nftables rule drops every
// packet coming in on just one of them (its local port), while the
// process's other connections, new ones included, work. That is a watch
// that hangs while writes go through (an API VIP fail-over, a lagging
// watch cache).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from './errors.js';
import { runInNetns } from './exec.js';
import type { LanHost } from './lan.js';

export interface TcpConnection {
  localPort: number;
  /** host:port of the other end. */
  peer: string;
  pid: number | undefined;
  bytesReceived: number;
  bytesSent: number;
}

/** Established TCP connections in host's namespace to peer (host:port), with their byte counters. */
export async function tcpConnections(host: LanHost, peer: string): Promise<TcpConnection[]> {
  const res = await runInNetns(host.netns, 'ss', ['-tnpiH', 'state', 'established', 'dst', peer]);
  return parseSs(res.stdout);
}

/** Parses `ss -tnpiH state established` output: a line per connection, then an indented line of its TCP info. */
export function parseSs(text: string): TcpConnection[] {
  const out: TcpConnection[] = [];
  let current: TcpConnection | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (!/^\s/.test(line)) {
      const cols = line.trim().split(/\s+/);
      // Recv-Q Send-Q Local:Port Peer:Port [users:(("node",pid=1,fd=2))]
      const local = cols[2] ?? '';
      current = {
        localPort: Number(local.slice(local.lastIndexOf(':') + 1)),
        peer: cols[3] ?? '',
        pid: Number(/pid=(\d+)/.exec(line)?.[1] ?? Number.NaN) || undefined,
        bytesReceived: 0,
        bytesSent: 0,
      };
      out.push(current);
    } else if (current !== undefined) {
      current.bytesReceived = Number(/bytes_received:(\d+)/.exec(line)?.[1] ?? 0);
      current.bytesSent = Number(/bytes_sent:(\d+)/.exec(line)?.[1] ?? 0);
    }
  }
  return out;
}

/**
 * The connection of pid that streams the most while sending (almost)
 * nothing, over sampleMs: a watch. For a speaker that is its lease watch,
 * which carries every speaker's renewals (about 1 KB each, several a
 * second); its other watches are quiet and its write lanes send as much as
 * they receive.
 */
export async function busiestStream(
  host: LanHost,
  pid: number,
  peer: string,
  sampleMs = 2_000,
): Promise<{ connection: TcpConnection; receivedPerSecond: number; sentPerSecond: number }> {
  const before = new Map((await tcpConnections(host, peer)).filter((c) => c.pid === pid).map((c) => [c.localPort, c]));
  await new Promise((r) => setTimeout(r, sampleMs));
  const after = (await tcpConnections(host, peer)).filter((c) => c.pid === pid && before.has(c.localPort));
  const rated = after
    .map((c) => {
      const b = before.get(c.localPort) as TcpConnection;
      return {
        connection: c,
        receivedPerSecond: ((c.bytesReceived - b.bytesReceived) * 1000) / sampleMs,
        sentPerSecond: ((c.bytesSent - b.bytesSent) * 1000) / sampleMs,
      };
    })
    .filter((r) => r.sentPerSecond < 100)
    .sort((a, b) => b.receivedPerSecond - a.receivedPerSecond);
  const best = rated[0];
  if (best === undefined || best.receivedPerSecond < 500)
    throw new LabError(
      'LAB_COMMAND_FAILED',
      `no streaming connection of pid ${pid} to ${peer} in ${host.netns}: ${JSON.stringify(after.map((c) => c.localPort))}`,
    );
  return best;
}

const STALL_TABLE = 'baton_stall';

/** Drops every packet that comes in from peerPort to localPort in host's namespace (the connection hangs; nothing is refused). */
export async function stallConnection(host: LanHost, localPort: number, peerPort: number, workDir: string): Promise<void> {
  const script = join(workDir, `stall-${host.name}-${localPort}.nft`);
  await writeFile(
    script,
    [
      `table inet ${STALL_TABLE} {`,
      '  chain in {',
      '    type filter hook input priority -10; policy accept;',
      `    tcp sport ${peerPort} tcp dport ${localPort} counter drop`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  await runInNetns(host.netns, 'nft', ['-f', script]);
}

/** Removes the stall; returns how many packets it dropped (0 means the stall never hit the connection). */
export async function releaseStall(host: LanHost): Promise<number> {
  const res = await runInNetns(host.netns, 'nft', ['-j', 'list', 'table', 'inet', STALL_TABLE], { allowFailure: true });
  let dropped = 0;
  if (res.exitCode === 0) {
    const parsed = JSON.parse(res.stdout) as { nftables: Array<{ rule?: { expr: Array<{ counter?: { packets: number } }> } }> };
    for (const item of parsed.nftables) for (const e of item.rule?.expr ?? []) dropped += e.counter?.packets ?? 0;
  }
  await runInNetns(host.netns, 'nft', ['delete', 'table', 'inet', STALL_TABLE], { allowFailure: true });
  return dropped;
}
