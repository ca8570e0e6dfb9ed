// Every kernel object and folder the lab creates carries the `baton-`
// prefix, and only those are ever swept. Nothing of the machine's own, nor
// of another project, can match.

/** Prefix of network namespaces, bridges and host-side veth ends. */
export const OWNED_PREFIX = 'baton-';
/** Prefix of per-run temporary folders under os.tmpdir(). */
export const RUN_DIR_PREFIX = 'baton-lab-';
/**
 * The network namespace the whole lab lives in: the bridge, the control
 * plane and the test process itself. This machine drops TCP between its
 * own (initial) namespace and any bridge or veth, so nothing of ours may
 * need that path; inside this namespace it is an ordinary LAN host, with no
 * route to anything but the LAN.
 */
export const LAB_NETNS = 'baton-lab';
/** Set by the launcher in the environment of everything it runs inside LAB_NETNS. */
export const LAB_ENV = 'BATON_LAB_NETNS';

/** nftables table the lab adds inside a node namespace to cut its path to the control plane. */
export const PARTITION_TABLE = 'baton_partition';

export function isOwnedName(name: string): boolean {
  return name.startsWith(OWNED_PREFIX);
}
