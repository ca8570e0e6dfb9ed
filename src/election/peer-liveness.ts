// What the election reads of its peers' liveness, whichever way it is known:
// from renewals watched twice a second (liveness-tracker.ts, the fast mode)
// or from change-only info records, heartbeats and read Leases
// (slow-peers.ts). The announcer, the expiry alarms and the heartbeat plan
// depend on this, not on either.
export interface PeerLiveness {
  /** May take part: its speaker runs, as this node can tell. */
  live(node: string): boolean;
  /** Its IP Leases stand: it is live, or leaving (SIGTERM) and its hand-over time is not over. */
  holdsIps(node: string): boolean;
  liveNodes(): string[];
  /** Pools its speaker can announce (it has their interface). */
  pools(node: string): ReadonlySet<string>;
  /** Since when it has been live without a break, or undefined if it is not live. */
  liveSince(node: string): number | undefined;
  /** Where it takes heartbeats ("host:port"), if it does. */
  heartbeatEndpoint(node: string): string | undefined;
  /** Nodes known (live or not). */
  nodes(): string[];
  /** When it stops being live unless something shows it alive first (local clock). */
  expiresAt(node: string): number | undefined;
  /** This node's watch is stale (true) or current again: nobody is judged dead meanwhile. */
  setBlind(blind: boolean): void;
  /** After a time of not being able to renew: every peer gets a fresh duration. */
  restartObservation(): void;
}
