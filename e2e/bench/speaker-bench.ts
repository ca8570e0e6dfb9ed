// `make bench-speaker`: the speaker's numbers, from the client's side of the
// lab LAN, printed (nothing asserted):
//   - failover after a node crash (speaker killed -9, its page server killed,
//     its cable pulled) and after SIGTERM of the holder's speaker, for an
//     IPv4 and an IPv6 Service: the client's longest outage and the time
//     until the heir's first gratuitous ARP or unsolicited NA, 20 trials
//     each, p50 and p99;
//   - ARP and NA reply latency of the speaker against the kernel answering
//     its own address on the same node, in the same run (ratio of medians),
//     timed by the kernel's capture timestamps on the client;
//   - API writes per second in steady state with 10, 100 and 250 IPs on 3
//     nodes, and speaker RSS at each size.
// BENCH_LIVENESS picks how speakers prove they are alive: fast (as shipped),
// heartbeats (--heartbeats=true: LAN heartbeats over real UDP between the
// node namespaces) or slow (--heartbeats=true --liveness=slow), so the
// designs of docs/heartbeats.md are measured on the same LAN and trials.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ArpCapture, type CapturedArp, firstAnnouncement } from '../../dev/lab/arp-client.js';
import { startLab, stopLab } from '../../dev/lab/current.js';
import { startDataPlane, startServer } from '../../dev/lab/dataplane.js';
import { waitFor } from '../../dev/lab/exec.js';
import type { ManagedProcess } from '../../dev/lab/managed-process.js';
import { advertisements, NDP_CAPTURE_FILTER } from '../../dev/lab/ndp-client.js';
import type { List, Service } from '../../src/k8s/types.js';
import { decodeNdpFrame } from '../../src/layer2/packet/ndp.js';
import {
  type BatonProcess,
  livenessFromEnv,
  metricSeries,
  metricValue,
  startController,
  startSpeaker,
  withLiveness,
} from '../support/baton-process.js';
import { ClientProbe, longestOutage } from '../support/client-probe.js';
import { ensureNode, ipLeaseHolder, waitForHolder } from '../support/cluster-objects.js';
import { createEip, createNamespace, createService, ensureBatonBasics, kube, waitForIngress } from '../support/kube.js';

const TRIALS = Number(process.env['BENCH_TRIALS'] ?? 20);
// Speakers run as the image runs them (no source maps, info logs, NODE_ENV=production), so RSS is what ships;
// BENCH_NODE_FLAGS (space-separated Node.js/V8 flags) is for trying footprint settings against that baseline.
const SPEAKER_AS_SHIPPED = {
  shipped: true,
  nodeFlags: (process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== ''),
} as const;
const SCALE = (process.env['BENCH_SCALE'] ?? '10,100,250').split(',').map(Number);
const LIVENESS = livenessFromEnv('BENCH_LIVENESS');
/** Owners unchanged this long count as settled (rebalancing moves one IP a second per speaker, so 10 s means it is done). */
const SETTLED_MS = 10_000;
/** Measure anyway after this long, and the printed settle time says so. */
const SETTLE_TIMEOUT_MS = 600_000;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}
const median = (xs: number[]): number => percentile(xs, 50);

function rssMiB(pid: number | undefined): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

const g = await startLab();
/** How each speaker is started: as shipped, plus the liveness design under test. */
const speakerOptions = (nodeName: string) => withLiveness(SPEAKER_AS_SHIPPED, g.lan.node(nodeName).ip, LIVENESS);
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
  await createEip('lan-pool6', { address: '2001:db8:ba70:e::200-2001:db8:ba70:e::2ff', protocol: 'layer2', interface: 'eth0' });
  const startAll = async (): Promise<void> => {
    for (const n of g.lan.nodes) speakers.set(n.name, await startSpeaker(n.name, speakerOptions(n.name)));
  };
  await startAll();
  await createNamespace('bench');
  await createService('bench', 'web', { annotations: { 'eip.openelb.kubesphere.io/v1alpha2': 'lan-pool' } });
  const [ip] = (await waitForIngress('bench', 'web')) as [string];
  await waitForHolder(ip);
  await createService('bench', 'web6', {
    annotations: { 'eip.openelb.kubesphere.io/v1alpha2': 'lan-pool6' },
    ipFamilies: ['IPv6'],
    ipFamilyPolicy: 'SingleStack',
  });
  const [ip6] = (await waitForIngress('bench', 'web6')) as [string];
  await waitForHolder(ip6);
  const macOf = (name: string): string => g.lan.node(name).mac;

  // --- failover after a crash and after SIGTERM, per family ------------------------------------
  type Kind = 'crash' | 'sigterm' | 'crash6' | 'sigterm6';
  const KINDS: Kind[] = ['crash', 'sigterm', 'crash6', 'sigterm6'];
  const results = Object.fromEntries(KINDS.map((k) => [k, { outage: [] as number[], garp: [] as number[] }])) as Record<
    Kind,
    { outage: number[]; garp: number[] }
  >;
  for (const kind of KINDS) {
    const v6 = kind.endsWith('6');
    const target = v6 ? ip6 : ip;
    for (let trial = 0; trial < TRIALS; trial++) {
      const holder = (await waitForHolder(target)) as string;
      const node = g.lan.node(holder);
      const capture = await ArpCapture.start(g.lan, g.lan.client, `${kind}-${trial}`, g.workDir, v6 ? { filter: NDP_CAPTURE_FILTER } : {});
      const probe = new ClientProbe(target, 80, 10, 100);
      await waitFor('the probe to succeed', async () => (probe.snapshot().filter((s) => s.ok).length >= 5 ? true : undefined), {
        timeoutMs: 10_000,
      });
      const t0 = Date.now();
      if (kind.startsWith('crash')) {
        await Promise.all([speakers.get(holder)?.proc.stop('SIGKILL'), servers.get(holder)?.stop('SIGKILL'), g.lan.cutLink(node)]);
      } else {
        await speakers.get(holder)?.proc.stop('SIGTERM');
      }
      const heir = await waitForHolder(target, (h) => h !== holder, 30_000);
      await waitFor(
        'the heir to serve',
        async () => (probe.snapshot().some((s) => s.t > t0 && s.ok && s.from === heir) ? true : undefined),
        { timeoutMs: 30_000 },
      );
      await new Promise((r) => setTimeout(r, 300));
      const samples = await probe.stop();
      const frames = v6 ? await capture.halt().then(() => advertisements(capture)) : await capture.stop();
      results[kind].outage.push(longestOutage(samples, t0).ms);
      results[kind].garp.push((firstAnnouncement(frames, target, macOf(heir), t0) ?? NaN) - t0);
      if (kind.startsWith('crash')) {
        await g.lan.restoreLink(node);
        servers.set(holder, startServer(g.lan, holder));
      }
      speakers.set(holder, await startSpeaker(holder, speakerOptions(holder)));
      await new Promise((r) => setTimeout(r, 1_000));
      console.log(
        `[bench] ${kind} ${trial + 1}/${TRIALS}: ${holder} -> ${heir}, client outage ${results[kind].outage.at(-1)} ms, heir announced after ${results[kind].garp.at(-1)?.toFixed(0)} ms`,
      );
    }
  }

  // --- ARP and NA reply latency: speaker vs kernel on the same node ----------------------------
  const holder = (await ipLeaseHolder(ip)) as string;
  const kernelIp = g.lan.node(holder).ip;
  const holder6 = (await ipLeaseHolder(ip6)) as string;
  const kernelIp6 = g.lan.node(holder6).ip6;
  const capture = await ArpCapture.start(g.lan, g.lan.client, 'latency', g.workDir, { filter: `arp or (${NDP_CAPTURE_FILTER})` });
  const pinger = g.lan.spawn(g.lan.client, 'arp-pinger', process.execPath, [
    resolve('dist/e2e/bench/arp-pinger.js'),
    'eth0',
    `${g.lan.client.ip},${g.lan.client.ip6}`,
    '300',
    '5',
    kernelIp,
    ip,
    kernelIp6,
    ip6,
  ]);
  await pinger.waitForExit();
  await capture.halt();
  const frames = await capture.frames();
  const ndp = (await capture.records()).flatMap((r) => {
    const d = decodeNdpFrame(r.data);
    return d.ok ? [{ ...d.value, timeMs: r.timeMs }] : [];
  });
  /** NS from the client for target, each paired with the first solicited NA for it back to the client. */
  const rtt6 = (target: string): number[] => {
    const out: number[] = [];
    for (let i = 0; i < ndp.length; i++) {
      const req = ndp[i];
      if (req === undefined || req.type !== 'solicitation' || req.target !== target || req.ethernetSource !== g.lan.client.mac) continue;
      const reply = ndp
        .slice(i + 1, i + 20)
        .find((f) => f.type === 'advertisement' && f.solicited && f.target === target && f.ethernetDestination === g.lan.client.mac);
      if (reply !== undefined) out.push((reply.timeMs - req.timeMs) * 1000);
    }
    return out;
  };
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
  const kernel6Us = rtt6(kernelIp6);
  const speaker6Us = rtt6(ip6);

  // --- steady-state API writes and RSS by number of IPs ---------------------------------------
  const scale: Array<{ ips: number; writesPerSecond: number; byResource: string; rssMiB: number; heapMiB: number }> = [];
  await createNamespace('scale');
  let created = 0;
  // Writes of all speakers by resource ("leases", "events", ...): what the total is made of.
  const writes = async (): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    for (const s of speakers.values())
      for (const verb of ['create', 'update', 'patch', 'delete'])
        for (const [labels, n] of await metricSeries(s, 'baton_k8s_api_requests_total', { verb })) {
          const resource = labels['resource'] ?? '?';
          out.set(resource, (out.get(resource) ?? 0) + n);
        }
    return out;
  };
  const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
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
    // Steady state, not settling: new IPs rebalance one a second per speaker, so hundreds take minutes to spread.
    // Measure once no IP Lease has changed holder for SETTLED_MS (at most SETTLE_TIMEOUT_MS), and say how long it took.
    const settleStart = Date.now();
    let lastHolders = '';
    let stableSince = Date.now();
    while (Date.now() - stableSince < SETTLED_MS && Date.now() - settleStart < SETTLE_TIMEOUT_MS) {
      const list = await kube().api.list<List<{ spec?: { holderIdentity?: string }; metadata: { name: string } }>>(
        '/apis/coordination.k8s.io/v1/namespaces/baton-system/leases',
        { labelSelector: 'baton.dev/lease-kind=ip' },
      );
      const holders = list.items
        .map((l) => `${l.metadata.name}=${l.spec?.holderIdentity ?? ''}`)
        .sort()
        .join(',');
      if (holders !== lastHolders) {
        lastHolders = holders;
        stableSince = Date.now();
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
    console.log(
      `[bench] ${target} IPs: owners unchanged for ${SETTLED_MS / 1000} s after ${((Date.now() - settleStart) / 1000).toFixed(0)} s`,
    );
    const before = await writes();
    const windowMs = 30_000;
    await new Promise((r) => setTimeout(r, windowMs));
    const after = await writes();
    const rss = Math.max(...[...speakers.values()].map((s) => rssMiB(s.proc.pid)));
    let heap = 0;
    for (const s of speakers.values()) heap = Math.max(heap, (await metricValue(s, 'baton_nodejs_heap_size_used_bytes')) / 2 ** 20);
    const perSecond = (n: number): string => (n / (windowMs / 1000)).toFixed(2);
    const byResource = [...after]
      .map(([r, n]) => [r, n - (before.get(r) ?? 0)] as const)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([r, n]) => `${r} ${perSecond(n)}`)
      .join(', ');
    scale.push({
      ips: target,
      writesPerSecond: (total(after) - total(before)) / (windowMs / 1000),
      byResource,
      rssMiB: rss,
      heapMiB: heap,
    });
    console.log(
      `[bench] ${target} IPs: ${scale.at(-1)!.writesPerSecond.toFixed(2)} writes/s (${byResource || 'none'}), speaker RSS ${rss.toFixed(0)} MiB, heap used ${heap.toFixed(1)} MiB`,
    );
  }
  const svcCount = (await kube().api.list<List<Service>>('/api/v1/namespaces/scale/services')).items.length;

  const ms = (x: number): string => `${x.toFixed(0)} ms`;
  const design =
    LIVENESS === 'fast'
      ? 'liveness Lease 1.5 s/renew 500 ms/deadline 1 s'
      : LIVENESS === 'heartbeats'
        ? 'liveness Lease 1.5 s/renew 500 ms, LAN heartbeats every 100 ms'
        : 'slow liveness Lease (renew 10 s), LAN heartbeats every 100 ms';
  console.log(`\nSpeaker benchmark (3 nodes, ${design}, outage mode on; ${TRIALS} trials each)`);
  console.log('| measure | p50 | p99 |');
  console.log('| --- | --- | --- |');
  for (const kind of KINDS) {
    const v6 = kind.endsWith('6');
    const label = `${v6 ? 'IPv6' : 'IPv4'} ${kind.startsWith('crash') ? 'node crash (kill -9, cable out)' : 'SIGTERM of the holder'}`;
    const announcement = v6 ? 'unsolicited NA' : 'gratuitous ARP';
    console.log(`| ${label}: client outage | ${ms(median(results[kind].outage))} | ${ms(percentile(results[kind].outage, 99))} |`);
    console.log(
      `| ${label}: heir's first ${announcement} | ${ms(median(results[kind].garp))} | ${ms(percentile(results[kind].garp, 99))} |`,
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
  console.log(`\n| NA reply latency to a multicast NS (capture timestamps on the client) | median | p99 | samples |`);
  console.log('| --- | --- | --- | --- |');
  console.log(
    `| kernel answering ${kernelIp6} | ${median(kernel6Us).toFixed(0)} µs | ${percentile(kernel6Us, 99).toFixed(0)} µs | ${kernel6Us.length} |`,
  );
  console.log(
    `| speaker answering ${ip6} (same node) | ${median(speaker6Us).toFixed(0)} µs | ${percentile(speaker6Us, 99).toFixed(0)} µs | ${speaker6Us.length} |`,
  );
  console.log(`| ratio of medians speaker / kernel | ${(median(speaker6Us) / median(kernel6Us)).toFixed(2)} | | |`);
  console.log(
    `\n| external IPs (3 speakers, ${svcCount} Services) | API writes/s, all speakers | of which, by resource | max speaker RSS | max speaker JS heap used |`,
  );
  console.log('| --- | --- | --- | --- | --- |');
  for (const s of scale)
    console.log(
      `| ${s.ips} | ${s.writesPerSecond.toFixed(2)} | ${s.byResource || '-'} | ${s.rssMiB.toFixed(0)} MiB | ${s.heapMiB.toFixed(1)} MiB |`,
    );
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await stopLab();
}
process.exit(failed ? 1 : 0);
