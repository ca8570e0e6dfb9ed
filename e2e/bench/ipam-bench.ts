// `make bench-ipam`: how long the controller takes, and how many API
// requests it makes per Service, to give 1,000 new Services their addresses
// from empty, on the real control plane. Printed as medians over repeats,
// next to a baseline measured in the same run: a bare client doing the two
// writes per Service that any controller must do (finalizer, status), with
// the same parallelism. The ratio says what Baton's logic costs on top.
import { readFileSync } from 'node:fs';
import { startLab, stopLab } from '../../dev/lab/current.js';
import { waitFor } from '../../dev/lab/exec.js';
import type { List, Service } from '../../src/k8s/types.js';
import { type BatonProcess, metricValue, startController } from '../support/baton-process.js';
import {
  createEip,
  createNamespace,
  createService,
  deleteEip,
  deleteNamespace,
  ensureBatonBasics,
  ingressOf,
  kube,
  serviceBody,
} from '../support/kube.js';

const SERVICES = Number(process.env['BENCH_SERVICES'] ?? 1000);
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 3);
// The test client creates Services 20 at a time: fast enough that the controller, not the client, is the bottleneck.
const CREATE_PARALLELISM = 20;
// The controller's default worker count; the baseline uses the same.
const WORKERS = 4;
const V6 = {
  ipFamilies: ['IPv6' as const],
  ipFamilyPolicy: 'SingleStack' as const,
  annotations: { 'eip.openelb.kubesphere.io/v1alpha2': 'bench-pool' },
};

async function inParallel<T>(items: T[], parallelism: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallelism }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

async function countAddressed(ns: string): Promise<number> {
  const list = await kube().api.list<List<Service>>(`/api/v1/namespaces/${ns}/services`);
  return list.items.filter((s) => ingressOf(s).length > 0).length;
}

async function requestsByVerb(c: BatonProcess): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const verb of ['get', 'list', 'create', 'update', 'patch', 'delete'])
    out[verb] = await metricValue(c, 'baton_k8s_api_requests_total', { verb });
  return out;
}

function rssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function batonRun(round: number): Promise<{ seconds: number; perVerb: Record<string, number>; rss: number }> {
  const ns = `bench-baton-${round}`;
  await createNamespace(ns);
  const controller = await startController({ extraArgs: ['--log-level=warn'] });
  try {
    const before = await requestsByVerb(controller);
    const started = performance.now();
    await inParallel(
      Array.from({ length: SERVICES }, (_, i) => i),
      CREATE_PARALLELISM,
      (i) => createService(ns, `svc-${i}`, V6),
    );
    await waitFor(`${SERVICES} addresses`, async () => ((await countAddressed(ns)) === SERVICES ? true : undefined), {
      timeoutMs: 600_000,
      intervalMs: 100,
    });
    const seconds = (performance.now() - started) / 1000;
    // Let trailing writes (Eip status, Events) land before counting.
    await new Promise((r) => setTimeout(r, 2_000));
    const after = await requestsByVerb(controller);
    const perVerb: Record<string, number> = {};
    for (const verb of Object.keys(after)) perVerb[verb] = ((after[verb] ?? 0) - (before[verb] ?? 0)) / SERVICES;
    return { seconds, perVerb, rss: rssMiB(controller.proc.pid) };
  } finally {
    await deleteNamespace(ns, 600_000);
    await controller.proc.stop('SIGTERM');
  }
}

/** The floor: the two writes per Service with no IPAM at all (addresses handed out by a counter). */
async function baselineRun(round: number): Promise<number> {
  const ns = `bench-base-${round}`;
  await createNamespace(ns);
  try {
    const started = performance.now();
    const created: Service[] = [];
    const queue: Service[] = [];
    let done = 0;
    const writer = async (): Promise<void> => {
      while (done < SERVICES) {
        const svc = queue.shift();
        if (svc === undefined) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        const path = `/api/v1/namespaces/${ns}/services/${svc.metadata.name}`;
        const withFinalizer = await kube().api.patch<Service>(path, {
          metadata: { resourceVersion: svc.metadata.resourceVersion, finalizers: ['bench/finalizer'] },
        });
        await kube().api.patch(`${path}/status`, {
          metadata: { resourceVersion: withFinalizer.metadata.resourceVersion },
          status: { loadBalancer: { ingress: [{ ip: `2001:db8:ba5e::${(done + 1).toString(16)}` }] } },
        });
        done++;
      }
    };
    const writers = Promise.all(Array.from({ length: WORKERS }, writer));
    await inParallel(
      Array.from({ length: SERVICES }, (_, i) => i),
      CREATE_PARALLELISM,
      async (i) => {
        const svc = await kube().api.create<Service>(`/api/v1/namespaces/${ns}/services`, serviceBody(`svc-${i}`, V6));
        created.push(svc);
        queue.push(svc);
      },
    );
    await writers;
    const seconds = (performance.now() - started) / 1000;
    // Drop the bench finalizer so the namespace can go.
    await inParallel(created, CREATE_PARALLELISM, (s) =>
      kube().api.patch(`/api/v1/namespaces/${ns}/services/${s.metadata.name}`, { metadata: { finalizers: null } }),
    );
    return seconds;
  } finally {
    await deleteNamespace(ns, 600_000);
  }
}

const lab = await startLab();
let failed = false;
try {
  await ensureBatonBasics();
  await createEip('bench-pool', { address: '2001:db8:be::/112', protocol: 'layer2', interface: 'eth0' });
  const baton: Array<Awaited<ReturnType<typeof batonRun>>> = [];
  const base: number[] = [];
  for (let round = 0; round < REPEATS; round++) {
    base.push(await baselineRun(round));
    baton.push(await batonRun(round));
    console.log(
      `[bench] round ${round + 1}/${REPEATS}: baton ${baton[round]!.seconds.toFixed(2)} s, baseline ${base[round]!.toFixed(2)} s`,
    );
  }
  const seconds = median(baton.map((b) => b.seconds));
  const baseline = median(base);
  const verbs = Object.keys(baton[0]!.perVerb).filter((v) => baton.some((b) => (b.perVerb[v] ?? 0) > 0));
  const perService = median(baton.map((b) => Object.values(b.perVerb).reduce((a, x) => a + x, 0)));
  console.log(
    `\nIPAM: ${SERVICES} new Services from empty, median of ${REPEATS} runs (Kubernetes ${lab.toolchain.versions.kubernetes}, 1 controller, ${WORKERS} workers)`,
  );
  console.log('| measure | value |');
  console.log('| --- | --- |');
  console.log(
    `| time until all ${SERVICES} have an address | ${seconds.toFixed(2)} s (${((seconds * 1000) / SERVICES).toFixed(2)} ms per Service) |`,
  );
  console.log(`| baseline: 2 bare writes per Service, same parallelism | ${baseline.toFixed(2)} s |`);
  console.log(`| ratio Baton / baseline | ${(seconds / baseline).toFixed(2)} |`);
  console.log(`| API requests per Service (all verbs) | ${perService.toFixed(2)} |`);
  for (const v of verbs) console.log(`| ... ${v} | ${median(baton.map((b) => b.perVerb[v] ?? 0)).toFixed(3)} |`);
  console.log(`| controller RSS after the run | ${median(baton.map((b) => b.rss)).toFixed(0)} MiB |`);
  const janitor = await startController();
  await deleteEip('bench-pool');
  await janitor.proc.stop('SIGTERM');
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await stopLab();
}
process.exit(failed ? 1 : 0);
