// The two ways a speaker proves it is alive (docs/heartbeats.md):
//
// - fast (--liveness=fast): its liveness Lease is renewed twice a second and
//   every speaker watches every renewal; a crashed holder is replaced within
//   the Lease duration (1.5 s), or in about half a second with heartbeats.
// - slow (the default, needs --heartbeats): the liveness Lease is renewed
//   every 10 s, as kubelet's node Lease, and nobody watches it but its owner
//   (the echo that tells it its watch is current). Peers learn of each other
//   from change-only info records; a crashed holder is replaced on a
//   heartbeat silence that a second standby witnessed, in about half a
//   second, or by the Lease's expiry (20 s) when no heartbeat can tell.
//
// Here: the timings of each mode, each with its reason. What load each mode
// puts on the API server is in liveness-load.ts.

export type LivenessMode = 'fast' | 'slow';

export interface LivenessTimings {
  /** A speaker is dead to the others this long after its Lease last changed (by their observation). */
  leaseDurationMs: number;
  renewIntervalMs: number;
  /** Its holder stops defending (and, outside outage mode, answering) this long after its last renewal's send time. */
  renewDeadlineMs: number;
  /** After a failed renewal, the next attempt this soon. */
  retryIntervalMs: number;
  /** Each Lease request's deadline (queueing included). */
  requestTimeoutMs: number;
  /** A written renewal not back on the watch within this is a stalled watch (own-lease-echo.ts). */
  echoTimeoutMs: number;
  /** The lease informer gives up on a watch silent this long (own renewals guarantee an event per interval). */
  watchIdleMs: number;
  /** Slow only: how often a standby reads the liveness Lease of a holder it cannot hear (its Lease-speed fallback). */
  pollIntervalMs: number;
}

/**
 * kubelet parity: renewed every 10 s (KEP-589). The deadline leaves 5 s of
 * retries (one a second, each with a 1 s request deadline) after a renewal
 * fails; the duration leaves 5 s between "the holder stops defending" and
 * "others may take over", ten times the fast mode's margin, for watch-free
 * observation by polling. Polling every 5 s adds at most 5 s to a
 * Lease-speed failover (about 20-25 s), and only for holders no standby
 * hears.
 */
export const SLOW_LIVENESS = {
  renewIntervalMs: 10_000,
  renewDeadlineMs: 15_000,
  leaseDurationMs: 20_000,
  retryIntervalMs: 1_000,
  requestTimeoutMs: 1_000,
  // A request's deadline: an echo later than any write can take means the watch lags.
  echoTimeoutMs: 1_000,
  // Two and a half renew intervals: the own renewals' echo comes every 10 s, so a silent watch is dead after 25 s.
  watchIdleMs: 25_000,
  pollIntervalMs: 5_000,
} as const satisfies LivenessTimings;

// The fast lease watch gives up after 3 s without an event: every speaker renews twice a second.
const FAST_WATCH_IDLE_MS = 3_000;

export interface FastTimingSettings {
  liveness: LivenessMode;
  leaseDurationMs: number;
  renewIntervalMs: number;
  renewDeadlineMs: number;
}

/** The timings a speaker runs with: the fast mode's from its flags, the slow mode's fixed here. */
export function livenessTimings(s: FastTimingSettings): LivenessTimings {
  if (s.liveness === 'slow') return SLOW_LIVENESS;
  return {
    leaseDurationMs: s.leaseDurationMs,
    renewIntervalMs: s.renewIntervalMs,
    renewDeadlineMs: s.renewDeadlineMs,
    // A failed fast renewal is retried at the next interval (500 ms): already inside the deadline.
    retryIntervalMs: s.renewIntervalMs,
    // A write that hangs must fail in time for the holder to act on it: the renew deadline.
    requestTimeoutMs: s.renewDeadlineMs,
    echoTimeoutMs: s.renewIntervalMs,
    watchIdleMs: FAST_WATCH_IDLE_MS,
    pollIntervalMs: Number.POSITIVE_INFINITY,
  };
}
