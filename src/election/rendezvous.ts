// Rendezvous (highest random weight) hashing: every node scores every IP,
// and the candidates for an IP are tried in descending score. Any speaker
// computes the same order from the same candidate set, with no coordination;
// removing a node changes no other node's relative order, so a dead node's
// IPs spread over the survivors instead of all landing on one.
import { createHash } from 'node:crypto';

/** A 64-bit score for (node, ip); SHA-256 because it is in node:crypto and evenly spread, not for secrecy. */
export function computeScore(node: string, ip: string): bigint {
  return createHash('sha256').update(node).update('\0').update(ip).digest().readBigUInt64BE(0);
}

/**
 * Scores already computed. A pair's score never changes, and with heartbeats
 * a speaker ranks the candidates of every IP ten times a second (beat-plan.ts):
 * at 250 IPs that was 7,500 native hash objects a second, each freed only by
 * a later garbage collection. 20,000 pairs (about 2 MiB) cover 1,000 IPs on
 * 20 nodes; past that the cache starts over rather than grow with the cluster.
 */
export const SCORE_CACHE_LIMIT = 20_000;
const scores = new Map<string, bigint>();

/** How many scores are remembered (for tests: the cache must not grow past its limit). */
export function rememberedScores(): number {
  return scores.size;
}

/** computeScore, remembered. */
export function score(node: string, ip: string): bigint {
  const key = `${node}\0${ip}`;
  let s = scores.get(key);
  if (s === undefined) {
    if (scores.size >= SCORE_CACHE_LIMIT) scores.clear();
    s = computeScore(node, ip);
    scores.set(key, s);
  }
  return s;
}

/** Candidates ordered best first; ties (which need a hash collision) broken by name so the order is total. */
export function rank(ip: string, candidates: Iterable<string>): string[] {
  return [...new Set(candidates)]
    .map((node) => ({ node, s: score(node, ip) }))
    .sort((a, b) => (a.s > b.s ? -1 : a.s < b.s ? 1 : a.node < b.node ? -1 : 1))
    .map((x) => x.node);
}
