// Chaos against a real cluster, through its API: delete the holder's speaker
// pod, cordon and drain its node (evictions, which respect
// PodDisruptionBudgets), delete an IP's Lease. The probe runs here, on this
// machine, which must sit on the LAN of the external IPs.
import { networkInterfaces } from 'node:os';
import type { ApiClient } from '../k8s/api-client.js';
import { ipLeaseName, LEASE_SELECTOR } from '../k8s/lease-names.js';
import type { Lease, List } from '../k8s/types.js';
import { type ChaosEnvironment, EXPERIMENTS, type ExperimentKind } from './experiments.js';
import { ClientProbe } from './probe.js';
import type { ProbeEvent } from './probe-events.js';

interface PodMeta {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; ownerReferences?: Array<{ kind: string }> };
}

export class ClusterEnvironment implements ChaosEnvironment {
  readonly name = 'cluster' as const;
  private macs = new Map<string, string>();

  constructor(
    private readonly api: ApiClient,
    /** Baton's namespace (its pods and Leases). */
    private readonly namespace: string,
    /** This machine's interface on the external IPs' LAN. */
    private readonly iface: string,
  ) {}

  private get leases(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.namespace}/leases`;
  }

  async externalIps(): Promise<string[]> {
    const list = await this.api.list<List<Lease>>(this.leases, { labelSelector: LEASE_SELECTOR });
    // Speakers publish "iface=mac" per interface: that is how a MAC on the wire gets its node's name.
    for (const l of list.items) {
      const node = l.spec?.holderIdentity;
      for (const pair of (l.metadata.annotations?.['baton.dev/interfaces'] ?? '').split(',')) {
        const mac = pair.split('=')[1];
        if (node !== undefined && node !== '' && mac !== undefined) this.macs.set(mac, node);
      }
    }
    return list.items
      .flatMap((l) =>
        l.metadata.annotations?.['baton.dev/ip'] !== undefined && l.spec?.holderIdentity ? [l.metadata.annotations['baton.dev/ip']] : [],
      )
      .sort();
  }

  async holderOf(ip: string): Promise<string | undefined> {
    try {
      return (await this.api.get<Lease>(`${this.leases}/${ipLeaseName(ip)}`)).spec?.holderIdentity || undefined;
    } catch {
      return undefined;
    }
  }

  nodeOfMac(mac: string): string | undefined {
    return this.macs.get(mac);
  }

  supports(kind: ExperimentKind): boolean {
    return !EXPERIMENTS[kind].lab;
  }

  async inject(kind: ExperimentKind, ip: string, holder: string): Promise<void> {
    switch (kind) {
      case 'delete-speaker-pod': {
        const pods = await this.api.list<List<PodMeta>>(`/api/v1/namespaces/${this.namespace}/pods`, {
          labelSelector: 'app.kubernetes.io/component=speaker',
          fieldSelector: `spec.nodeName=${holder}`,
        });
        const pod = pods.items[0];
        if (pod === undefined) throw new Error(`no speaker pod on ${holder} in ${this.namespace}`);
        await this.api.delete(`/api/v1/namespaces/${this.namespace}/pods/${pod.metadata.name}`);
        return;
      }
      case 'cordon-drain': {
        await this.api.patch(`/api/v1/nodes/${holder}`, { spec: { unschedulable: true } });
        const pods = await this.api.list<List<PodMeta>>('/api/v1/pods', { fieldSelector: `spec.nodeName=${holder}` });
        for (const p of pods.items) {
          if (p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet') === true) continue;
          const ns = p.metadata.namespace ?? 'default';
          await this.api
            .create(`/api/v1/namespaces/${ns}/pods/${p.metadata.name}/eviction`, {
              apiVersion: 'policy/v1',
              kind: 'Eviction',
              metadata: { name: p.metadata.name, namespace: ns },
            })
            .catch(() => undefined);
        }
        return;
      }
      case 'delete-lease':
        await this.api.delete(`${this.leases}/${ipLeaseName(ip)}`);
        return;
      default:
        throw new Error(`${kind} needs the local lab`);
    }
  }

  async recover(kind: ExperimentKind, _ip: string, holder: string): Promise<void> {
    if (kind === 'cordon-drain') await this.api.patch(`/api/v1/nodes/${holder}`, { spec: { unschedulable: null } });
  }

  async startProbe(ips: readonly string[], onEvent: (e: ProbeEvent) => void): Promise<{ stop(): Promise<void> }> {
    const addresses = networkInterfaces()[this.iface] ?? [];
    const source = addresses.find((a) => a.family === 'IPv4')?.address;
    // A global address: a link-local source would do for NDP, but the page loads need a routable one anyway.
    const source6 = addresses.find((a) => a.family === 'IPv6' && !a.address.toLowerCase().startsWith('fe80:'))?.address;
    const v6 = ips.filter((ip) => ip.includes(':'));
    if (source === undefined && v6.length < ips.length) throw new Error(`interface ${this.iface} has no IPv4 address`);
    if (source6 === undefined && v6.length > 0)
      throw new Error(`interface ${this.iface} has no global IPv6 address to probe ${v6.join(', ')}`);
    const probe = new ClientProbe({
      interface: this.iface,
      sourceIp: source,
      sourceIp6: source6,
      ips,
      httpPort: 80,
      intervalMs: 20,
      timeoutMs: 150,
      emit: onEvent,
    });
    probe.start();
    return { stop: async () => probe.stop() };
  }
}
