// Chaos in the local lab: every experiment kind, the lab-only ones included
// (a node is a network namespace with its own containerd and kubelet: it can
// be crashed, unplugged, cut off). The kinds a real cluster offers run
// through the product's own ClusterEnvironment (the code `baton chaos` ships
// with), against the lab's API; recovery is Kubernetes' own (the DaemonSet
// replaces a deleted speaker pod, kubelets restart crashed containers), and
// the lab only waits for it so the next experiment starts from a whole
// cluster.
import { ClusterEnvironment } from '../../src/chaos/cluster-environment.js';
import { type ChaosEnvironment, EXPERIMENTS, type ExperimentKind } from '../../src/chaos/experiments.js';
import { decodeEvents, type ProbeEvent } from '../../src/chaos/probe-events.js';
import type { BatonLab } from '../lab/baton-lab.js';
import { CLI } from '../lab/chart-runner.js';
import { LabError } from '../lab/errors.js';

export class LabEnvironment implements ChaosEnvironment {
  readonly name = 'lab' as const;
  private readonly cluster: ClusterEnvironment;
  /** The speaker pod a delete-speaker-pod experiment deleted, by node: recovery waits for its successor. */
  private readonly deleted = new Map<string, string>();

  constructor(private readonly baton: Omit<BatonLab, 'stop'>) {
    this.cluster = new ClusterEnvironment(baton.api, baton.release.namespace, baton.lab.lan.client.iface);
  }

  externalIps(): Promise<string[]> {
    return this.cluster.externalIps();
  }

  holderOf(ip: string): Promise<string | undefined> {
    return this.cluster.holderOf(ip);
  }

  nodeOfMac(mac: string): string | undefined {
    return this.baton.lab.lan.nodes.find((n) => n.mac === mac)?.name;
  }

  supports(_kind: ExperimentKind): boolean {
    return true;
  }

  private realNode(name: string) {
    const real = this.baton.lab.realNodes;
    if (real === undefined) throw new LabError('LAB_NOT_STARTED', 'chaos in the lab runs on real nodes');
    return real.node(name);
  }

  async inject(kind: ExperimentKind, ip: string, holder: string): Promise<void> {
    const { lab, release } = this.baton;
    const node = lab.lan.node(holder);
    if (!EXPERIMENTS[kind].lab) {
      if (kind === 'delete-speaker-pod') this.deleted.set(holder, (await release.speakerPod(holder))?.metadata.uid ?? '');
      await this.cluster.inject(kind, ip, holder);
      return;
    }
    switch (kind) {
      case 'kill-node':
        // Everything of the node dies at once (kubelet, containerd, kube-proxy, every pod), and its cable is pulled.
        await Promise.all([this.realNode(holder).crash(), lab.lan.cutLink(node)]);
        return;
      case 'cut-link':
        await lab.lan.cutLink(node);
        return;
      case 'cut-control-plane':
        await lab.lan.cutControlPlane(node);
        return;
      case 'stop-api-server':
        await lab.controlPlane.stopApiServer();
        return;
    }
  }

  async recover(kind: ExperimentKind, ip: string, holder: string): Promise<void> {
    const { lab, release } = this.baton;
    const node = lab.lan.node(holder);
    switch (kind) {
      case 'delete-speaker-pod':
        await release.waitSpeakerReady(holder, { not: this.deleted.get(holder) });
        return;
      case 'cordon-drain':
      case 'delete-lease':
        await this.cluster.recover(kind, ip, holder);
        return;
      case 'kill-node':
        await lab.lan.restoreLink(node);
        await this.realNode(holder).restart();
        await lab.realNodes?.waitReady(holder);
        await release.waitRolledOut();
        return;
      case 'cut-link':
        await lab.lan.restoreLink(node);
        return;
      case 'cut-control-plane':
        await lab.lan.restoreControlPlane(node);
        return;
      case 'stop-api-server':
        await lab.controlPlane.startApiServer();
        // A controller replica that lost its leadership meanwhile exited; its kubelet restarts it.
        await release.waitRolledOut();
        return;
    }
  }

  async startProbe(ips: readonly string[], onEvent: (e: ProbeEvent) => void): Promise<{ stop(): Promise<void> }> {
    const { lan } = this.baton.lab;
    let buffer = '';
    const proc = lan.spawn(
      lan.client,
      `probe-${Date.now()}`,
      process.execPath,
      [
        CLI,
        'probe',
        `--interface=${lan.client.iface}`,
        `--source-ip=${lan.client.ip}`,
        `--source-ip6=${lan.client.ip6}`,
        `--ips=${ips.join(',')}`,
        '--http-port=80',
        '--interval=20ms',
        '--timeout=150ms',
      ],
      {
        onOutput: (chunk) => {
          buffer += chunk;
          const nl = buffer.lastIndexOf('\n');
          if (nl === -1) return;
          for (const e of decodeEvents(buffer.slice(0, nl))) onEvent(e);
          buffer = buffer.slice(nl + 1);
        },
      },
    );
    // The probe is running once it has sent its first requests.
    await new Promise((r) => setTimeout(r, 300));
    proc.assertRunning();
    return { stop: async () => void (await proc.stop('SIGTERM', 2_000)) };
  }
}
