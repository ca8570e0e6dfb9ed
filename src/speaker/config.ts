// Settings of a speaker, with the defaults a Helm install uses. This is the
// one source of truth: the flags' defaults and help are derived from
// SPEAKER_DEFAULTS, and a unit test holds charts/baton/values.yaml to it.
import type { LevelWithSilent } from 'pino';
import type { LivenessMode } from '../election/liveness-mode.js';
import { DEFAULT_LOAD_BALANCER_CLASS } from '../pools/names.js';

/** What the speaker itself needs (the Speaker composition root takes these). */
export interface SpeakerSettings {
  /** Kubernetes node this speaker runs on (the DaemonSet passes spec.nodeName). */
  nodeName: string;
  /** Namespace of the speaker and IP Leases. */
  namespace: string;
  loadBalancerClass: string;
  /** A speaker is dead to the others this long after its lease last changed. */
  leaseDurationMs: number;
  renewIntervalMs: number;
  /** A holder whose renewals fail this long stops answering (unless outage mode keeps it). Shorter than leaseDuration. */
  renewDeadlineMs: number;
  rankDelayMs: number;
  handoverTimeoutMs: number;
  /** Keep answering while the API server is unreachable, undefended, until another MAC announces the IP. */
  outageMode: boolean;
  /** Re-announce held IPs this often (0 = only the burst after taking an IP). */
  garpRefreshMs: number;
  /** Hand IPs, with no gap, to better-ranked nodes that have settled in, so IPs stay spread by rendezvous rank. */
  rebalance: boolean;
  /** A node must have been live this long before IPs are handed to it (a node that keeps restarting gets none). */
  rebalanceSettleMs: number;
  /** At most one rebalancing hand-over per this long, per holder. */
  rebalanceIntervalMs: number;
  /**
   * fast: the liveness Lease renewed twice a second, watched by every speaker (the three timings above).
   * slow: renewed every 10 s, watched by nobody else; needs LAN heartbeats (election/liveness-mode.ts).
   */
  liveness: LivenessMode;
}

/** Settings of the process around it. */
export interface SpeakerConfig extends SpeakerSettings {
  kubeconfig: string | undefined;
  metricsAddress: string;
  logLevel: LevelWithSilent;
  /** LAN heartbeats between holders and standbys (docs/heartbeats.md): failover in about half a second. */
  heartbeats: boolean;
  /** host:port of this node where heartbeats are taken (host required when heartbeats are on). */
  heartbeatAddress: string;
  /** The cluster's heartbeat key ($BATON_HEARTBEAT_KEY, from the chart's Secret); set when heartbeats are on. */
  heartbeatKey: Buffer | undefined;
}

export const SPEAKER_DEFAULTS = {
  namespace: 'baton-system',
  loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS,
  // 7473: next to the controller's 7472 (MetalLB's speaker uses the same pair).
  metricsAddress: ':7473',
  logLevel: 'info' as LevelWithSilent,
  // Failover after a crash takes about leaseDuration: 1.5 s keeps p99 under 2 s. Renewing every
  // 500 ms gives three chances per duration; the 1 s deadline leaves 500 ms between "holder stops"
  // and "others may start", far more than clock-rate drift and watch latency on a LAN.
  leaseDurationMs: 1_500,
  renewIntervalMs: 500,
  renewDeadlineMs: 1_000,
  // The best-ranked eligible node goes at once; each next one waits this much more, enough for the
  // first one's write to reach everyone's watch, so a takeover is usually one write, not a race.
  rankDelayMs: 200,
  // A successor normally announces within tens of ms; 3 s covers a slow API server without hanging shutdown.
  handoverTimeoutMs: 3_000,
  outageMode: true,
  // On by default: a node or switch that missed the takeover burst (a frame lost, a holder frozen at the
  // time) hears the owner again within 10 s, and the owner's MAC stays fresh in switch tables (300 s
  // ageing) and client caches (Linux re-confirms after 15-45 s). Cost: 2 broadcast frames per IP per 10 s.
  garpRefreshMs: 10_000,
  // Spread stays balanced after speakers start one by one, an OpenELB migration or a recovery (whoever is
  // first would otherwise keep everything). 10 s settle: a node in a restart loop or a rolling update's
  // brief return takes nothing. One hand-over a second per holder: a hand-over breaks the IP's open flows
  // through that node, so they are spread out over time; 30 IPs rebalance within half a minute.
  rebalance: true,
  rebalanceSettleMs: 10_000,
  rebalanceIntervalMs: 1_000,
  // On: a crashed holder is replaced in about half a second (README, Benchmarks), and they carry the slow
  // Lease below. The fast design stays a value away (heartbeats false, liveness fast) for clusters where UDP
  // between nodes is blocked or that have two nodes (docs/heartbeats.md, "Choosing a design").
  heartbeats: true,
  // Slow: 0.1 writes/s per speaker and no liveness watch, flat in the size of the cluster (make bench-scale).
  liveness: 'slow' as LivenessMode,
  // 7474: next to the metrics port 7473; UDP.
  heartbeatAddress: ':7474',
} as const;

/** Where each default sits in charts/baton/values.yaml (under `speaker:`, or at the top for the shared ones). */
export const SPEAKER_CHART_VALUES = {
  leaseDurationMs: 'speaker.leaseDuration',
  renewIntervalMs: 'speaker.renewInterval',
  renewDeadlineMs: 'speaker.renewDeadline',
  rankDelayMs: 'speaker.rankDelay',
  handoverTimeoutMs: 'speaker.handoverTimeout',
  outageMode: 'speaker.outageMode',
  garpRefreshMs: 'speaker.garpRefresh',
  rebalance: 'speaker.rebalance',
  rebalanceSettleMs: 'speaker.rebalanceSettle',
  rebalanceIntervalMs: 'speaker.rebalanceInterval',
  heartbeats: 'speaker.heartbeats',
  liveness: 'speaker.liveness',
  loadBalancerClass: 'loadBalancerClass',
  logLevel: 'logLevel',
} as const satisfies Partial<Record<keyof typeof SPEAKER_DEFAULTS, string>>;
