// `make bench-footprint`: what a speaker and a controller cost in memory
// and CPU, and what Node.js settings change about it, each against the
// shipped baseline in the same run (nothing asserted, numbers printed).
// Processes run as the image runs them (no source maps, info logs,
// NODE_ENV=production).
//   - 3 speakers holding BENCH_IPS (default 250) external IPs between them,
//     per variant (Node.js settings, and the fast liveness design beside the
//     shipped one): max and mean RSS, max JS heap used, CPU per speaker, once
//     owners have settled, over a BENCH_WINDOW_MS (default 60 s) window;
//   - one controller with BENCH_SERVICES (default 1,000) Services, per
//     variant: RSS and heap once it has given every one its address.
// BENCH_VARIANTS (keys below, comma-separated) runs some variants only.
import { readFileSync } from 'node:fs';
import { startLab, stopLab } from '../../dev/lab/current.js';
import { waitFor } from '../../dev/lab/exec.js';
import type { List, Service } from '../../src/k8s/types.js';
import { type BatonProcess, type Liveness, metricValue, startController, startSpeaker, withLiveness } from '../support/baton-process.js';
import { ensureNode } from '../support/cluster-objects.js';
import { createEip, createNamespace, createService, ensureBatonBasics, kube } from '../support/kube.js';

const IPS = Number(process.env['BENCH_IPS'] ?? 250);
const SERVICES = Number(process.env['BENCH_SERVICES'] ?? 1_000);
const WINDOW_MS = Number(process.env['BENCH_WINDOW_MS'] ?? 60_000);
const SETTLED_MS = 10_000;
// Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks.
const TICKS_PER_SECOND = 100;

interface Variant {
  /** BENCH_VARIANTS picks variants by this key (default: all). */
  key: string;
  name: string;
  nodeFlags: string[];
  env: Record<string, string>;
  /** The liveness design, if not the shipped one (speakers only: the controller has none). */
  liveness?: Liveness;
}

// Candidates from the measurements of what RSS is made of (README, Benchmarks): V8's optimizing compiler and
// its code (lite mode), and glibc's per-thread malloc arenas (the addon's reader threads, libuv's pool).
const VARIANTS: Variant[] = [
  { key: 'shipped', name: 'shipped (node)', nodeFlags: [], env: {} },
  { key: 'lite', name: 'node --lite-mode', nodeFlags: ['--lite-mode'], env: {} },
  { key: 'arena', name: 'MALLOC_ARENA_MAX=2', nodeFlags: [], env: { MALLOC_ARENA_MAX: '2' } },
  { key: 'lite-arena', name: 'node --lite-mode, MALLOC_ARENA_MAX=2', nodeFlags: ['--lite-mode'], env: { MALLOC_ARENA_MAX: '2' } },
];
// The other liveness design beside the shipped one, same Node.js: what the heartbeats and the slow Lease cost.
const SPEAKER_VARIANTS: Variant[] = [
  ...VARIANTS,
  { key: 'fast', name: 'fast Lease liveness, no heartbeats (node)', nodeFlags: [], env: {}, liveness: 'fast' },
];

// BENCH_VARIANTS=shipped,lite runs those alone (a variant takes minutes: 250 IPs must settle first).
const PICKED = process.env['BENCH_VARIANTS']?.split(',');
const picked = (v: Variant): boolean => PICKED === undefined || PICKED.includes(v.key);

function procStat(pid: number | undefined): { rssMiB: number; cpuTicks: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    rssMiB: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024,
    // utime and stime (fields 14 and 15 of stat; 12 and 13 after the state field).
    cpuTicks: Number(fields[11]) + Number(fields[12]),
  };
}

async function ipHolders(): Promise<string> {
  const list = await kube().api.list<List<{ metadata: { name: string }; spec?: { holderIdentity?: string } }>>(
    '/apis/coordination.k8s.io/v1/namespaces/baton-system/leases',
    { labelSelector: 'baton.dev/lease-kind=ip' },
  );
  return list.items
    .filter((l) => (l.spec?.holderIdentity ?? '') !== '')
    .map((l) => `${l.metadata.name}=${l.spec?.holderIdentity}`)
    .sort()
    .join(',');
}

const lab = await startLab();
let failed = false;
const speakerRows: string[] = [];
const controllerRows: string[] = [];
try {
  await ensureBatonBasics();
  for (const n of lab.lan.nodes) await ensureNode(n.name);
  let controller = await startController({ shipped: true, extraArgs: ['--log-level=warn'] });
  await createEip('footprint-pool', { address: '2001:db8:f00d::1-2001:db8:f00d::ffff', protocol: 'layer2', interface: 'eth0' });
  await createNamespace('footprint');
  const ensureServices = async (n: number): Promise<void> => {
    const have = (await kube().api.list<List<Service>>('/api/v1/namespaces/footprint/services')).items.length;
    for (let i = have; i < n; i++)
      await createService('footprint', `s-${i}`, {
        annotations: { 'eip.openelb.kubesphere.io/v1alpha2': 'footprint-pool' },
        ipFamilies: ['IPv6'],
        ipFamilyPolicy: 'SingleStack',
      });
    await waitFor(
      `${n} Services with an address`,
      async () =>
        (await kube().api.list<List<Service>>('/api/v1/namespaces/footprint/services')).items.filter(
          (s) => s.status?.loadBalancer?.ingress?.[0]?.ip !== undefined,
        ).length >= n
          ? true
          : undefined,
      { timeoutMs: 600_000, intervalMs: 1_000 },
    );
  };
  await ensureServices(IPS);

  // --- speakers -------------------------------------------------------------------------------
  let baseline: { rss: number; cpu: number } | undefined;
  for (const v of SPEAKER_VARIANTS.filter(picked)) {
    const speakers = new Map<string, BatonProcess>();
    for (const n of lab.lan.nodes) {
      const options = { shipped: true, nodeFlags: v.nodeFlags, env: v.env };
      speakers.set(n.name, await startSpeaker(n.name, v.liveness === undefined ? options : withLiveness(options, n.ip, v.liveness)));
    }
    try {
      let last = '';
      let stableSince = Date.now();
      await waitFor(
        `${IPS} IPs held, owners settled (${v.name})`,
        async () => {
          const h = await ipHolders();
          if (h !== last) {
            last = h;
            stableSince = Date.now();
          }
          return h.split(',').filter((x) => x !== '').length >= IPS && Date.now() - stableSince >= SETTLED_MS ? true : undefined;
        },
        { timeoutMs: 900_000, intervalMs: 1_000 },
      );
      const before = [...speakers.values()].map((s) => procStat(s.proc.pid));
      await new Promise((r) => setTimeout(r, WINDOW_MS));
      const after = [...speakers.values()].map((s) => procStat(s.proc.pid));
      let heap = 0;
      for (const s of speakers.values()) heap = Math.max(heap, (await metricValue(s, 'baton_nodejs_heap_size_used_bytes')) / 2 ** 20);
      const rss = after.map((a) => a.rssMiB);
      const cpu = after.map((a, i) => (a.cpuTicks - (before[i]?.cpuTicks ?? 0)) / TICKS_PER_SECOND / (WINDOW_MS / 1000));
      const maxRss = Math.max(...rss);
      const meanCpu = cpu.reduce((a, b) => a + b, 0) / cpu.length;
      baseline ??= { rss: maxRss, cpu: meanCpu };
      const row = `| ${v.name} | ${maxRss.toFixed(0)} MiB (${(maxRss / baseline.rss).toFixed(2)}x) | ${(rss.reduce((a, b) => a + b, 0) / rss.length).toFixed(0)} MiB | ${heap.toFixed(1)} MiB | ${(meanCpu * 100).toFixed(1)}% of a core (${(meanCpu / Math.max(baseline.cpu, 1e-9)).toFixed(2)}x) |`;
      speakerRows.push(row);
      console.log(`[bench] speakers ${row}`);
    } finally {
      await Promise.all([...speakers.values()].map((s) => s.proc.stop('SIGTERM', 15_000)));
    }
  }

  // --- controller -----------------------------------------------------------------------------
  await ensureServices(SERVICES);
  let controllerBaseline: number | undefined;
  for (const v of VARIANTS.filter(picked)) {
    await controller.proc.stop('SIGTERM', 15_000);
    const started = Date.now();
    controller = await startController({ shipped: true, extraArgs: ['--log-level=warn'], nodeFlags: v.nodeFlags, env: v.env });
    // Leader, caches synced, every Service's address rebuilt into its table: then a minute of the steady state.
    await waitFor('the controller to lead', async () => ((await metricValue(controller, 'baton_leader')) === 1 ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    const readyMs = Date.now() - started;
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const { rssMiB } = procStat(controller.proc.pid);
    const heap = (await metricValue(controller, 'baton_nodejs_heap_size_used_bytes')) / 2 ** 20;
    controllerBaseline ??= rssMiB;
    const row = `| ${v.name} | ${rssMiB.toFixed(0)} MiB (${(rssMiB / controllerBaseline).toFixed(2)}x) | ${heap.toFixed(1)} MiB | ${(readyMs / 1000).toFixed(1)} s |`;
    controllerRows.push(row);
    console.log(`[bench] controller ${row}`);
  }
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  console.log(
    `\n| speaker variant (3 speakers, ${IPS} IPs, steady state) | max RSS (vs shipped) | mean RSS | max JS heap used | CPU per speaker (vs shipped) |`,
  );
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of speakerRows) console.log(r);
  console.log(
    `\n| controller variant (${SERVICES} Services) | RSS after a minute as leader (vs shipped) | JS heap used | start to leader |`,
  );
  console.log('| --- | --- | --- | --- |');
  for (const r of controllerRows) console.log(r);
  await stopLab();
}
process.exit(failed ? 1 : 0);
