// `make bench-real-pods`: the speaker's failover numbers with Baton as a
// user runs it: real nodes (containerd, kubelet, kube-proxy), the chart
// installed with helm, the speakers pods with the chart's security context.
// Printed in bench-speaker's format (nothing asserted), to set beside it:
//   - node crash: every process of the holder's node (kubelet, containerd,
//     kube-proxy, the speaker and web pods) killed with -9 and its cable
//     pulled;
//   - SIGTERM: the holder's speaker pod deleted (its kubelet sends SIGTERM,
//     the DaemonSet replaces it);
// for an IPv4 and an IPv6 Service, the client's longest outage and the time
// until the heir's first gratuitous ARP or unsolicited NA, BENCH_TRIALS
// (default 20) trials each, p50 and p99. The Services use
// externalTrafficPolicy Local with a web pod on every node, so each node
// serves its own traffic and the numbers are the speakers' failover, not a
// crashed node's pods lingering among a Service's endpoints.

import { imageArchivePath } from '../../dev/image/build-image.js';
import { ArpCapture, firstAnnouncement } from '../../dev/lab/arp-client.js';
import { chartLivenessFromEnv, installBaton } from '../../dev/lab/baton-lab.js';
import { startLab, stopLab } from '../../dev/lab/current.js';
import { waitFor } from '../../dev/lab/exec.js';
import { advertisements, NDP_CAPTURE_FILTER } from '../../dev/lab/ndp-client.js';
import { createLabPool, LAB_POOL, LAB_POOL6, SEED_SELECTOR, serveLabPages, waitForPages } from '../../dev/lab/workload.js';
import { ClientProbe, longestOutage } from '../support/client-probe.js';
import { ipLeaseHolderIn, waitForHolderIn } from '../support/cluster-objects.js';
import { createNamespace, kube, waitForIngress } from '../support/kube.js';
import { FIRST_HEARD_MS } from '../support/liveness-design.js';

const TRIALS = Number(process.env['BENCH_TRIALS'] ?? 20);
const NS = 'baton-system';

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

const g = await startLab({ suite: 'bench-real-pods', realNodes: { images: [imageArchivePath()] } });
let failed = false;
try {
  const baton = await installBaton(g, NS, (l) => console.log(l), { liveness: chartLivenessFromEnv() });
  await createNamespace('bench');
  await serveLabPages(kube().api, 'bench', g.lan.nodes.length);
  await createLabPool(kube().api, { ipv6: true });
  for (const [name, pool, family] of [
    ['web', LAB_POOL.name, 'IPv4'],
    ['web6', LAB_POOL6.name, 'IPv6'],
  ] as const) {
    await kube().api.create('/api/v1/namespaces/bench/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, annotations: { 'lb.kubesphere.io/v1alpha1': 'openelb', 'eip.openelb.kubesphere.io/v1alpha2': pool } },
      spec: {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        selector: { ...SEED_SELECTOR },
        ports: [{ name: 'http', port: 80, targetPort: 8080 }],
        ipFamilies: [family],
        ipFamilyPolicy: 'SingleStack',
      },
    });
  }
  const [ip] = (await waitForIngress('bench', 'web')) as [string];
  const [ip6] = (await waitForIngress('bench', 'web6')) as [string];
  for (const x of [ip, ip6]) await waitForHolderIn(NS, x);
  await waitForPages(g.lan, [ip, ip6]);
  const real = g.realNodes!;

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
      const holder = await waitForHolderIn(NS, target);
      const node = g.lan.node(holder);
      const pod = await baton.release.speakerPod(holder);
      const capture = await ArpCapture.start(g.lan, g.lan.client, `${kind}-${trial}`, g.workDir, v6 ? { filter: NDP_CAPTURE_FILTER } : {});
      const probe = new ClientProbe(target, 80, 10, 100);
      await waitFor('the probe to succeed', async () => (probe.snapshot().filter((s) => s.ok).length >= 5 ? true : undefined), {
        timeoutMs: 10_000,
      });
      const t0 = Date.now();
      if (kind.startsWith('crash')) await Promise.all([real.node(holder).crash(), g.lan.cutLink(node)]);
      else if (pod !== undefined) await baton.release.deletePod(pod);
      const heir = await waitForHolderIn(NS, target, (h) => h !== holder, 30_000);
      await waitFor(
        'the heir to serve',
        async () => (probe.snapshot().some((s) => s.t > t0 && s.ok && s.from === heir) ? true : undefined),
        { timeoutMs: 30_000 },
      );
      await new Promise((r) => setTimeout(r, 300));
      const samples = await probe.stop();
      const frames = v6 ? await capture.halt().then(() => advertisements(capture)) : await capture.stop();
      results[kind].outage.push(longestOutage(samples, t0).ms);
      results[kind].garp.push((firstAnnouncement(frames, target, g.lan.node(heir).mac, t0) ?? Number.NaN) - t0);
      if (kind.startsWith('crash')) {
        await g.lan.restoreLink(node);
        await real.node(holder).restart();
        await real.waitReady(holder);
        // The API still shows the crashed node's pods ready (its kubelet was gone for less than the node
        // monitor's grace period), so the DaemonSet counts as rolled out before that kubelet has started the
        // speaker again. Wait for the speaker container it started after the crash to be ready: otherwise the
        // next trial crashes the heir while one standby runs, the two-node limit (Lease speed, README "How it
        // works"), which is not what this measures. One run that did not wait: 19 of 20 crashes at 16-23 s.
        await waitFor(
          `${holder}'s speaker started again after the crash, ready`,
          async () => {
            const c = (await baton.release.speakerPod(holder))?.status?.containerStatuses?.find((x) => x.name === 'speaker');
            const startedAt = (c?.state?.['running'] as { startedAt?: string } | undefined)?.startedAt;
            // startedAt has whole seconds.
            return c?.ready === true && startedAt !== undefined && Date.parse(startedAt) >= t0 - 1_000 ? true : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 500 },
        );
      }
      await baton.release.waitRolledOut();
      // The next holder's standbys must have heard it once (a crash before that is replaced at Lease speed).
      await new Promise((r) => setTimeout(r, FIRST_HEARD_MS));
      console.log(
        `[bench] ${kind} ${trial + 1}/${TRIALS}: ${holder} -> ${heir}, client outage ${results[kind].outage.at(-1)} ms, heir announced after ${results[kind].garp.at(-1)?.toFixed(0)} ms`,
      );
    }
  }
  console.log('');
  console.log(`speaker on real pods, ${g.lan.nodes.length} nodes, ${TRIALS} trials each | p50 | p99`);
  const label: Record<Kind, string> = {
    crash: 'IPv4 node crash (kubelet, containerd, pods killed -9, cable out)',
    sigterm: 'IPv4 speaker pod deleted (kubelet SIGTERM)',
    crash6: 'IPv6 node crash',
    sigterm6: 'IPv6 speaker pod deleted',
  };
  for (const kind of KINDS) {
    const r = results[kind];
    console.log(`${label[kind]}: client outage | ${percentile(r.outage, 50)} ms | ${percentile(r.outage, 99)} ms`);
    console.log(
      `${label[kind]}: heir's first announcement | ${percentile(r.garp, 50).toFixed(0)} ms | ${percentile(r.garp, 99).toFixed(0)} ms`,
    );
  }
  const holderNow = await ipLeaseHolderIn(NS, ip);
  console.log(`[bench] done; ${ip} held by ${holderNow}`);
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await stopLab();
}
process.exit(failed ? 1 : 0);
