// Chaos in the local lab: every experiment kind, the lab-only ones included
// (a node is a network namespace: it can be crashed, unplugged, cut off).
// The lab also plays Kubernetes' part in recovery: a killed speaker "pod" is
// started again, as its DaemonSet would, and crashed controllers restart.

import type { ChaosEnvironment, ExperimentKind } from '../../src/chaos/experiments.js';
import { decodeEvents, type ProbeEvent } from '../../src/chaos/probe-events.js';
import { ipLeaseName } from '../../src/k8s/lease-names.js';
import type { Lease, List } from '../../src/k8s/types.js';
import type { BatonLab } from '../lab/baton-lab.js';
import { CLI } from '../lab/chart-runner.js';
import { startServer } from '../lab/dataplane.js';
import { deletePodNow, setNodeUnschedulable } from '../lab/nodes.js';

export class LabEnvironment implements ChaosEnvironment {
  readonly name = 'lab' as const;

  constructor(private readonly baton: Omit<BatonLab, 'stop'>) {}

  private get leases(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.baton.release.namespace}/leases`;
  }

  async externalIps(): Promise<string[]> {
    const list = await this.baton.api.list<List<Lease>>(this.leases, { labelSelector: 'baton.dev/lease-kind=ip' });
    return list.items
      .flatMap((l) => (l.spec?.holderIdentity ? [l.metadata.annotations?.['baton.dev/ip'] ?? ''] : []))
      .filter((ip) => ip !== '')
      .sort();
  }

  async holderOf(ip: string): Promise<string | undefined> {
    try {
      const lease = await this.baton.api.get<Lease>(`${this.leases}/${ipLeaseName(ip)}`);
      return lease.spec?.holderIdentity || undefined;
    } catch {
      return undefined;
    }
  }

  nodeOfMac(mac: string): string | undefined {
    return this.baton.lab.lan.nodes.find((n) => n.mac === mac)?.name;
  }

  supports(_kind: ExperimentKind): boolean {
    return true;
  }

  async inject(kind: ExperimentKind, ip: string, holder: string): Promise<void> {
    const { lab, release, api, servers } = this.baton;
    const node = lab.lan.node(holder);
    switch (kind) {
      case 'delete-speaker-pod':
        await release.speakers.get(holder)?.stop('SIGTERM');
        return;
      case 'cordon-drain': {
        await setNodeUnschedulable(api, holder, true);
        const pods = await api.list<List<{ metadata: { name: string; namespace?: string; ownerReferences?: Array<{ kind: string }> } }>>(
          '/api/v1/pods',
          { fieldSelector: `spec.nodeName=${holder}` },
        );
        for (const p of pods.items) {
          if (p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet') === true) continue;
          await deletePodNow(api, p.metadata.namespace ?? 'default', p.metadata.name);
        }
        return;
      }
      case 'delete-lease':
        await api.delete(`${this.leases}/${ipLeaseName(ip)}`);
        return;
      case 'kill-node':
        await Promise.all([release.speakers.get(holder)?.stop('SIGKILL'), servers.get(holder)?.stop('SIGKILL'), lab.lan.cutLink(node)]);
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

  async recover(kind: ExperimentKind, _ip: string, holder: string): Promise<void> {
    const { lab, release, api, servers } = this.baton;
    const node = lab.lan.node(holder);
    switch (kind) {
      case 'delete-speaker-pod':
        await release.startSpeaker(holder);
        return;
      case 'cordon-drain':
        await setNodeUnschedulable(api, holder, false);
        return;
      case 'delete-lease':
        return;
      case 'kill-node':
        await lab.lan.restoreLink(node);
        servers.set(holder, startServer(lab.lan, holder));
        await release.startSpeaker(holder);
        return;
      case 'cut-link':
        await lab.lan.restoreLink(node);
        return;
      case 'cut-control-plane':
        await lab.lan.restoreControlPlane(node);
        return;
      case 'stop-api-server':
        await lab.controlPlane.startApiServer();
        // A controller that lost its leadership meanwhile exited; its pod would be restarted.
        await release.reviveControllers();
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
