// Names, labels and annotations of the Leases Baton writes: the
// controller's leader Lease, one liveness Lease per speaker, one Lease per
// external IP, and with the slow liveness Lease (docs/heartbeats.md, step 3)
// one change-only info record per speaker. One label selects the speakers'
// and IPs', so one informer watches them all; the slow mode narrows it with
// an audience label. A wire contract: the controller, the speakers, `baton
// cleanup` and `baton chaos` all read these names from here.
import { createHash } from 'node:crypto';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'baton';
export const KIND_LABEL = 'baton.dev/lease-kind';
export const LEASE_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;
/**
 * Who needs to watch a Lease, for the slow liveness mode's narrower selector: `all` on IP Leases and
 * info records (every speaker needs them), one speaker's own value on its liveness Lease (only it needs
 * the echo of its renewals, to know its watch is current). Fast speakers select by MANAGED_BY alone.
 */
export const AUDIENCE_LABEL = 'baton.dev/audience';
export const AUDIENCE_ALL = 'all';

/** On an IP lease: the address in its own spelling (the name has to flatten dots and colons). */
export const LEASE_IP_ANNOTATION = 'baton.dev/ip';
/** On a speaker lease: Eip pools this node can announce (it has their interface), comma-separated. */
export const POOLS_ANNOTATION = 'baton.dev/pools';
/** On a speaker lease: its validity in ms (leaseDurationSeconds is whole seconds; liveness is sub-second). */
export const DURATION_ANNOTATION = 'baton.dev/lease-duration-ms';
/** On a speaker lease: "eth0=02:..:0b" per interface in use, for Events and people. */
export const INTERFACES_ANNOTATION = 'baton.dev/interfaces';
/** On a speaker lease: where it takes LAN heartbeats ("192.0.2.11:7474"); absent when it has none. */
export const HEARTBEAT_ANNOTATION = 'baton.dev/heartbeat';
/**
 * On a speaker lease with heartbeats: how long (ms) its Lease must go without a renewal before its standbys
 * may act on its silence. The holder fences its own defence by the same number, so both sides read it here.
 */
export const QUIET_ANNOTATION = 'baton.dev/heartbeat-quiet-ms';
/**
 * On a speaker's released liveness Lease: how long after its release it may
 * still answer for the IPs it held (its hand-over timeout, ms). Until then
 * its IP Leases stand; after it, it has stopped answering by itself.
 */
export const HANDOVER_ANNOTATION = 'baton.dev/handover-ms';

/** On an info record and a slow liveness Lease: the speaker process's boot id (16 hex), the one its heartbeats carry. */
export const BOOT_ANNOTATION = 'baton.dev/boot';
/**
 * On a slow liveness Lease: "open" while its standbys may take its IPs over on a witnessed heartbeat
 * silence (its heartbeat acks fence its defence), "closed" while only the Lease's expiry may.
 */
export const SILENCE_ANNOTATION = 'baton.dev/silence';
/** On an info record: the liveness mode of the speaker that wrote it ("slow"). */
export const LIVENESS_MODE_ANNOTATION = 'baton.dev/liveness';

export function speakerLeaseName(node: string): string {
  return `baton-speaker-${node}`;
}

export function nodeOfSpeakerLease(name: string): string | undefined {
  return name.startsWith('baton-speaker-') ? name.slice('baton-speaker-'.length) : undefined;
}

/** A speaker's change-only info record (slow liveness mode): what peers need of it, written when that changes. */
export function infoRecordName(node: string): string {
  return `baton-info-${node}`;
}

export function nodeOfInfoRecord(name: string): string | undefined {
  return name.startsWith('baton-info-') ? name.slice('baton-info-'.length) : undefined;
}

/**
 * The audience value of one speaker's own liveness Lease: a digest, since a node name (up to 253
 * characters) need not fit a label value (63), and a node may be called "all".
 */
export function audienceOf(node: string): string {
  return `n-${createHash('sha256').update(node).digest('hex').slice(0, 16)}`;
}

/** The lease informer's selector: every Baton Lease (fast), or only what all speakers need plus this one's own (slow). */
export function leaseSelector(mode: 'fast' | 'slow', node: string): string {
  return mode === 'fast' ? LEASE_SELECTOR : `${LEASE_SELECTOR},${AUDIENCE_LABEL} in (${AUDIENCE_ALL},${audienceOf(node)})`;
}

/** baton-ip-192-0-2-200, baton-ip-2001-db8--7: a valid object name for any canonical address. */
export function ipLeaseName(ip: string): string {
  return `baton-ip-${ip.toLowerCase().replaceAll('.', '-').replaceAll(':', '-')}`;
}

/**
 * Labels of a Lease of this kind. IP Leases and info records are for every speaker (audience all, in
 * both modes, so a cluster switched to the slow mode needs no relabelling); a liveness Lease names its
 * own speaker as audience when given (slow mode), none otherwise.
 */
export function leaseLabels(kind: 'speaker' | 'ip' | 'speaker-info', audience?: string): Record<string, string> {
  const labels: Record<string, string> = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [KIND_LABEL]: kind };
  const to = kind === 'speaker' ? audience : AUDIENCE_ALL;
  if (to !== undefined) labels[AUDIENCE_LABEL] = to;
  return labels;
}

/** The controller replicas' leader-election Lease. */
export const LEADER_LEASE_NAME = 'baton-controller';
