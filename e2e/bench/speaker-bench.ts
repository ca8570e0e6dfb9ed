// `make bench-speaker`: the speaker's numbers, from the client's side of the
// lab LAN, printed (nothing asserted):
//   - failover after a node crash (speaker killed -9, its page server killed,
//     its cable pulled) and after SIGTERM of the holder's speaker: the
//     client's longest outage and the time until the heir's first gratuitous
//     ARP, 20 trials each, p50 and p99;
//   - ARP reply latency of the speaker against the kernel answering its own
//     address on the same node, in the same run (ratio of medians), timed by
//     the kernel's capture timestamps on the client;
//   - API writes per second in steady state with 10, 100 and 250 IPs on 3
//     nodes, and speaker RSS at each size.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ArpCapture, type CapturedArp } from '../../dev/lab/arp-client.js';
import { startLab, stopLab } from '../../dev/lab/current.js';
import { startDataPlane, startServer } from '../../dev/lab/dataplane.js';
import { waitFor } from '../../dev/lab/exec.js';
import type { ManagedProcess } from '../../dev/lab/managed-process.js';
import type { List, Service } from '../../src/k8s/types.js';
import { type BatonProcess, metricValue, startController, startSpeaker } from '../support/baton-process.js';
import { ClientProbe, longestOutage } from '../support/client-probe.js';
import { ensureNode, ipLeaseHolder, waitForHolder } from '../support/cluster-objects.js';
import { createEip, createNamespace, createService, ensureBatonBasics, kube, waitForIngress } from '../support/kube.js';

const TRIALS = Number(process.env['BENCH_TRIALS'] ?? 20);
const SCALE = (process.env['BENCH_SCALE'] ?? '10,100,250').split(',').map(Number);

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}
const median = (xs: number[]): number => percentile(xs, 50);

function firstGarpAfter(frames: CapturedArp[], ip: string, mac: string, t: number): number | undefined {
  return frames
    .filter((f) => f.timeMs >= t && f.senderIp === ip && f.gratuitous && f.senderMac === mac)
    .map((f) => f.timeMs)
    .sort((a, b) => a - b)[0];
}

function rssMiB(pid: number | undefined): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

const g = await startLab();
const speakers = new Map<string, BatonProcess>();
const servers = new Map<string, ManagedProcess>();
let failed = false;
try {
  await ensureBatonBasics();
  for (const n of g.lan.nodes) await ensureNode(n.name);
  for (const [name, proc] of await startDataPlane(g.lan, g.workDir)) servers.set(name, proc);
  await startController({ fastElection: true, extraArgs: ['--log-level=warn'] });
  await createEip('lan-pool', { address: '192.0.2.200-192.0.2.250', protocol: 'layer2', interface: 'eth0' });
  await createEip('bench-pool', { address: '198.51.100.1-198.51.100.254', protocol: 'layer2', interface: 'eth0' });
  const startAll = async (): Promise<void> => {
    for (const n of g.lan.nodes) speakers.set(n.name, await startSpeaker(n.name, { extraArgs: ['--log-level=info'] }));
  };
  await startAll();
  await createNamespace('bench');
  await createService('bench', 'web', { annotations: { 'eip.openelb.kubesphere.io/v1alpha2': 'lan-pool' } });
  const [ip] = (await waitForIngress('bench', 'web')) as [string];
  await waitForHolder(ip);
  const macOf = (name: string): string => g.lan.node(name).mac;

  // --- failover after a crash and after SIGTERM ---------------------------------------------
  const results: Record<'crash' | 'sigterm', { outage: number[]; garp: number[] }> = {
    crash: { outage: [], garp: [] },
    sigterm: { outage: [], garp: [] },
  };
  for (const kind of ['crash', 'sigterm'] as const) {
    for (let trial = 0; trial < TRIALS; trial++) {
      const holder = (await waitForHolder(ip)) as string;
      const node = g.lan.node(holder);
      const capture = await ArpCapture.start(g.lan, g.lan.client, `${kind}-${trial}`, g.workDir);
      const probe = new ClientProbe(ip, 80, 10, 100);
      await waitFor('the probe to succeed', async () => (probe.snapshot().filter((s) => s.ok).length >= 5 ? true : undefined), {
        timeoutMs: 10_000,
      });
      const t0 = Date.now();
      if (kind === 'crash') {
        await Promise.all([speakers.get(holder)?.proc.stop('SIGKILL'), servers.get(holder)?.stop('SIGKILL'), g.lan.cutLink(node)]);
      } else {
        await speakers.get(holder)?.proc.stop('SIGTERM');
      }
      const heir = await waitForHolder(ip, (h) => h !== holder, 30_000);
      await waitFor(
        'the heir to serve',
        async () => (probe.snapshot().some((s) => s.t > t0 && s.ok && s.from === heir) ? true : undefined),
        { timeoutMs: 30_000 },
      );
      await new Promise((r) => setTimeout(r, 300));
      const samples = await probe.stop();
      const frames = await capture.stop();
      results[kind].outage.push(longestOutage(samples, t0).ms);
      results[kind].garp.push((firstGarpAfter(frames, ip, macOf(heir), t0) ?? NaN) - t0);
      if (kind === 'crash') {
        await g.lan.restoreLink(node);
        servers.set(holder, startServer(g.lan, holder));
      }
      speakers.set(holder, await startSpeaker(holder, { extraArgs: ['--log-level=info'] }));
      await new Promise((r) => setTimeout(r, 1_000));
      console.log(
        `[bench] ${kind} ${trial + 1}/${TRIALS}: ${holder} -> ${heir}, client outage ${results[kind].outage.at(-1)} ms, heir announced after ${results[kind].garp.at(-1)?.toFixed(0)} ms`,
      );
    }
  }

  // --- ARP reply latency: speaker vs kernel on the same node --------------------------------
  const holder = (await ipLeaseHolder(ip)) as string;
  const kernelIp = g.lan.node(holder).ip;
  const capture = await ArpCapture.start(g.lan, g.lan.client, 'latency', g.workDir);
  const pinger = g.lan.spawn(g.lan.client, 'arp-pinger', process.execPath, [
    resolve('dist/e2e/bench/arp-pinger.js'),
    'eth0',
    g.lan.client.ip,
    '300',
    '5',
    kernelIp,
    ip,
  ]);
  await pinger.waitForExit();
  const frames = await capture.stop();
  const rtt = (target: string): number[] => {
    const out: number[] = [];
    const sorted = [...frames].sort((a, b) => a.timeMs - b.timeMs);
    for (let i = 0; i < sorted.length; i++) {
      const req = sorted[i] as CapturedArp;
      if (req.operation !== 'request' || req.targetIp !== target || req.senderMac !== g.lan.client.mac) continue;
      const reply = sorted
        .slice(i + 1, i + 20)
        .find((f) => f.operation === 'reply' && f.senderIp === target && f.targetMac === g.lan.client.mac);
      if (reply !== undefined) out.push((reply.timeMs - req.timeMs) * 1000);
    }
    return out;
  };
  const kernelUs = rtt(kernelIp);
  const speakerUs = rtt(ip);

  // --- steady-state API writes and RSS by number of IPs ---------------------------------------
  const scale: Array<{ ips: number; writesPerSecond: number; rssMiB: number; heapMiB: number }> = [];
  await createNamespace('scale');
  let created = 0;
  const writes = async (): Promise<number> => {
    let sum = 0;
    for (const s of speakers.values())
      for (const verb of ['create', 'update', 'patch', 'delete']) sum += await metricValue(s, 'baton_k8s_api_requests_total', { verb });
    return sum;
  };
  for (const target of SCALE) {
    while (created < target) {
      await createService('scale', `svc-${created}`, { annotations: { 'eip.openelb.kubesphere.io/v1alpha2': 'bench-pool' } });
      created++;
    }
    await waitFor(
      `${target} IPs held`,
      async () => {
        const list = await kube().api.list<
          List<{ spec?: { holderIdentity?: string }; metadata: { annotations?: Record<string, string> } }>
        >('/apis/coordination.k8s.io/v1/namespaces/baton-system/leases', { labelSelector: 'baton.dev/lease-kind=ip' });
        const held = list.items.filter(
          (l) => (l.metadata.annotations?.['baton.dev/ip'] ?? '').startsWith('198.51.100.') && (l.spec?.holderIdentity ?? '') !== '',
        ).length;
        return held >= target ? true : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 500 },
    );
    await new Promise((r) => setTimeout(r, 5_000));
    const before = await writes();
    const windowMs = 30_000;
    await new Promise((r) => setTimeout(r, windowMs));
    const after = await writes();
    const rss = Math.max(...[...speakers.values()].map((s) => rssMiB(s.proc.pid)));
    let heap = 0;
    for (const s of speakers.values()) heap = Math.max(heap, (await metricValue(s, 'baton_nodejs_heap_size_used_bytes')) / 2 ** 20);
    scale.push({ ips: target, writesPerSecond: (after - before) / (windowMs / 1000), rssMiB: rss, heapMiB: heap });
    console.log(
      `[bench] ${target} IPs: ${scale.at(-1)!.writesPerSecond.toFixed(2)} writes/s, speaker RSS ${rss.toFixed(0)} MiB, heap used ${heap.toFixed(1)} MiB`,
    );
  }
  const svcCount = (await kube().api.list<List<Service>>('/api/v1/namespaces/scale/services')).items.length;

  const ms = (x: number): string => `${x.toFixed(0)} ms`;
  console.log(`\nSpeaker benchmark (3 nodes, lease ${'1.5 s'}/renew 500 ms/deadline 1 s, outage mode on; ${TRIALS} trials each)`);
  console.log('| measure | p50 | p99 |');
  console.log('| --- | --- | --- |');
  for (const kind of ['crash', 'sigterm'] as const) {
    const label = kind === 'crash' ? 'node crash (kill -9, cable out)' : 'SIGTERM of the holder';
    console.log(`| ${label}: client outage | ${ms(median(results[kind].outage))} | ${ms(percentile(results[kind].outage, 99))} |`);
    console.log(
      `| ${label}: heir's first gratuitous ARP | ${ms(median(results[kind].garp))} | ${ms(percentile(results[kind].garp, 99))} |`,
    );
  }
  console.log(`\n| ARP reply latency (capture timestamps on the client) | median | p99 | samples |`);
  console.log('| --- | --- | --- | --- |');
  console.log(
    `| kernel answering ${kernelIp} | ${median(kernelUs).toFixed(0)} µs | ${percentile(kernelUs, 99).toFixed(0)} µs | ${kernelUs.length} |`,
  );
  console.log(
    `| speaker answering ${ip} (same node) | ${median(speakerUs).toFixed(0)} µs | ${percentile(speakerUs, 99).toFixed(0)} µs | ${speakerUs.length} |`,
  );
  console.log(`| ratio of medians speaker / kernel | ${(median(speakerUs) / median(kernelUs)).toFixed(2)} | | |`);
  console.log(
    `\n| external IPs (3 speakers, ${svcCount} Services) | API writes/s, all speakers | max speaker RSS | max speaker JS heap used |`,
  );
  console.log('| --- | --- | --- | --- |');
  for (const s of scale)
    console.log(`| ${s.ips} | ${s.writesPerSecond.toFixed(2)} | ${s.rssMiB.toFixed(0)} MiB | ${s.heapMiB.toFixed(1)} MiB |`);
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await stopLab();
}
process.exit(failed ? 1 : 0);
