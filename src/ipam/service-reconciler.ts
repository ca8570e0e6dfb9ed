// reconcile(namespace/name) for Services: gives a managed Service the
// addresses its request and the pools allow, writes them to
// status.loadBalancer.ingress, and takes them back when the Service goes or
// stops being Baton's. Idempotent: run twice on the same state, the second
// run writes nothing.
//
// Order of effects, so that a crash at any point never leaves one address
// with two owners: reserve in the table (synchronously, right after
// planning) -> finalizer -> status (the commit point a restarted
// controller rebuilds from) -> release what the Service no longer holds.

import type { Clock } from '../clock.js';
import type { EventTarget } from '../k8s/event-recorder.js';
import { OwnWrites } from '../k8s/own-writes.js';
import type { ReconcileResult } from '../k8s/reconcile-loop.js';
import { type Service, splitKey } from '../k8s/types.js';
import { formatIp } from '../net/ip.js';
import type { Logger } from '../observability/logger.js';
import { SERVICE_FINALIZER } from '../pools/names.js';
import { isManaged } from '../pools/service-class.js';
import { holderOf, planAddresses } from './allocation-plan.js';
import type { EventSink, Fence, ReadCache, ServiceWrites } from './boundaries.js';
import { ingressIps } from './holder.js';
import type { IpamMetrics } from './ipam-metrics.js';
import type { IpamState } from './ipam-state.js';
import { loadBalancerRequest } from './service-request.js';

// Longest we wait for our own write to show up in the cache before deciding on what the cache says anyway.
const OWN_WRITE_ECHO_MS = 5_000;
// Waiting Services are woken by pool and release events; this slow re-check only guards against a missed wake-up.
const PENDING_RECHECK_MS = 60_000;

export interface ServiceReconcilerDeps {
  services: ReadCache<Service>;
  namespaceLabels: (namespace: string) => Readonly<Record<string, string>>;
  state: IpamState;
  writes: ServiceWrites;
  events: EventSink;
  fence: Fence;
  metrics: IpamMetrics;
  log: Logger;
  loadBalancerClass: string;
  clock: Clock;
}

export class ServiceReconciler {
  /**
   * Per Service, the resourceVersions this controller has itself replaced by
   * writing. Seeing one of them in the cache means the watch has not yet
   * delivered our own write: acting on it would only earn a 409, so the
   * reconcile waits for the update event instead.
   */
  private readonly ownWrites: OwnWrites;

  constructor(private readonly deps: ServiceReconcilerDeps) {
    this.ownWrites = new OwnWrites(deps.clock, OWN_WRITE_ECHO_MS);
  }

  reconcile = async (key: string): Promise<ReconcileResult> => {
    const { namespace, name } = splitKey(key);
    const svc = this.deps.services.get(name, namespace);
    const rv = svc?.metadata.resourceVersion;
    if (svc !== undefined && this.ownWrites.awaitingEcho(key, rv)) return {};
    if (svc === undefined) {
      // Gone from the cache: whatever it held is free (its finalizer was already handled, or never set).
      this.release(key, undefined);
      this.deps.state.clearPending(key);
      return {};
    }
    if (svc.metadata.deletionTimestamp !== undefined || !isManaged(svc, this.deps.loadBalancerClass)) {
      await this.retire(key, svc);
      return {};
    }
    return this.allocate(key, svc);
  };

  private async allocate(key: string, svc: Service): Promise<ReconcileResult> {
    const { state, metrics } = this.deps;
    const parsed = loadBalancerRequest(svc);
    if (!parsed.ok) {
      // Bad input: say so; whatever the Service already holds stays (nothing that works is lost).
      this.warn(svc, parsed.reason, parsed.message);
      state.clearPending(key);
      return {};
    }
    const request = parsed.request;
    const plan = planAddresses(request, {
      pools: state.pools(),
      table: state.table,
      namespaceLabels: this.deps.namespaceLabels(request.namespace),
    });
    if (!plan.ok) {
      this.warn(svc, plan.reason, plan.message);
      state.markPending(key, request.createdAt);
      metrics.pending.set(state.pendingCount());
      return { requeueAfterMs: PENDING_RECHECK_MS };
    }
    for (const skipped of plan.skipped) this.warn(svc, skipped.reason, `${skipped.message} (the Service keeps its other address)`);
    if (plan.skipped.length > 0) state.markPending(key, request.createdAt);
    else state.clearPending(key);
    metrics.pending.set(state.pendingCount());

    const current = state.table.allocationsOf(key);
    const wanted = plan.addresses.map((a) => ({ ...a, text: formatIp(a.ip) }));
    const added = wanted.filter((w) => !current.some((c) => c.text === w.text));
    const dropped = current.filter((c) => !wanted.some((w) => w.text === c.text));
    const holder = holderOf(request);
    // Reserve before the first await: a concurrent reconcile of another Service now sees these taken.
    for (const a of added) state.table.assign(a.ip, a.pool, holder);
    try {
      let obj = svc;
      const replaced: string[] = [];
      const finalizers = svc.metadata.finalizers ?? [];
      if (!finalizers.includes(SERVICE_FINALIZER)) {
        this.deps.fence();
        replaced.push(obj.metadata.resourceVersion ?? '');
        obj = await this.deps.writes.setFinalizers(obj, [...finalizers, SERVICE_FINALIZER]);
      }
      const wantedTexts = wanted.map((w) => w.text);
      if (!sameList(ingressIps(obj), wantedTexts)) {
        this.deps.fence();
        replaced.push(obj.metadata.resourceVersion ?? '');
        await this.deps.writes.setIngress(obj, wantedTexts);
      }
      this.ownWrites.wrote(key, replaced);
    } catch (err) {
      for (const a of added) state.table.releaseOne(key, a.text);
      throw err;
    }
    for (const d of dropped) state.table.releaseOne(key, d.text);
    for (const a of added) {
      metrics.allocations.inc({ pool: a.pool });
      this.deps.events.record(target(svc), 'Normal', 'IPAllocated', `allocated ${a.text} from Eip ${a.pool}`);
      this.deps.log.info({ service: key, ip: a.text, eip: a.pool }, 'address allocated');
    }
    for (const d of dropped) {
      metrics.releases.inc({ pool: d.pool });
      this.deps.events.record(target(svc), 'Normal', 'IPReleased', `released ${d.text} of Eip ${d.pool}`);
      this.deps.log.info({ service: key, ip: d.text, eip: d.pool }, 'address released');
    }
    if (added.length + dropped.length > 0)
      state.allocationsChanged(
        [...added, ...dropped].map((x) => x.pool),
        dropped.length > 0,
      );
    return plan.skipped.length > 0 ? { requeueAfterMs: PENDING_RECHECK_MS } : {};
  }

  /** The Service is being deleted or is no longer Baton's: free its addresses, clear what Baton wrote, drop the finalizer. */
  private async retire(key: string, svc: Service): Promise<void> {
    const held = this.deps.state.table.allocationsOf(key);
    const deleting = svc.metadata.deletionTimestamp !== undefined;
    this.deps.state.clearPending(key);
    let obj = svc;
    const heldTexts = held.map((h) => h.text);
    const status = ingressIps(svc);
    if (!deleting && held.length > 0 && status.length > 0 && status.every((ip) => heldTexts.includes(ip))) {
      this.deps.fence();
      obj = await this.deps.writes.setIngress(obj, []);
    }
    const finalizers = obj.metadata.finalizers ?? [];
    if (finalizers.includes(SERVICE_FINALIZER)) {
      this.deps.fence();
      await this.deps.writes.setFinalizers(
        obj,
        finalizers.filter((f) => f !== SERVICE_FINALIZER),
      );
    }
    this.release(key, deleting ? undefined : svc);
  }

  private release(key: string, svc: Service | undefined): void {
    const held = this.deps.state.table.releaseService(key);
    if (held.length === 0) return;
    for (const h of held) {
      this.deps.metrics.releases.inc({ pool: h.pool });
      this.deps.log.info({ service: key, ip: h.text, eip: h.pool }, 'address released');
      if (svc !== undefined) this.deps.events.record(target(svc), 'Normal', 'IPReleased', `released ${h.text} of Eip ${h.pool}`);
    }
    this.deps.state.allocationsChanged(
      held.map((h) => h.pool),
      true,
    );
  }

  private warn(svc: Service, reason: string, message: string): void {
    this.deps.metrics.failures.inc({ reason });
    this.deps.events.record(target(svc), 'Warning', reason, message);
    this.deps.log.warn({ service: `${svc.metadata.namespace}/${svc.metadata.name}`, reason }, message);
  }
}

function target(svc: Service): EventTarget {
  return { apiVersion: 'v1', kind: 'Service', metadata: svc.metadata };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
