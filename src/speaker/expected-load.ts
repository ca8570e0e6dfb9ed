// What one speaker is expected to ask of the API server in steady state (no
// IP changing hands, no fault), from its configuration alone: the writes per
// second, the watches it opens (with their selectors), and the Lease watch
// events it receives in a cluster of N speakers. Pure, so that a benchmark
// (`make bench-scale`) can print expected beside measured, and so that the
// process opens exactly the watches stated here (main.ts takes them from
// speakerWatches()).
//
// Fast liveness: the liveness Lease is renewed every renew interval and
// every speaker watches every renewal: 1000/interval writes/s per speaker,
// N x that in events to each. Slow liveness (docs/heartbeats.md, step 3):
// renewed every 10 s, and a speaker's watch selects only IP Leases, info
// records (both written on change only) and its own liveness Lease: 0.1
// writes/s and 0.1 events/s, whatever N and the number of IPs. Reads: none
// in steady state; in the slow mode, one per holder a standby cannot hear
// (UDP blocked, a holder past its renew deadline) per poll interval.
import { type LivenessMode, livenessTimings } from '../election/liveness-mode.js';
import { leaseSelector } from '../k8s/lease-names.js';
import { EIPS_PATH } from '../k8s/resource-writers.js';

export interface LoadConfig {
  liveness: LivenessMode;
  nodeName: string;
  namespace: string;
  leaseDurationMs: number;
  renewIntervalMs: number;
  renewDeadlineMs: number;
}

export interface Watch {
  /** Short name, as the informer's (logs, metrics). */
  name: 'leases' | 'services' | 'eips' | 'endpointslices' | 'nodes';
  path: string;
  labelSelector?: string;
}

export interface ExpectedLoad {
  liveness: LivenessMode;
  /** Steady-state API writes per second by this speaker, and what they are. */
  writesPerSecond: number;
  writes: Array<{ what: string; perSecond: number }>;
  /** The watches it opens. */
  watches: Watch[];
  /** Steady-state Lease watch events delivered to this speaker per second, with `nodes` speakers in the cluster. */
  leaseEventsPerSecond(nodes: number): number;
  /** Steady-state Lease reads per second by this speaker, when it stands by for `unheardHolders` holders it cannot hear. */
  readsPerSecond(unheardHolders: number): number;
}

/** The watches a speaker opens: Leases (selected by mode), Services, Eips, EndpointSlices, Nodes. */
export function speakerWatches(c: Pick<LoadConfig, 'liveness' | 'nodeName' | 'namespace'>): Watch[] {
  return [
    {
      name: 'leases',
      path: `/apis/coordination.k8s.io/v1/namespaces/${c.namespace}/leases`,
      labelSelector: leaseSelector(c.liveness, c.nodeName),
    },
    { name: 'services', path: '/api/v1/services' },
    { name: 'eips', path: EIPS_PATH },
    { name: 'endpointslices', path: '/apis/discovery.k8s.io/v1/endpointslices' },
    { name: 'nodes', path: '/api/v1/nodes' },
  ];
}

export function expectedLoad(c: LoadConfig): ExpectedLoad {
  const t = livenessTimings(c);
  const renewals = 1_000 / t.renewIntervalMs;
  const slow = c.liveness === 'slow';
  return {
    liveness: c.liveness,
    writesPerSecond: renewals,
    writes: [
      { what: 'liveness Lease renewals', perSecond: renewals },
      { what: 'IP Leases (on a change of owner only)', perSecond: 0 },
      ...(slow ? [{ what: 'info record (on a change of pools, interfaces or heartbeat endpoint only)', perSecond: 0 }] : []),
    ],
    watches: speakerWatches(c),
    // Fast: every speaker's renewals, its own included. Slow: its own renewals' echo only.
    leaseEventsPerSecond: (nodes) => (slow ? renewals : nodes * renewals),
    readsPerSecond: (unheardHolders) => (slow ? unheardHolders * (1_000 / t.pollIntervalMs) : 0),
  };
}
