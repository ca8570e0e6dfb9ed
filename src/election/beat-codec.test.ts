import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BEAT_MAC_LENGTH, type Beat, decodeBeat, encodeBeat, heldDigest, MIN_KEY_LENGTH, nameDigest } from './beat-codec.js';

const KEY = Buffer.alloc(32, 0x5a);
const BEAT: Beat = {
  kind: 'beat',
  sender: 'node-1',
  bootId: '0102030405060708',
  sequence: 42n,
  sentAtMs: 1_796_000_000_123,
  heldDigest: 'a1a2a3a4a5a6a7a8',
};

describe('beat codec', () => {
  it('encodes a beat byte for byte, then signs it', () => {
    const bytes = encodeBeat(BEAT, KEY);
    const body =
      '4254' + // "BT"
      '4e01' + // "N", version 1
      '01' + // kind: beat
      '06' + // name length
      Buffer.from('node-1').toString('hex') +
      '0102030405060708' + // boot id
      '000000000000002a' + // sequence 42
      '000001a229f1287b' + // sent at 1,796,000,000,123 ms
      'a1a2a3a4a5a6a7a8' + // held digest
      '0000000000000000' + // acked boot id: none (a beat)
      '00'.repeat(16); // reserved
    assert.equal(bytes.subarray(0, bytes.length - BEAT_MAC_LENGTH).toString('hex'), body);
    const mac = createHmac('sha256', KEY).update(Buffer.from(body, 'hex')).digest('hex');
    assert.equal(bytes.subarray(bytes.length - BEAT_MAC_LENGTH).toString('hex'), mac, 'HMAC-SHA256 over everything before it');
    assert.equal(bytes.length, 94 + 'node-1'.length);
  });

  it('puts the acknowledged boot id of an ack where a beat has zeros', () => {
    const ack = encodeBeat({ ...BEAT, kind: 'ack', ackOf: 'b1b2b3b4b5b6b7b8' }, KEY);
    const at = 6 + 'node-1'.length + 4 * 8;
    assert.equal(ack[4], 2, 'kind: ack');
    assert.equal(ack.subarray(at, at + 8).toString('hex'), 'b1b2b3b4b5b6b7b8');
    assert.equal(ack.subarray(at + 8, at + 24).toString('hex'), '00'.repeat(16), 'reserved');
  });

  it('puts what a query or witness is about (boot, holder digest, nonce) where beats have zeros, and reads it back', () => {
    const about = { bootId: 'c1c2c3c4c5c6c7c8', holder: nameDigest('node-2'), nonce: 'd1d2d3d4d5d6d7d8' };
    for (const [kind, code] of [
      ['query', 3],
      ['witness', 4],
    ] as const) {
      const bytes = encodeBeat({ ...BEAT, kind, about }, KEY);
      const at = 6 + 'node-1'.length + 4 * 8;
      assert.equal(bytes[4], code, `kind: ${kind}`);
      assert.equal(bytes.subarray(at, at + 24).toString('hex'), `c1c2c3c4c5c6c7c8${about.holder}d1d2d3d4d5d6d7d8`);
      assert.equal(bytes.length, 94 + 'node-1'.length, 'the same length as a beat: the fields took the reserved bytes');
      assert.deepEqual(decodeBeat(bytes, KEY), { ok: true, value: { ...BEAT, kind, about } });
    }
    assert.notEqual(nameDigest('node-1'), nameDigest('node-2'));
    assert.match(nameDigest('node-1'), /^[0-9a-f]{16}$/);
    assert.throws(() => encodeBeat({ ...BEAT, kind: 'query' }, KEY), RangeError, 'a query names its holder');
    assert.throws(() => encodeBeat({ ...BEAT, about }, KEY), RangeError, 'a beat is about no other holder');
  });

  it('carries the "judge me by my Lease" flag of a beat or an ack in the first byte after the acked boot id', () => {
    const bytes = encodeBeat({ ...BEAT, leaseOnly: true }, KEY);
    const at = 6 + 'node-1'.length + 5 * 8;
    assert.equal(bytes.subarray(at, at + 16).toString('hex'), `01${'00'.repeat(15)}`);
    assert.deepEqual(decodeBeat(bytes, KEY), { ok: true, value: { ...BEAT, leaseOnly: true } });
    assert.deepEqual(decodeBeat(encodeBeat(BEAT, KEY), KEY), { ok: true, value: BEAT }, 'no flag, no field');
    const ack = { ...BEAT, kind: 'ack' as const, ackOf: '0102030405060708', leaseOnly: true };
    assert.deepEqual(decodeBeat(encodeBeat(ack, KEY), KEY), { ok: true, value: ack });
    const about = { bootId: 'c1c2c3c4c5c6c7c8', holder: 'c1c2c3c4c5c6c7c8', nonce: 'd1d2d3d4d5d6d7d8' };
    assert.throws(() => encodeBeat({ ...BEAT, kind: 'query', about, leaseOnly: true }, KEY), RangeError, 'a query has no flags');
  });

  it('decodes what it encodes, beats and acks', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('beat' as const, 'ack' as const),
        fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.integer({ min: 0, max: 2 ** 48 }),
        fc.uint8Array({ minLength: 24, maxLength: 24 }),
        (kind, sender, sequence, sentAtMs, bytes) => {
          const hex = Buffer.from(bytes).toString('hex');
          const beat: Beat = {
            kind,
            sender,
            bootId: hex.slice(0, 16),
            sequence,
            sentAtMs,
            heldDigest: hex.slice(16, 32),
            ...(kind === 'ack' ? { ackOf: hex.slice(32, 48) } : {}),
          };
          assert.deepEqual(decodeBeat(encodeBeat(beat, KEY), KEY), { ok: true, value: beat });
        },
      ),
    );
  });

  it('refuses a datagram signed with another key, or changed in any byte', () => {
    const bytes = encodeBeat(BEAT, KEY);
    assert.deepEqual(decodeBeat(bytes, Buffer.alloc(32, 0x5b)), { ok: false, reason: 'bad-signature' });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const changed = Buffer.from(bytes);
        changed[at] = (changed[at] as number) ^ flip;
        const d = decodeBeat(changed, KEY);
        assert.equal(d.ok, false);
        // Whatever byte changed, nothing unauthenticated is read: only framing is judged before the signature.
        if (!d.ok) assert.ok(['bad-signature', 'bad-magic', 'truncated'].includes(d.reason), d.reason);
      }),
    );
  });

  it('calls every shortened or lengthened datagram truncated, never reading past it', () => {
    const bytes = encodeBeat(BEAT, KEY);
    for (let n = 0; n < bytes.length; n++) {
      const d = decodeBeat(bytes.subarray(0, n), KEY);
      assert.deepEqual(d, { ok: false, reason: 'truncated' }, `${n} bytes`);
    }
    assert.deepEqual(decodeBeat(Buffer.concat([bytes, Buffer.from([0])]), KEY), { ok: false, reason: 'truncated' });
  });

  it('refuses another protocol, an unknown kind and a bad name, even when signed', () => {
    const resigned = (edit: (body: Buffer) => void): Buffer => {
      const bytes = Buffer.from(encodeBeat(BEAT, KEY));
      const body = bytes.subarray(0, bytes.length - BEAT_MAC_LENGTH);
      edit(body);
      return Buffer.concat([body, createHmac('sha256', KEY).update(body).digest()]);
    };
    assert.deepEqual(decodeBeat(Buffer.from('GET / HTTP/1.1\r\n\r\n'), KEY), { ok: false, reason: 'bad-magic' });
    assert.deepEqual(
      decodeBeat(
        resigned((b) => {
          b[4] = 9;
        }),
        KEY,
      ),
      { ok: false, reason: 'unknown-kind' },
    );
    assert.deepEqual(
      decodeBeat(
        resigned((b) => {
          b[6] = 0x4e; // 'N': node names are lower case
        }),
        KEY,
      ),
      { ok: false, reason: 'bad-name' },
    );
  });

  it('refuses to work with a short key or a field out of range', () => {
    assert.throws(() => encodeBeat(BEAT, Buffer.alloc(MIN_KEY_LENGTH - 1)), RangeError);
    assert.throws(() => decodeBeat(encodeBeat(BEAT, KEY), Buffer.alloc(16)), RangeError);
    assert.throws(() => encodeBeat({ ...BEAT, sender: 'Node_1' }, KEY), RangeError);
    assert.throws(() => encodeBeat({ ...BEAT, sender: 'a'.repeat(254) }, KEY), RangeError);
    assert.throws(() => encodeBeat({ ...BEAT, bootId: '0102' }, KEY), RangeError);
    assert.throws(() => encodeBeat({ ...BEAT, heldDigest: 'A1A2A3A4A5A6A7A8' }, KEY), RangeError);
    assert.throws(() => encodeBeat({ ...BEAT, kind: 'ack' }, KEY), RangeError, 'an ack names the boot it acknowledges');
    assert.throws(() => encodeBeat({ ...BEAT, ackOf: '0102030405060708' }, KEY), RangeError, 'a beat acknowledges nothing');
  });

  it('digests a set of held IPs whatever their order or repeats, and tells different sets apart', () => {
    assert.equal(heldDigest(['192.0.2.1', '2001:db8::1']), heldDigest(['2001:db8::1', '192.0.2.1', '192.0.2.1']));
    assert.notEqual(heldDigest(['192.0.2.1']), heldDigest(['192.0.2.2']));
    assert.match(heldDigest([]), /^[0-9a-f]{16}$/);
  });
});
