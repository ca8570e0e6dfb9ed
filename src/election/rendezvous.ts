// Rendezvous (highest random weight) hashing: every node scores every IP,
// and the candidates for an IP are tried in descending score. Any speaker
// computes the same order from the same candidate set, with no coordination;
// removing a node changes no other node's relative order, so a dead node's
// IPs spread over the survivors instead of all landing on one.
import { createHash } from 'node:crypto';

/** A 64-bit score for (node, ip); SHA-256 because it is in node:crypto and evenly spread, not for secrecy. */
export function score(node: string, ip: string): bigint {
  return createHash('sha256').update(node).update('\0').update(ip).digest().readBigUInt64BE(0);
}

/** Candidates ordered best first; ties (which need a hash collision) broken by name so the order is total. */
export function rank(ip: string, candidates: Iterable<string>): string[] {
  return [...new Set(candidates)]
    .map((node) => ({ node, s: score(node, ip) }))
    .sort((a, b) => (a.s > b.s ? -1 : a.s < b.s ? 1 : a.node < b.node ? -1 : 1))
    .map((x) => x.node);
}
