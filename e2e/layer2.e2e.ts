// The AF_PACKET link's license rule on real sockets: a small host process
// (e2e/support/link-host.ts) holds one address on a node's eth0 through
// AfPacketLink, and the client's real arping and capture check what goes on
// the wire when its event loop freezes, when it is stopped and continued,
// and when another MAC claims the address. No speaker, no control plane.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArpCapture, arping } from '../dev/lab/arp-client.js';
import { lab } from '../dev/lab/current.js';
import { runInNetns, waitFor } from '../dev/lab/exec.js';
import type { LanHost } from '../dev/lab/lan.js';
import type { ManagedProcess } from '../dev/lab/managed-process.js';

const IP = '192.0.2.240';
const SCRIPT = resolve('dist/e2e/support/link-host.js');

type Line = Record<string, unknown>;

interface Host {
  proc: ManagedProcess;
  lines: Line[];
  node: LanHost;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function startHost(node: LanHost, aliveMs: number, defendMs: number): Promise<Host> {
  const lines: Line[] = [];
  let partial = '';
  const proc = lab().lan.spawn(
    node,
    `link-host-${aliveMs}`,
    process.execPath,
    ['--enable-source-maps', SCRIPT, 'hold', node.iface, IP, String(aliveMs), String(defendMs)],
    {
      onOutput: (chunk) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as Line);
      },
    },
  );
  const host = { proc, lines, node };
  const ready = await until(host, (l) => l['ready'] === true, 10_000);
  assert.equal(ready['mac'], node.mac, 'the addon read the interface MAC itself');
  assert.deepEqual(ready['refused'], []);
  assert.equal(ready['announce'], 'sent');
  return host;
}

function until(host: Host, match: (l: Line) => boolean, timeoutMs = 5_000): Promise<Line> {
  return waitFor(
    `${host.proc.name}: a matching output line`,
    async () => {
      host.proc.assertRunning();
      return host.lines.find(match);
    },
    { timeoutMs, intervalMs: 20 },
  );
}

function count(host: Host, verdict: string): number {
  return host.lines.filter((l) => l['frame'] === verdict).length;
}

describe('layer2 link: the license rule on real sockets', { timeout: 60_000 }, () => {
  let capture: ArpCapture;
  const hosts: Host[] = [];

  before(async () => {
    capture = await ArpCapture.start(lab().lan, lab().lan.client, 'layer2-link', lab().workDir);
  });

  after(async () => {
    for (const h of hosts) await h.proc.stop('SIGTERM', 3_000);
    await capture.stop();
    await runInNetns(lab().lan.client.netns, 'ip', ['neigh', 'flush', 'to', IP, 'dev', 'eth0'], { allowFailure: true });
  });

  it('answers a request with exactly the holder MAC, and not while its event loop is frozen', async () => {
    const node = lab().lan.node('node-1');
    const host = await startHost(node, 300, 0);
    hosts.push(host);
    assert.deepEqual((await arping(lab().lan.client, IP, { seconds: 1 })).macs, [node.mac]);

    host.proc.signal('SIGUSR1'); // 2 s busy loop: the reader runs, heartbeats stop
    await sleep(400); // the 300 ms alive window has lapsed
    const frozen = await arping(lab().lan.client, IP, { seconds: 1 });
    assert.ok(frozen.sent >= 1);
    assert.deepEqual(frozen.macs, [], 'no reply once the heartbeat window is over');
    await until(host, (l) => l['busy'] === false);
    await until(host, (l) => l['frame'] === 'unlicensed');
    assert.deepEqual((await arping(lab().lan.client, IP, { seconds: 1 })).macs, [node.mac], 'answers again with heartbeats');
    await host.proc.stop('SIGTERM', 3_000);
  });

  it('never answers, after SIGCONT, the requests queued while the holder was stopped', async () => {
    const node = lab().lan.node('node-2');
    // An alive window longer than the stop: only the stale limit stands between the queue and a late reply.
    const host = await startHost(node, 10_000, 0);
    hosts.push(host);
    assert.deepEqual((await arping(lab().lan.client, IP, { seconds: 1 })).macs, [node.mac]);

    const stoppedAt = Date.now();
    host.proc.signal('SIGSTOP');
    const during = await arping(lab().lan.client, IP, { seconds: 2 });
    assert.ok(during.sent >= 2, `requests queued during the stop: ${during.sent}`);
    assert.deepEqual(during.macs, []);
    await sleep(Math.max(0, stoppedAt + 3_000 - Date.now()));
    host.proc.signal('SIGCONT');
    await sleep(500);
    const late = (await capture.frames()).filter(
      (f) => f.operation === 'reply' && f.senderIp === IP && f.senderMac === node.mac && f.timeMs > stoppedAt,
    );
    assert.deepEqual(late, [], 'no reply to a request that waited through the stop');
    await until(host, () => count(host, 'stale') >= during.sent);
    assert.deepEqual((await arping(lab().lan.client, IP, { seconds: 1 })).macs, [node.mac], 'fresh requests are answered');
  });

  it('stops answering, and says so, when another MAC announces the address it does not defend', async () => {
    const host = hosts.at(-1) as Host;
    const rival = lab().lan.node('node-3');
    const claimed = await runInNetns(rival.netns, process.execPath, ['--enable-source-maps', SCRIPT, 'claim', rival.iface, IP]);
    assert.match(claimed.stdout, /"claimed"/);
    const yielded = await until(host, (l) => l['event'] === 'yielded');
    assert.deepEqual(yielded, { event: 'yielded', ip: IP, gen: 1, reason: 'claim', mac: rival.mac });
    const after = await arping(lab().lan.client, IP, { seconds: 1 });
    assert.ok(after.sent >= 1);
    assert.deepEqual(after.macs, [], 'the rival does not answer ARP for it either, and the holder has yielded');
    assert.ok(count(host, 'yielded') >= 1, 'the requests are counted as yielded');
  });
});
