// The IPAM controller's own metrics.
import type { Counter, Gauge } from 'prom-client';
import type { Metrics } from '../observability/metrics.js';

export class IpamMetrics {
  readonly poolAddresses: Gauge<'pool'>;
  readonly poolInUse: Gauge<'pool'>;
  readonly allocations: Counter<'pool'>;
  readonly releases: Counter<'pool'>;
  readonly failures: Counter<'reason'>;
  readonly pending: Gauge;

  constructor(metrics: Metrics) {
    this.poolAddresses = metrics.gauge(
      'baton_ipam_pool_addresses',
      'Addresses a pool can hand out (capped at 2^53-1 for huge IPv6 pools)',
      ['pool'],
    );
    this.poolInUse = metrics.gauge(
      'baton_ipam_pool_addresses_in_use',
      'Addresses of a pool held by Services (a shared address counts once)',
      ['pool'],
    );
    this.allocations = metrics.counter('baton_ipam_allocations_total', 'Addresses given to Services', ['pool']);
    this.releases = metrics.counter('baton_ipam_releases_total', 'Addresses taken back from Services', ['pool']);
    this.failures = metrics.counter('baton_ipam_allocation_failures_total', 'Services refused or left waiting, by reason', ['reason']);
    this.pending = metrics.gauge('baton_ipam_pending_services', 'Services waiting for an address', []);
  }
}
