// Settings of a speaker, with the defaults a Helm install uses.
import type { LevelWithSilent } from 'pino';
import { DEFAULT_LOAD_BALANCER_CLASS } from '../pools/names.js';

export interface SpeakerConfig {
  kubeconfig: string | undefined;
  /** Kubernetes node this speaker runs on (the DaemonSet passes spec.nodeName). */
  nodeName: string;
  /** Namespace of the speaker and IP Leases. */
  namespace: string;
  loadBalancerClass: string;
  metricsAddress: string;
  logLevel: LevelWithSilent;
  /** A speaker is dead to the others this long after its lease last changed. */
  leaseDurationMs: number;
  renewIntervalMs: number;
  /** A holder whose renewals fail this long stops answering (unless outage mode keeps it). Shorter than leaseDuration. */
  renewDeadlineMs: number;
  rankDelayMs: number;
  handoverTimeoutMs: number;
  /** Keep answering while the API server is unreachable, until another MAC announces the IP. */
  outageMode: boolean;
  /** Re-announce held IPs this often (0 = only the burst after taking an IP). */
  garpRefreshMs: number;
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
  garpRefreshMs: 0,
};
