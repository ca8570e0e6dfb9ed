// Proof that the cluster suite's nodes are real: kubelets registered them
// with containerd as their runtime, the scheduler and the DaemonSet
// controller place pods that containerd runs, kube-proxy serves Services
// from the nodes' own nftables, a crashed node turns NotReady by the node
// lifecycle controller and comes back with its pods, and none of it changed
// a setting or folder of the machine itself.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { lab } from '../dev/lab/current.js';
import { run, runInNetns, waitFor } from '../dev/lab/exec.js';
import { FIXED_FOLDERS, KUBELET_TUNABLES, machineMountNamespace } from '../dev/lab/host-masks.js';
import { CONTAINERD_VERSION } from '../dev/lab/node-toolchain.js';
import { GUARDED_TUNABLES, podCidrsOf } from '../dev/lab/real-nodes.js';
import { WEB_PORT } from '../dev/lab/web-daemonset.js';
import { serveLabPages } from '../dev/lab/workload.js';
import type { List } from '../src/k8s/types.js';
import { createNamespace, deleteNamespace, kube } from './support/kube.js';

interface NodeObject {
  metadata: { name: string };
  status?: {
    nodeInfo?: { kubeletVersion: string; containerRuntimeVersion: string };
    addresses?: Array<{ type: string; address: string }>;
    conditions?: Array<{ type: string; status: string }>;
  };
}

interface PodObject {
  metadata: { name: string };
  spec: { nodeName?: string };
  status?: { podIP?: string; podIPs?: Array<{ ip: string }>; conditions?: Array<{ type: string; status: string }> };
}

const readyOf = (n: NodeObject): string | undefined => n.status?.conditions?.find((c) => c.type === 'Ready')?.status;

/** A tunable as the machine itself has it: read in the machine's mount namespace, where the lab's masks do not reach. */
async function machineValue(path: string): Promise<string> {
  return (await run('nsenter', [`--mount=${machineMountNamespace()}`, '--', 'cat', `/proc/sys/${path}`])).stdout.trim();
}

describe('real nodes', { timeout: 300_000 }, () => {
  const ns = 'real-nodes';

  before(async () => {
    await createNamespace(ns);
  });

  after(async () => {
    await deleteNamespace(ns, 120_000).catch(() => undefined);
  });

  it('are registered by their kubelets, with containerd as runtime and the nodes’ LAN addresses', async () => {
    const nodes = await kube().api.list<List<NodeObject>>('/api/v1/nodes');
    assert.deepEqual(
      nodes.items.map((n) => n.metadata.name).sort(),
      lab().lan.nodes.map((n) => n.name),
    );
    for (const n of nodes.items) {
      const host = lab().lan.node(n.metadata.name);
      assert.equal(n.status?.nodeInfo?.kubeletVersion, lab().toolchain.versions.kubernetes, `${n.metadata.name} kubelet`);
      assert.equal(
        n.status?.nodeInfo?.containerRuntimeVersion,
        `containerd://${CONTAINERD_VERSION.replace(/^v/, '')}`,
        `${n.metadata.name} runtime`,
      );
      assert.deepEqual(
        n.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address),
        [host.ip, host.ip6],
        `${n.metadata.name} addresses`,
      );
      assert.equal(readyOf(n), 'True', `${n.metadata.name} Ready`);
    }
  });

  it('run pods the scheduler places, on the pod network, served by kube-proxy through a ClusterIP', async () => {
    await serveLabPages(kube().api, ns, lab().lan.nodes.length);
    const pods = await kube().api.list<List<PodObject>>(`/api/v1/namespaces/${ns}/pods`);
    assert.deepEqual(
      pods.items.map((p) => p.spec.nodeName).sort(),
      lab().lan.nodes.map((n) => n.name),
      'one web pod per node',
    );
    for (const p of pods.items) {
      const index = lab().lan.nodes.findIndex((n) => n.name === p.spec.nodeName) + 1;
      const prefix = podCidrsOf(index).v4.replace(/0\/24$/, '');
      assert.ok(p.status?.podIP?.startsWith(prefix), `${p.metadata.name} has an address of ${podCidrsOf(index).v4}: ${p.status?.podIP}`);
      assert.equal(p.status?.podIPs?.length, 2, `${p.metadata.name} is dual stack`);
    }
    const svc = await kube().api.create<{ spec: { clusterIP: string } }>(`/api/v1/namespaces/${ns}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'layer2-openelb' }, ports: [{ port: 80, targetPort: WEB_PORT }] },
    });
    // From node-1's own namespace (as a hostNetwork pod would): kube-proxy's rules send it to some node's pod.
    const served = new Set<string>();
    await waitFor(
      'the ClusterIP to be served from every node’s pod',
      async () => {
        const r = await runInNetns(lab().lan.nodes[0]!.netns, 'node', [
          '-e',
          `fetch('http://${svc.spec.clusterIP}/').then(r => r.text()).then(t => console.log(t), () => process.exit(1))`,
        ]);
        served.add(r.stdout.trim());
        return served.size === lab().lan.nodes.length ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
  });

  it('turn NotReady when crashed and come back, with their pods, when restarted', async () => {
    const name = lab().lan.nodes.at(-1)!.name;
    const real = lab().realNodes!;
    const started = Date.now();
    await Promise.all([real.node(name).crash(), lab().lan.cutLink(lab().lan.node(name))]);
    await waitFor(
      `${name} NotReady`,
      async () => (readyOf(await kube().api.get<NodeObject>(`/api/v1/nodes/${name}`)) !== 'True' ? true : undefined),
      // The node lifecycle controller's grace period (50 s) after the last of the kubelet's renewals (every 10 s).
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    const notReadyAfter = Date.now() - started;
    console.log(`[real-nodes] ${name} NotReady ${notReadyAfter} ms after its crash`);
    const pod = (await kube().api.list<List<PodObject>>(`/api/v1/namespaces/${ns}/pods`, { fieldSelector: `spec.nodeName=${name}` }))
      .items[0];
    assert.ok(pod !== undefined);
    await waitFor(
      `its web pod to be marked not ready`,
      async () => {
        const p = await kube().api.get<PodObject>(`/api/v1/namespaces/${ns}/pods/${pod.metadata.name}`);
        return p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False' ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    await lab().lan.restoreLink(lab().lan.node(name));
    await real.node(name).restart();
    await real.waitReady(name);
    await waitFor(
      `its web pod ready again`,
      async () => {
        const p = (
          await kube().api.list<List<PodObject>>(`/api/v1/namespaces/${ns}/pods`, { fieldSelector: `spec.nodeName=${name}` })
        ).items.find((x) => x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return p !== undefined ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
  });

  it('leave the machine’s kernel tunables and folders as they were', async () => {
    for (const [path, wanted] of Object.entries(KUBELET_TUNABLES)) {
      const inLab = (await run('cat', [`/proc/sys/${path}`])).stdout.trim();
      assert.equal(inLab, wanted, `the kubelets see ${path} as they want it`);
    }
    const outside = await Promise.all(GUARDED_TUNABLES.map(machineValue));
    assert.deepEqual(outside, lab().realNodes?.tunablesBefore, 'the machine’s own values did not change');
    for (const folder of FIXED_FOLDERS) {
      const listing = await run('nsenter', [`--mount=${machineMountNamespace()}`, '--', 'ls', '-A', folder], { allowFailure: true });
      assert.equal(listing.stdout.trim(), '', `${folder} is empty (or absent) on the machine itself`);
    }
  });
});
