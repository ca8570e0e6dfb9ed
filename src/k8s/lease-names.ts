// Names, labels and annotations of the Leases Baton writes: the
// controller's leader Lease, one liveness Lease per speaker, one Lease per
// external IP. One label selects the speakers' and IPs', so one informer
// watches them all. A wire contract: the controller, the speakers, `baton
// cleanup` and `baton chaos` all read these names from here.

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'baton';
export const KIND_LABEL = 'baton.dev/lease-kind';
export const LEASE_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

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

export function speakerLeaseName(node: string): string {
  return `baton-speaker-${node}`;
}

export function nodeOfSpeakerLease(name: string): string | undefined {
  return name.startsWith('baton-speaker-') ? name.slice('baton-speaker-'.length) : undefined;
}

/** baton-ip-192-0-2-200, baton-ip-2001-db8--7: a valid object name for any canonical address. */
export function ipLeaseName(ip: string): string {
  return `baton-ip-${ip.toLowerCase().replaceAll('.', '-').replaceAll(':', '-')}`;
}

export function leaseLabels(kind: 'speaker' | 'ip'): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [KIND_LABEL]: kind };
}

/** The controller replicas' leader-election Lease. */
export const LEADER_LEASE_NAME = 'baton-controller';
