// Prometheus metrics. One registry per process; every component registers
// its own metrics here through a small typed facade so names, help texts
// and label sets are defined once. Names follow Prometheus conventions:
// baton_<component>_<what>_<unit|total>.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();

  readonly apiRequests: Counter<'verb' | 'resource' | 'code'>;
  readonly reconciles: Counter<'controller' | 'outcome'>;
  readonly reconcileSeconds: Histogram<'controller'>;
  readonly isLeader: Gauge;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'baton_' });
    this.apiRequests = new Counter({
      name: 'baton_k8s_api_requests_total',
      help: 'Requests to the Kubernetes API by verb, resource (leases, events, services/status...) and HTTP status (0 when no answer came back)',
      labelNames: ['verb', 'resource', 'code'],
      registers: [this.registry],
    });
    this.reconciles = new Counter({
      name: 'baton_reconciles_total',
      help: 'Reconcile runs by controller and outcome',
      labelNames: ['controller', 'outcome'],
      registers: [this.registry],
    });
    this.reconcileSeconds = new Histogram({
      name: 'baton_reconcile_duration_seconds',
      help: 'Time one reconcile took, API writes included',
      labelNames: ['controller'],
      // 1 ms to 10 s: a no-op reconcile is sub-millisecond, a reconcile with three writes tens of ms.
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [this.registry],
    });
    this.isLeader = new Gauge({
      name: 'baton_leader',
      help: '1 while this replica is the elected leader',
      registers: [this.registry],
    });
  }

  /** Hook for ApiClient's onRequest option: one count per request, by verb, resource and HTTP status (0: no answer). */
  countRequest = (outcome: { verb: string; resource: string; status: number }): void => {
    this.apiRequests.inc({ verb: outcome.verb, resource: outcome.resource, code: String(outcome.status) });
  };

  onReconciled = (controller: string, durationMs: number, outcome: 'ok' | 'error'): void => {
    this.reconciles.inc({ controller, outcome });
    this.reconcileSeconds.observe({ controller }, durationMs / 1000);
  };

  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }
}
