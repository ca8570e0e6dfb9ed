// `baton demo`: Baton's story on this machine, end to end. It brings up the
// local lab (a real control plane and a virtual LAN; the first run builds
// Kubernetes, with progress), installs Baton from its chart, applies the
// OpenELB seed manifests unchanged, shows which node answers, crashes that
// node while a client keeps loading a page, and shows the failover with its
// numbers and a picture. Then it removes everything it made.
import { resolve } from 'node:path';
import { runExperiment, writeReport } from '../../src/chaos/runner.js';
import { ipLeaseName } from '../../src/k8s/lease-names.js';
import type { Lease } from '../../src/k8s/types.js';
import { LabEnvironment } from '../chaos/lab-environment.js';
import { startBatonLab } from '../lab/baton-lab.js';
import { runInsideLab } from '../lab/enter-lab.js';
import { waitFor } from '../lab/exec.js';
import { applySeed, createLabPool, LAB_POOL, serveLabPages, waitForAddresses, waitForPages } from '../lab/workload.js';

export interface DemoConfig {
  outDir: string;
  argv: string[];
}

const say = (line: string): void => console.log(line);

export async function runDemo(config: DemoConfig): Promise<void> {
  const code = await runInsideLab(['demo', ...config.argv]);
  if (code !== undefined) {
    process.exitCode = code;
    return;
  }
  say('[demo] bringing up the lab: a Kubernetes control plane, 3 real nodes (containerd, kubelet, kube-proxy) and a client on a bridge');
  const baton = await startBatonLab(say);
  try {
    const { lab, api } = baton;
    say(
      `[demo] lab up: Kubernetes ${lab.toolchain.versions.kubernetes} at ${lab.controlPlane.server}; nodes ${lab.lan.nodes.map((n) => `${n.name} ${n.ip}`).join(', ')}; client ${lab.lan.client.ip}`,
    );

    await applySeed(api, 'demo', say);
    say('[demo] starting the web pods behind it: a DaemonSet serving a page that names its node');
    await serveLabPages(api, 'demo', lab.lan.nodes.length);
    const events = await waitFor(
      'the seed Service to report its missing pool',
      async () => {
        const list = await api.list<{ items: Array<{ type: string; reason: string; message: string; involvedObject: { name: string } }> }>(
          '/api/v1/namespaces/demo/events',
        );
        return list.items.find((e) => e.involvedObject.name === 'layer2-svc' && e.reason === 'PoolNotFound');
      },
      { timeoutMs: 20_000 },
    );
    say(`[demo] layer2-svc waits, as it should: ${events.type} ${events.reason}: ${events.message}`);
    say(`[demo] creating Eip ${LAB_POOL.name} (${LAB_POOL.address}), the pool the seed Service names`);
    await createLabPool(api);
    const ip = (await waitForAddresses(api, 'demo', 1)).get('layer2-svc') as string;
    const holder = await waitFor(
      `a node to announce ${ip}`,
      async () => {
        const lease = await api
          .get<Lease>(`/apis/coordination.k8s.io/v1/namespaces/${baton.release.namespace}/leases/${ipLeaseName(ip)}`)
          .catch(() => undefined);
        return lease?.spec?.holderIdentity || undefined;
      },
      { timeoutMs: 20_000 },
    );
    const node = lab.lan.node(holder);
    await waitForPages(lab.lan, [ip]);
    say(`[demo] layer2-svc got ${ip}; ${holder} answers ARP for it with its MAC ${node.mac}, and the client loads its page`);

    say(
      `[demo] now crashing ${holder} (kubelet, containerd, kube-proxy and every pod killed with -9, cable pulled) while the client keeps loading http://${ip}/`,
    );
    const env = new LabEnvironment(baton);
    const outDir = resolve(config.outDir);
    const report = await runExperiment(env, 'kill-node', 1, {
      ip,
      outDir,
      progress: (l) => process.stdout.write(process.stdout.isTTY ? `\r\x1b[2K${l}` : `${l}\n`),
    });
    if (process.stdout.isTTY) process.stdout.write('\n');
    await writeReport(env, [report], outDir);
    const target = report.ips.find((i) => i.ip === ip);
    const moments = report.ips.reduce((n, i) => n + i.twoMacMoments.length, 0);
    say('');
    say(`[demo] failover of ${ip} after ${holder} crashed:`);
    say(
      `         new holder:                ${report.holderAfter ?? 'none'} (${report.holderAfter === undefined ? '' : lab.lan.node(report.holderAfter).mac})`,
    );
    say(`         client saw no page for:    ${target?.downtimeMs ?? '?'} ms`);
    say(`         new holder answered after: ${target?.newHolderAfterMs ?? '?'} ms (its gratuitous ARP moved the client at once)`);
    say(`         two MACs at once:          ${moments === 0 ? 'never' : `${moments} time(s)`}`);
    // After the new holder answers, the Service's pods decide: kube-proxy keeps sending a share of connections
    // to the crashed node's web pod until that node is back (or, had it stayed down, until the node lifecycle
    // controller's 50 s grace period took its pods out of the Service).
    const answeredAt = report.injectedAtMs + (target?.newHolderAfterMs ?? 0);
    const later = (target?.outages ?? []).filter((o) => o.fromMs >= answeredAt);
    if (later.length > 0) {
      say(
        `         after that:                ${later.length} short failures until ${((later.at(-1)?.toMs ?? 0) / 1000).toFixed(1)} s: connections kube-proxy sent to ${holder}'s own web pod (a Service endpoint until the node is back, or NotReady for 50 s)`,
      );
    }
    say(`[demo] picture: ${report.picture}`);
    say(`[demo] report:  ${resolve(outDir, 'report.json')} (all in ${resolve(outDir, 'index.html')})`);
  } finally {
    say('[demo] tearing down the lab');
    await baton.stop();
  }
}
