// The faults `baton chaos` can inject, and where. Cluster experiments work
// against any cluster through the API; lab experiments need the local lab,
// where nodes are network namespaces the runner can kill, unplug and cut off.
import type { ProbeEvent } from './probe-events.js';

export const EXPERIMENTS = {
  'delete-speaker-pod': { lab: false, holdMs: 3_000, what: 'delete the speaker pod of the IP’s holder (it gets SIGTERM and hands over)' },
  'cordon-drain': { lab: false, holdMs: 3_000, what: 'cordon the holder’s node and evict its pods' },
  'delete-lease': { lab: false, holdMs: 3_000, what: 'delete the IP’s Lease' },
  'kill-node': { lab: true, holdMs: 4_000, what: 'crash the holder’s node: every process on it (pods included) killed (-9), cable out' },
  'cut-link': { lab: true, holdMs: 4_000, what: 'unplug the holder’s node from the LAN' },
  'cut-control-plane': { lab: true, holdMs: 4_000, what: 'cut the holder’s node off from the API server, leaving it on the LAN' },
  'stop-api-server': { lab: true, holdMs: 15_000, what: 'stop the API server' },
} as const;

export type ExperimentKind = keyof typeof EXPERIMENTS;

export function isExperimentKind(s: string): s is ExperimentKind {
  return Object.hasOwn(EXPERIMENTS, s);
}

/** What the runner needs from where it runs: the lab, or a real cluster. */
export interface ChaosEnvironment {
  readonly name: 'lab' | 'cluster';
  /** External IPs Baton announces now. */
  externalIps(): Promise<string[]>;
  /** The node an IP's Lease names, if any. */
  holderOf(ip: string): Promise<string | undefined>;
  nodeOfMac(mac: string): string | undefined;
  supports(kind: ExperimentKind): boolean;
  inject(kind: ExperimentKind, ip: string, holder: string): Promise<void>;
  recover(kind: ExperimentKind, ip: string, holder: string): Promise<void>;
  /** Starts probing from the client's side; events arrive through onEvent until stop(). */
  startProbe(ips: readonly string[], onEvent: (e: ProbeEvent) => void): Promise<{ stop(): Promise<void> }>;
}
