import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { computeScore, rank, rememberedScores, SCORE_CACHE_LIMIT, score } from './rendezvous.js';

const nodeName = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
/** The first 8 bytes of `printf 'node-1\000192.0.2.200' | sha256sum` (0xe3eeab9237a84394), read independently of node:crypto. */
const SCORE_NODE1_IP200 = 0xe3eeab9237a84394n;
const ipText = fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `192.0.${a}.${b}`);

describe('rendezvous ranking', () => {
  it('does not depend on the order candidates are given in (property)', () => {
    fc.assert(
      fc.property(ipText, fc.uniqueArray(nodeName, { minLength: 1, maxLength: 8 }), (ip, nodes) => {
        assert.deepEqual(rank(ip, nodes), rank(ip, [...nodes].reverse()));
      }),
    );
  });

  it('keeps the relative order of the others when one candidate leaves (property)', () => {
    fc.assert(
      fc.property(ipText, fc.uniqueArray(nodeName, { minLength: 2, maxLength: 8 }), fc.nat(), (ip, nodes, pick) => {
        const gone = nodes[pick % nodes.length] as string;
        const before = rank(ip, nodes).filter((n) => n !== gone);
        assert.deepEqual(
          rank(
            ip,
            nodes.filter((n) => n !== gone),
          ),
          before,
        );
      }),
    );
  });

  it('spreads a dead node’s addresses over all survivors', () => {
    const nodes = ['node-1', 'node-2', 'node-3', 'node-4'];
    const ips = Array.from({ length: 400 }, (_, i) => `198.51.100.${i % 256}-${Math.floor(i / 256)}`);
    const owned = ips.filter((ip) => rank(ip, nodes)[0] === 'node-1');
    const inherit = new Map<string, number>();
    for (const ip of owned) {
      const heir = rank(
        ip,
        nodes.filter((n) => n !== 'node-1'),
      )[0] as string;
      inherit.set(heir, (inherit.get(heir) ?? 0) + 1);
    }
    assert.equal(inherit.size, 3, 'every survivor inherits some');
    for (const [node, n] of inherit) assert.ok(n > owned.length / 6, `${node} got ${n} of ${owned.length}: roughly a third each`);
  });

  it('gives every node a fair share as first choice', () => {
    const nodes = ['a', 'b', 'c'];
    const firsts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const first = rank(`10.${i >> 8}.${i & 255}.1`, nodes)[0] as string;
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    for (const n of nodes) assert.ok((firsts.get(n) ?? 0) > 850 && (firsts.get(n) ?? 0) < 1150, `${n}: ${firsts.get(n)}`);
  });

  it('scores a pair exactly as every version did: SHA-256 of node, NUL, ip, first 8 bytes big-endian', () => {
    // Speakers of two versions meet during a rolling update: they must rank alike.
    assert.equal(computeScore('node-1', '192.0.2.200'), SCORE_NODE1_IP200);
    assert.equal(score('node-1', '192.0.2.200'), SCORE_NODE1_IP200);
  });

  it('hashes node, NUL and ip in one shot exactly as hashing them in three updates (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (node, ip) => {
        const reference = createHash('sha256').update(node).update('\0').update(ip).digest().readBigUInt64BE(0);
        assert.equal(computeScore(node, ip), reference);
      }),
    );
  });

  it('remembers scores without changing them (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(nodeName, ipText), { minLength: 1, maxLength: 50 }), (pairs) => {
        for (const [n, ip] of pairs) assert.equal(score(n, ip), computeScore(n, ip));
        for (const [n, ip] of pairs) assert.equal(score(n, ip), computeScore(n, ip), 'from the cache');
      }),
    );
  });

  it('starts over when full, and scores stay right across it', () => {
    const pairs = Array.from({ length: SCORE_CACHE_LIMIT + 100 }, (_, i) => [`node-${i % 1_000}`, `198.18.${i >> 8}.${i & 255}`] as const);
    let startedOver = false;
    for (const [n, ip] of pairs) {
      const before = rememberedScores();
      assert.equal(score(n, ip), computeScore(n, ip));
      if (rememberedScores() < before) startedOver = true;
      assert.ok(rememberedScores() <= SCORE_CACHE_LIMIT);
    }
    assert.ok(startedOver, 'more new pairs than the limit: it started over on the way');
    // The first pairs went with the start-over; asked again they are computed again, and alike.
    for (const [n, ip] of pairs.slice(0, 100)) assert.equal(score(n, ip), computeScore(n, ip));
  });
});
