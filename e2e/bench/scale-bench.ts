// `make bench-scale`: what a cluster of many speakers costs the API server,
// measured against the real control plane (nothing asserted, numbers
// printed). BENCH_SPEAKERS speakers (default 50, the product's own Speaker
// class, 10 per process: scale-worker.ts), at each of BENCH_IPS (default
// 10 and 1,000 external IPs), for each liveness design side by side in the
// same run:
//   - API writes/s per speaker (mean and max) in steady state;
//   - watch events/s delivered to one speaker (mean and max), all its
//     informers and its Lease informer alone;
//   - kube-apiserver CPU (share of one core) and etcd revisions per minute;
//   - cold start: from starting every speaker with no Lease to every IP
//     Lease naming a holder.
import { join, resolve } from 'node:path';
import { startLab, stopLab } from '../../dev/lab/current.js';
import { run, waitFor } from '../../dev/lab/exec.js';
import { ManagedProcess } from '../../dev/lab/managed-process.js';
import { LEASE_SELECTOR } from '../../src/k8s/lease-names.js';
import type { Lease, List, Service } from '../../src/k8s/types.js';
import { SPEAKER_DEFAULTS, type SpeakerConfig } from '../../src/speaker/config.js';
import { expectedLoad } from '../../src/speaker/expected-load.js';
import { startController } from '../support/baton-process.js';
import { ensureNode } from '../support/cluster-objects.js';
import { createEip, createNamespace, ensureBatonBasics, kube } from '../support/kube.js';
import type { SpeakerSample, WorkerConfig } from './scale-worker.js';

const SPEAKERS = Number(process.env['BENCH_SPEAKERS'] ?? 50);
const PER_WORKER = 10;
const SIZES = (process.env['BENCH_IPS'] ?? '10,1000').split(',').map(Number);
const WINDOW_MS = Number(process.env['BENCH_WINDOW_MS'] ?? 60_000);
/** Holders unchanged this long count as settled (rebalancing moves an IP a second per speaker). */
const SETTLED_MS = 10_000;
/**
 * Measure anyway after this long: a design that keeps moving IPs on an
 * overloaded machine is part of the result (the row says it never settled),
 * not a reason to print nothing.
 */
const SETTLE_TIMEOUT_MS = 180_000;
/** A cold start that has not given every IP a holder by then is reported as such (with how many it had). */
const COLD_START_TIMEOUT_MS = 300_000;
const NS = 'baton-system';
const WORKER = join(import.meta.dirname, 'scale-worker.js');
// Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks.
const TICKS_PER_SECOND = 100;

interface Mode {
  /** BENCH_MODES picks modes by this key. */
  key: 'fast' | 'heartbeats' | 'slow';
  name: string;
  heartbeats: boolean;
  settings?: Partial<SpeakerConfig>;
}

const ALL_MODES: Mode[] = [
  { key: 'fast', name: 'fast Lease liveness (renewed every 500 ms, watched by all)', heartbeats: false, settings: { liveness: 'fast' } },
  { key: 'heartbeats', name: 'fast Lease liveness + LAN heartbeats', heartbeats: true, settings: { liveness: 'fast' } },
  { key: 'slow', name: 'slow Lease liveness (10 s, watched by none) + LAN heartbeats', heartbeats: true, settings: { liveness: 'slow' } },
];
// BENCH_MODES=fast,slow skips the middle design (a run at 1,000 IPs takes minutes per mode).
const MODES = ((): Mode[] => {
  const keys = (process.env['BENCH_MODES'] ?? 'fast,heartbeats,slow').split(',');
  const unknown = keys.filter((k) => !ALL_MODES.some((m) => m.key === k));
  if (unknown.length > 0) throw new Error(`BENCH_MODES: fast, heartbeats or slow, got ${unknown.join(', ')}`);
  return ALL_MODES.filter((m) => keys.includes(m.key));
})();

interface Row {
  mode: string;
  ips: number;
  /** NaN: not every IP had a holder within COLD_START_TIMEOUT_MS (heldAfterColdStart says how many did). */
  coldStartMs: number;
  heldAfterColdStart: number;
  writesPerSpeaker: { mean: number; max: number };
  eventsPerSpeaker: { mean: number; max: number };
  leaseEventsPerSpeaker: { mean: number; max: number };
  apiServerCpu: number;
  etcdRevisionsPerMinute: number;
  /** Whether holders stopped changing before the window (SETTLED_MS without a change, within SETTLE_TIMEOUT_MS). */
  settled: boolean;
  /** IPs whose holder changed during the window: 0 in a steady state. */
  holderChangesInWindow: number;
  /** What src/speaker/expected-load.ts states for this design: writes/s and Lease events/s per speaker. */
  expected: { writes: number; leaseEvents: number };
}

const nodes = Array.from({ length: SPEAKERS }, (_, i) => `scale-${String(i + 1).padStart(3, '0')}`);

async function apiServerTicks(pid: number): Promise<number> {
  const stat = (await run('cat', [`/proc/${pid}/stat`])).stdout;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime: fields 14 and 15 of stat, 12 and 13 after the state field here.
  return Number(fields[11]) + Number(fields[12]);
}

async function etcdRevision(url: string): Promise<number> {
  const res = await fetch(`${url}/v3/maintenance/status`, { method: 'POST', body: '{}' });
  const body = (await res.json()) as { header?: { revision?: string } };
  return Number(body.header?.revision ?? Number.NaN);
}

async function holders(): Promise<Map<string, string>> {
  const list = await kube().api.list<List<Lease>>(`/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`, {
    labelSelector: 'baton.dev/lease-kind=ip',
  });
  return new Map(list.items.map((l) => [l.metadata.name, l.spec?.holderIdentity ?? '']));
}

class Workers {
  private readonly latest = new Map<number, SpeakerSample[]>();
  private readonly procs: ManagedProcess[] = [];

  constructor(mode: Mode, workDir: string, kubeconfig: string) {
    for (let i = 0; i < nodes.length; i += PER_WORKER) {
      const config: WorkerConfig = {
        kubeconfig,
        namespace: NS,
        nodes: nodes.slice(i, i + PER_WORKER),
        allNodes: nodes,
        heartbeats: mode.heartbeats,
        heartbeatKey: 'bench-scale-key-of-at-least-32-bytes!!',
        heartbeatBasePort: 27_400,
        settings: mode.settings,
      };
      const w = i / PER_WORKER;
      // BENCH_CPU_PROF=1: the first worker writes a V8 CPU profile (on its SIGTERM exit) to reports/, which
      // outlives the lab's folder, to see where a speaker's time goes under load; one worker only, so the
      // others run as measured.
      const profile =
        process.env['BENCH_CPU_PROF'] === '1' && w === 0 ? ['--cpu-prof', `--cpu-prof-dir=${resolve('reports/scale-cpu-prof')}`] : [];
      let buffer = '';
      this.procs.push(
        ManagedProcess.spawn(`scale-worker-${w}`, process.execPath, [...profile, WORKER, JSON.stringify(config)], {
          logFile: join(workDir, `scale-worker-${w}.log`),
          onOutput: (chunk) => {
            buffer += chunk;
            const lines = buffer.split('\n');
            buffer = lines.pop() ?? '';
            for (const line of lines) {
              if (!line.startsWith('{"t"')) continue;
              this.latest.set(w, (JSON.parse(line) as { samples: SpeakerSample[] }).samples);
            }
          },
        }),
      );
    }
  }

  samples(): SpeakerSample[] {
    return [...this.latest.values()].flat();
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop('SIGTERM', 15_000)));
  }
}

function expectedOf(mode: Mode): { writes: number; leaseEvents: number } {
  const e = expectedLoad({ ...SPEAKER_DEFAULTS, ...mode.settings, nodeName: nodes[0] as string, namespace: NS });
  return { writes: e.writesPerSecond, leaseEvents: e.leaseEventsPerSecond(nodes.length) };
}

const stats = (xs: number[]): { mean: number; max: number } => ({
  mean: xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length),
  max: Math.max(0, ...xs),
});

const lab = await startLab();
let failed = false;
const rows: Row[] = [];
try {
  await ensureBatonBasics();
  for (const n of nodes) await ensureNode(n);
  await startController({ extraArgs: ['--log-level=warn'] });
  await createEip('scale-pool', { address: '2001:db8:5ca1::1-2001:db8:5ca1::ffff', protocol: 'layer2', interface: 'eth0' });
  await createNamespace('scale');
  let services = 0;
  for (const size of SIZES) {
    for (; services < size; services++) {
      await kube().api.create('/api/v1/namespaces/scale/services', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: `s-${services}`,
          annotations: { 'lb.kubesphere.io/v1alpha1': 'openelb', 'eip.openelb.kubesphere.io/v1alpha2': 'scale-pool' },
        },
        spec: { type: 'LoadBalancer', ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack', ports: [{ port: 80 }] },
      });
    }
    await waitFor(
      `${size} Services with an address`,
      async () => {
        const list = await kube().api.list<List<Service>>('/api/v1/namespaces/scale/services');
        return list.items.filter((s) => s.status?.loadBalancer?.ingress?.[0]?.ip !== undefined).length >= size ? true : undefined;
      },
      { timeoutMs: 600_000, intervalMs: 1_000 },
    );
    for (const mode of MODES) {
      // A cold start: no Lease of any speaker or IP.
      const leases = await kube().api.list<List<Lease>>(`/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`, {
        labelSelector: LEASE_SELECTOR,
      });
      for (const l of leases.items) await kube().api.delete(`/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${l.metadata.name}`);
      const started = Date.now();
      const workers = new Workers(mode, lab.workDir, lab.controlPlane.adminKubeconfig);
      try {
        let held = 0;
        const allHeld = await waitFor(
          `every one of ${size} IPs to have a holder (${mode.name})`,
          async () => {
            const h = await holders();
            held = [...h.values()].filter((x) => x !== '').length;
            return held >= size ? true : undefined;
          },
          { timeoutMs: COLD_START_TIMEOUT_MS, intervalMs: 250 },
        ).catch(() => false);
        // A design that cannot hand out every IP in that time on this machine: the row says how many it had.
        const coldStartMs = allHeld ? Date.now() - started : Number.NaN;
        if (!allHeld) console.log(`[bench] ${mode.name}, ${size} IPs: only ${held} held after ${COLD_START_TIMEOUT_MS / 1000} s`);
        let last = await holders();
        let stableSince = Date.now();
        const settled = await waitFor(
          'holders to settle',
          async () => {
            const now = await holders();
            const changed = [...now].some(([k, v]) => last.get(k) !== v);
            last = now;
            if (changed) stableSince = Date.now();
            return Date.now() - stableSince >= SETTLED_MS ? true : undefined;
          },
          { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 1_000 },
        ).catch(() => false);
        const pid = lab.controlPlane.apiServerPid as number;
        const h0 = await holders();
        const [t0, rev0, ticks0, s0] = [
          Date.now(),
          await etcdRevision(lab.controlPlane.etcdUrl),
          await apiServerTicks(pid),
          workers.samples(),
        ];
        await new Promise((r) => setTimeout(r, WINDOW_MS));
        const [t1, rev1, ticks1, s1] = [
          Date.now(),
          await etcdRevision(lab.controlPlane.etcdUrl),
          await apiServerTicks(pid),
          workers.samples(),
        ];
        const h1 = await holders();
        const seconds = (t1 - t0) / 1000;
        const before = new Map(s0.map((s) => [s.node, s]));
        const per = s1.flatMap((s) => {
          const b = before.get(s.node);
          if (b === undefined) return [];
          const sum = (e: Record<string, number>): number => Object.values(e).reduce((a, x) => a + x, 0);
          return [
            {
              writes: (s.writes - b.writes) / seconds,
              events: (sum(s.events) - sum(b.events)) / seconds,
              leaseEvents: ((s.events['leases'] ?? 0) - (b.events['leases'] ?? 0)) / seconds,
            },
          ];
        });
        const row: Row = {
          mode: mode.name,
          ips: size,
          coldStartMs,
          heldAfterColdStart: held,
          writesPerSpeaker: stats(per.map((p) => p.writes)),
          eventsPerSpeaker: stats(per.map((p) => p.events)),
          leaseEventsPerSpeaker: stats(per.map((p) => p.leaseEvents)),
          apiServerCpu: (ticks1 - ticks0) / TICKS_PER_SECOND / seconds,
          etcdRevisionsPerMinute: ((rev1 - rev0) / seconds) * 60,
          settled,
          holderChangesInWindow: [...h1].filter(([k, v]) => h0.get(k) !== v).length,
          expected: expectedOf(mode),
        };
        rows.push(row);
        console.log(`[bench] ${JSON.stringify(row)}`);
      } finally {
        await workers.stop();
      }
    }
  }
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  console.log('');
  console.log(`${SPEAKERS} speakers against the real control plane, ${WINDOW_MS / 1000} s steady-state window per row`);
  console.log(
    '| design | IPs | API writes/s per speaker (mean / max) | watch events/s per speaker, all (mean / max) | of them Leases (mean / max) | kube-apiserver CPU | etcd revisions/min | cold start to all IPs held | holders moved in the window | expected per speaker (writes/s, Lease events/s) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const f = (x: { mean: number; max: number }): string => `${x.mean.toFixed(2)} / ${x.max.toFixed(2)}`;
  for (const r of rows)
    console.log(
      `| ${r.mode} | ${r.ips} | ${f(r.writesPerSpeaker)} | ${f(r.eventsPerSpeaker)} | ${f(r.leaseEventsPerSpeaker)} | ${(r.apiServerCpu * 100).toFixed(0)}% of a core | ${r.etcdRevisionsPerMinute.toFixed(0)} | ${Number.isNaN(r.coldStartMs) ? `not all: ${r.heldAfterColdStart} of ${r.ips} after ${COLD_START_TIMEOUT_MS / 1000} s` : `${(r.coldStartMs / 1000).toFixed(1)} s`} | ${r.holderChangesInWindow}${r.settled ? '' : ' (never settled)'} | ${r.expected.writes.toFixed(2)}, ${r.expected.leaseEvents.toFixed(2)} |`,
    );
  await stopLab();
}
process.exit(failed ? 1 : 0);
