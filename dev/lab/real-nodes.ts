// The lab's nodes as a real cluster: a KubeNode (containerd, kubelet,
// kube-proxy) in every node namespace, the pods' networks routed between
// them and to the control plane (as a host-gw network would: no overlay, no
// masquerade), and each node Ready before anything is scheduled. Pod ranges
// come from 198.18.0.0/15 and 2001:db8::/32 only, inside the lab.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiClient } from '../../src/k8s/api-client.js';
import { run, runInNetns, waitFor } from './exec.js';
import { maskHostPaths } from './host-masks.js';
import { KubeNode } from './kube-node.js';
import type { NodeLayout } from './kube-node-config.js';
import type { Lan, LanHost } from './lan.js';
import type { NodeToolchain } from './node-toolchain.js';
import { OWNED_PREFIX } from './owned-names.js';

/** Every node's pods, IPv4 (RFC 2544 benchmarking range) and IPv6 (documentation prefix): kube-proxy's "cluster" traffic. */
export const CLUSTER_POD_CIDRS = '198.18.0.0/16,2001:db8:ba71::/48';
/**
 * Node heartbeats as a user's cluster has them by default: the kubelet
 * renews its node Lease every 10 s (a quarter of 40 s) and the node
 * lifecycle controller calls a node NotReady 50 s after its last renewal.
 * Shorter would make crashed nodes' pods leave Service endpoints sooner,
 * but would also call every node NotReady after the chaos run's 15 s API
 * server outage (the controller manager's watch comes back later than the
 * kubelets' renewals), which no real cluster does.
 */
export const NODE_LEASE_SECONDS = 40;
export const NODE_MONITOR_GRACE_PERIOD = '50s';

/** The i-th node's (1-based) pod ranges. */
export function podCidrsOf(index: number): { v4: string; v6: string } {
  return { v4: `198.18.${index}.0/24`, v6: `2001:db8:ba71:${index.toString(16)}::/64` };
}

export interface RealNodesOptions {
  lan: Lan;
  workDir: string;
  tools: NodeToolchain;
  caFile: string;
  api: ApiClient;
  kubeconfigFor: (user: string) => string;
  kubeletUser: (node: string) => string;
  kubeProxyUser: string;
  images: readonly string[];
  /** The cluster's ClusterIP ranges (IPv4 first): each node routes them to its LAN side, as its default route would. */
  serviceCidrs: readonly string[];
  log: (line: string) => void;
}

/** The VM-wide tunables the kubelet would change here (the others already have its values): the lab proves they stay. */
export const GUARDED_TUNABLES = ['vm/overcommit_memory', 'kernel/panic', 'kernel/panic_on_oops'] as const;

export class RealNodes {
  private constructor(
    private readonly o: RealNodesOptions,
    readonly nodes: readonly KubeNode[],
    /** GUARDED_TUNABLES as the machine had them before the lab masked them. */
    readonly tunablesBefore: readonly string[],
  ) {}

  static async start(o: RealNodesOptions): Promise<RealNodes> {
    const started = Date.now();
    const tunablesBefore = await Promise.all(GUARDED_TUNABLES.map(async (t) => (await readFile(`/proc/sys/${t}`, 'utf8')).trim()));
    await maskHostPaths(o.workDir);
    const nodes = o.lan.nodes.map(
      (host, i) =>
        new KubeNode({
          layout: layoutOf(host, i + 1, o),
          netns: host.netns,
          tools: o.tools,
          kubeletKubeconfig: o.kubeconfigFor(o.kubeletUser(host.name)),
          kubeProxyKubeconfig: o.kubeconfigFor(o.kubeProxyUser),
          images: o.images,
          nodeLeaseSeconds: NODE_LEASE_SECONDS,
        }),
    );
    const real = new RealNodes(o, nodes, tunablesBefore);
    try {
      await real.routePods();
      await Promise.all(nodes.map((n) => n.start()));
      await Promise.all(nodes.map((n) => real.waitReady(n.name)));
    } catch (err) {
      await real.destroy();
      throw err;
    }
    o.log(
      `[lab] ${nodes.length} real nodes Ready in ${((Date.now() - started) / 1000).toFixed(1)} s (containerd, kubelet, kube-proxy each)`,
    );
    return real;
  }

  node(name: string): KubeNode {
    const n = this.nodes.find((k) => k.name === name);
    if (n === undefined) throw new Error(`no real node ${name}`);
    return n;
  }

  /** Waits until the node reports Ready=True (its kubelet registered and its runtime and network work). */
  async waitReady(name: string, timeoutMs = 90_000): Promise<void> {
    await waitFor(
      `node ${name} Ready`,
      async () => {
        const node = await this.o.api.get<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(`/api/v1/nodes/${name}`);
        return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true ? true : undefined;
      },
      { timeoutMs, intervalMs: 500 },
    ).catch(async (err: unknown) => {
      throw new Error(`${(err as Error).message}; kubelet log:\n${await this.node(name).logTail('kubelet')}`, { cause: err });
    });
  }

  /** Stops every node and removes what it left (pods, shims, mounts, cgroups). */
  async destroy(): Promise<void> {
    const results = await Promise.allSettled(this.nodes.map((n) => n.destroy()));
    for (const r of results) if (r.status === 'rejected') this.o.log(`[lab] node teardown: ${String(r.reason)}`);
  }

  pids(): number[] {
    return this.nodes.flatMap((n) => n.pids());
  }

  /**
   * Every node reaches every other node's pods, and the control plane
   * reaches all of them, through the LAN. A node also needs a route for the
   * ClusterIP ranges (a real one has a default route): a connection to a
   * ClusterIP is routed before kube-proxy's rules rewrite its destination.
   * Nothing with a ClusterIP destination ever leaves a node: kube-proxy
   * rewrites or rejects it.
   */
  private async routePods(): Promise<void> {
    const { lan } = this.o;
    for (const node of lan.nodes) {
      for (const cidr of this.o.serviceCidrs) {
        await runInNetns(node.netns, 'ip', [...(cidr.includes(':') ? ['-6'] : []), 'route', 'replace', cidr, 'dev', node.iface]);
      }
    }
    for (const [i, target] of lan.nodes.entries()) {
      const cidrs = podCidrsOf(i + 1);
      await run('ip', ['route', 'replace', cidrs.v4, 'via', target.ip, 'dev', lan.bridge]);
      for (const other of lan.nodes) {
        if (other === target) continue;
        await runInNetns(other.netns, 'ip', ['route', 'replace', cidrs.v4, 'via', target.ip]);
        await runInNetns(other.netns, 'ip', ['-6', 'route', 'replace', cidrs.v6, 'via', target.ip6]);
      }
    }
  }
}

function layoutOf(host: LanHost, index: number, o: RealNodesOptions): NodeLayout {
  const cidrs = podCidrsOf(index);
  return {
    name: host.name,
    ip: host.ip,
    ip6: host.ip6,
    dir: join(o.workDir, 'nodes', host.name),
    cgroupRoot: `/${OWNED_PREFIX}${host.name}`,
    podCidr: cidrs.v4,
    podCidr6: cidrs.v6,
    clusterCidrs: CLUSTER_POD_CIDRS,
    caFile: o.caFile,
  };
}
