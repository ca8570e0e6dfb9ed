// An in-memory stand-in for the API server and the informer caches, for
// reconciler unit tests: writes check resourceVersion like the real server
// (409 on a stale one) and bump it; events and writes are recorded so a test
// can assert exactly what a reconcile did. The e2e suite runs the same
// reconcilers against the real control plane.

import type { EipWrites, ReadCache, ServiceWrites } from '../ipam/boundaries.js';
import { IpamMetrics } from '../ipam/ipam-metrics.js';
import { IpamState } from '../ipam/ipam-state.js';
import { ApiError } from '../k8s/api-error.js';
import type { EventTarget, EventType } from '../k8s/event-recorder.js';
import type { Eip, EipStatus, Service } from '../k8s/types.js';
import { silentLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';

export class FakeCluster {
  readonly services = new Map<string, Service>();
  readonly eips = new Map<string, Eip>();
  readonly labels = new Map<string, Record<string, string>>();
  readonly events: Array<{ kind: string; name: string; type: EventType; reason: string; message: string }> = [];
  readonly writes: string[] = [];
  readonly woken: { services: string[]; pools: string[]; poolUsage: string[] } = { services: [], pools: [], poolUsage: [] };
  leader = true;
  /** Makes the next write fail as if the connection broke. */
  failNextWrite = false;
  private rv = 100;
  readonly metrics = new IpamMetrics(new Metrics({ defaultMetrics: false }));
  readonly state: IpamState;

  constructor() {
    this.state = new IpamState(
      () => [...this.eips.values()],
      {
        services: (k) => this.woken.services.push(...k),
        pools: (n) => this.woken.pools.push(...n),
        poolUsage: (n) => this.woken.poolUsage.push(...n),
      },
      silentLogger(),
    );
  }

  nextRv(): string {
    return String(++this.rv);
  }

  addService(svc: Service): Service {
    const stored = { ...svc, metadata: { ...svc.metadata, resourceVersion: this.nextRv() } };
    this.services.set(`${stored.metadata.namespace}/${stored.metadata.name}`, stored);
    return stored;
  }

  addEip(eip: Eip): Eip {
    const stored = { ...eip, metadata: { ...eip.metadata, resourceVersion: this.nextRv() } };
    this.eips.set(stored.metadata.name, stored);
    this.state.poolsChanged();
    return stored;
  }

  service(key: string): Service {
    const s = this.services.get(key);
    if (s === undefined) throw new Error(`no service ${key}`);
    return s;
  }

  serviceCache(): ReadCache<Service> {
    return {
      get: (name, namespace) => this.services.get(`${namespace}/${name}`),
      list: () => [...this.services.values()],
    };
  }

  eipCache(): ReadCache<Eip> {
    return { get: (name) => this.eips.get(name), list: () => [...this.eips.values()] };
  }

  serviceWrites(): ServiceWrites {
    return {
      setIngress: async (svc, ips) =>
        this.writeService(svc, 'status', (s) => ({
          ...s,
          status: { loadBalancer: ips.length === 0 ? {} : { ingress: ips.map((ip) => ({ ip, ipMode: 'VIP' as const })) } },
        })),
      setFinalizers: async (svc, finalizers) =>
        this.writeService(svc, 'finalizers', (s) => ({ ...s, metadata: { ...s.metadata, finalizers: [...finalizers] } })),
    };
  }

  eipWrites(): EipWrites {
    return {
      setStatus: async (eip, status: EipStatus) => this.writeEip(eip, 'status', (e) => ({ ...e, status }), false),
      setFinalizers: async (eip, finalizers) =>
        this.writeEip(eip, 'finalizers', (e) => ({ ...e, metadata: { ...e.metadata, finalizers: [...finalizers] } }), true),
    };
  }

  eventSink() {
    return {
      record: (t: EventTarget, type: EventType, reason: string, message: string) => {
        this.events.push({ kind: t.kind, name: t.metadata.name, type, reason, message });
      },
    };
  }

  fence = (): void => {
    if (!this.leader) throw Object.assign(new Error('not leader'), { code: 'NOT_LEADER' });
  };

  private writeService(svc: Service, what: string, change: (s: Service) => Service): Service {
    const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
    this.checkWrite(key, this.services.get(key)?.metadata.resourceVersion, svc.metadata.resourceVersion);
    const current = this.service(key);
    const next = change(current);
    const stored = { ...next, metadata: { ...next.metadata, resourceVersion: this.nextRv() } };
    this.services.set(key, stored);
    this.writes.push(`service ${key} ${what}`);
    return stored;
  }

  private writeEip(eip: Eip, what: string, change: (e: Eip) => Eip, precondition: boolean): Eip {
    const name = eip.metadata.name;
    if (precondition) this.checkWrite(name, this.eips.get(name)?.metadata.resourceVersion, eip.metadata.resourceVersion);
    const current = this.eips.get(name);
    if (current === undefined) throw new ApiError('K8S_NOT_FOUND', 404, `eip ${name} not found`);
    const next = change(current);
    const stored = { ...next, metadata: { ...next.metadata, resourceVersion: this.nextRv() } };
    this.eips.set(name, stored);
    this.writes.push(`eip ${name} ${what}`);
    return stored;
  }

  private checkWrite(key: string, current: string | undefined, given: string | undefined): void {
    if (this.failNextWrite) {
      this.failNextWrite = false;
      throw new ApiError('K8S_CONNECTION_FAILED', 0, `write to ${key}: connection reset (simulated)`);
    }
    if (current === undefined) throw new ApiError('K8S_NOT_FOUND', 404, `${key} not found`);
    if (given !== undefined && given !== current)
      throw new ApiError('K8S_CONFLICT', 409, `${key}: the object has been modified`, 'Conflict');
  }
}
