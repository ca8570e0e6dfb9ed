// When two Services may hold one address. Sharing is only ever asked for
// (both name the same IP); it is allowed when nothing can go wrong for
// either: no port of one answers for the other, and the node that announces
// the address can serve both. With externalTrafficPolicy Cluster every node
// serves every Service; with Local only nodes with ready endpoints do, so the
// two must select the same pods.
import type { PortKey } from './service-request.js';

export interface Holder {
  key: string;
  createdAt: string;
  ports: readonly PortKey[];
  externalTrafficPolicyLocal: boolean;
  selector: Readonly<Record<string, string>> | undefined;
}

/** Why a and b cannot share an address, or undefined if they can. */
export function sharingConflict(a: Holder, b: Holder): string | undefined {
  for (const pa of a.ports) {
    if (b.ports.some((pb) => pb.port === pa.port && pb.protocol === pa.protocol)) {
      return `port ${pa.port}/${pa.protocol} is used by both ${a.key} and ${b.key}`;
    }
  }
  if (!a.externalTrafficPolicyLocal && !b.externalTrafficPolicyLocal) return undefined;
  if (sameSelector(a.selector, b.selector)) return undefined;
  return `${a.externalTrafficPolicyLocal ? a.key : b.key} has externalTrafficPolicy Local: both Services must then select the same pods, so that one node can serve both`;
}

function sameSelector(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length > 0 && ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}
