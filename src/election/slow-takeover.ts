// Whether a holder really stopped, in the slow liveness mode
// (docs/heartbeats.md, step 3): the fresh read of its liveness Lease that
// comes right before the compare-and-swap of a takeover. It stopped if the
// Lease
//   - names nobody (it left on SIGTERM); or
//   - declares "open" and the very boot id whose silence a second standby
//     witnessed, both before the read was sent and after it came back (the
//     holder's promise, silence-declaration.ts, covers decisions whose
//     evidence precedes the read); or
//   - is the version this node has seen for its whole duration (the
//     Lease-speed fallback, lease-poller.ts).
// A newer version or another boot means the holder runs (a restarted
// process confirms its IPs only after its first renewal, which carries its
// new boot): nothing moves.
import { BOOT_ANNOTATION, SILENCE_ANNOTATION, speakerLeaseName } from '../k8s/lease-names.js';
import type { LeaseStore } from '../k8s/lease-store.js';
import type { Logger } from '../observability/logger.js';
import type { LeasePoller } from './lease-poller.js';

export interface SlowTakeoverDeps {
  store: Pick<LeaseStore, 'get'>;
  poller: LeasePoller;
  log: Logger;
  /** The boot of node's process if a second standby witnessed its silence, right now. */
  witnessedSilent(node: string): string | undefined;
  /** This node's lease watch is stale: it acts on nobody's death. */
  blind(): boolean;
  /** The node's IP Leases stand (a leaver's hand-over time is not over): SlowPeers.holdsIps. */
  holdsIps(node: string): boolean;
}

export function slowHolderStopped(d: SlowTakeoverDeps): (node: string) => Promise<boolean> {
  return async (node) => {
    const evidence = d.witnessedSilent(node);
    const fresh = await d.store.get(speakerLeaseName(node));
    // Released: a leaving speaker hands its IPs over itself until its hand-over time is over.
    if (fresh !== undefined && fresh.holder === '') return !d.holdsIps(node);
    if (d.blind()) return false;
    const boot = fresh?.annotations?.[BOOT_ANNOTATION];
    if (
      evidence !== undefined &&
      fresh?.holder === node &&
      boot === evidence &&
      fresh.annotations?.[SILENCE_ANNOTATION] === 'open' &&
      d.witnessedSilent(node) === evidence
    )
      return true;
    if (evidence !== undefined)
      d.log.info(
        { peer: node, boot, silence: fresh?.annotations?.[SILENCE_ANNOTATION] },
        'silent holder not taken over by silence: its Lease says otherwise',
      );
    // The Lease-speed rule: what this read shows is an observation like any poll's.
    if (d.poller.observe(node, fresh)) return false;
    return d.poller.expired(node);
  };
}
