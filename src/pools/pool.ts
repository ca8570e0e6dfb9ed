// One Eip read as an address pool, with everything wrong with it on its own
// (cross-pool conflicts are pool-set.ts's business). No Kubernetes calls: the
// Eip comes in as plain data.

import type { Eip } from '../k8s/types.js';
import { parseIp } from '../net/ip.js';
import { INCLUDE_NETWORK_AND_BROADCAST_ANNOTATION, type ParsedAddress, parseEipAddress, rangeContains } from './address-range.js';
import { DEFAULT_POOL_ANNOTATION } from './names.js';

export const SUPPORTED_PROTOCOLS = ['layer2', 'vip'] as const;

export type PoolProblemReason =
  | 'InvalidAddress'
  | 'RangeReversed'
  | 'MixedFamilies'
  | 'UnsupportedProtocol'
  | 'InterfaceRequired'
  | 'AddressChanged';

export interface PoolProblem {
  reason: PoolProblemReason;
  message: string;
}

export interface Pool {
  name: string;
  uid: string | undefined;
  /** For "who came first" decisions (overlap, second default): older wins. */
  createdAt: string;
  address: ParsedAddress | undefined;
  protocol: string;
  interface: string | undefined;
  disabled: boolean;
  /** Lower is preferred, as in OpenELB. */
  priority: number;
  namespaces: readonly string[];
  namespaceSelector: Readonly<Record<string, string>> | undefined;
  annotatedDefault: boolean;
  deleting: boolean;
  /** Problems of this Eip by itself; any of them keeps it from allocating. */
  problems: PoolProblem[];
}

export function poolFromEip(eip: Eip): Pool {
  const problems: PoolProblem[] = [];
  const annotations = eip.metadata.annotations ?? {};
  const parsed = parseEipAddress(eip.spec.address ?? '', {
    includeNetworkAndBroadcast: annotations[INCLUDE_NETWORK_AND_BROADCAST_ANNOTATION] === 'true',
  });
  if (!parsed.ok) problems.push({ reason: parsed.reason, message: parsed.message });

  // OpenELB reads an empty protocol as BGP. A pool that OpenELB announced over BGP must not start
  // being answered over ARP after a migration, so empty is refused like bgp, with the fix in the message.
  const declared = eip.spec.protocol ?? '';
  const protocol = declared === '' ? 'bgp' : declared;
  if (!(SUPPORTED_PROTOCOLS as readonly string[]).includes(protocol)) {
    problems.push({
      reason: 'UnsupportedProtocol',
      message:
        protocol === 'bgp'
          ? `Baton does not do BGP: it announces addresses with ARP from one node${declared === '' ? ' (an Eip without spec.protocol means bgp, as in OpenELB)' : ''}. Set spec.protocol to layer2 or vip.`
          : `protocol "${protocol}" is not one of layer2, vip`,
    });
  }
  const iface = eip.spec.interface === undefined || eip.spec.interface.trim() === '' ? undefined : eip.spec.interface.trim();
  if (iface === undefined) {
    problems.push({
      reason: 'InterfaceRequired',
      message: 'spec.interface must name the NIC to answer ARP on (e.g. eth0) or can_reach:<ip>',
    });
  } else if (iface.startsWith('can_reach:') && parseIp(iface.slice('can_reach:'.length)) === undefined) {
    problems.push({ reason: 'InterfaceRequired', message: `"${iface}": can_reach: must be followed by an IP address` });
  }

  // The admission rule keeps spec.address immutable; under a CRD without it (OpenELB's own), the
  // range recorded in status by an earlier reconcile tells that the address was edited in place.
  if (parsed.ok && eip.status?.firstIP !== undefined && eip.status.lastIP !== undefined) {
    const first = parseIp(eip.status.firstIP);
    const last = parseIp(eip.status.lastIP);
    if (
      first !== undefined &&
      last !== undefined &&
      !(rangeContains(parsed.value.declared, first) && rangeContains(parsed.value.declared, last))
    ) {
      problems.push({
        reason: 'AddressChanged',
        message: `spec.address changed from the accepted range ${eip.status.firstIP}-${eip.status.lastIP}; addresses of a pool cannot change. Restore it, or create a new Eip`,
      });
    }
  }

  return {
    name: eip.metadata.name,
    uid: eip.metadata.uid,
    createdAt: eip.metadata.creationTimestamp ?? '',
    address: parsed.ok ? parsed.value : undefined,
    protocol,
    interface: iface,
    disabled: eip.spec.disable === true,
    priority: Number.isInteger(eip.spec.priority) ? (eip.spec.priority as number) : 0,
    namespaces: eip.spec.namespaces ?? [],
    namespaceSelector: eip.spec.namespaceSelector,
    annotatedDefault: annotations[DEFAULT_POOL_ANNOTATION] === 'true',
    deleting: eip.metadata.deletionTimestamp !== undefined,
    problems,
  };
}

/** Older first; the name breaks ties so every replica orders pools the same way. */
export function olderFirst(a: Pool, b: Pool): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
