import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePcap } from './pcap.js';

function header(magic: number, le: boolean): Buffer {
  const h = Buffer.alloc(24);
  const w = (v: number, o: number): number => (le ? h.writeUInt32LE(v, o) : h.writeUInt32BE(v, o));
  w(magic, 0);
  (le ? h.writeUInt16LE.bind(h) : h.writeUInt16BE.bind(h))(2, 4);
  (le ? h.writeUInt16LE.bind(h) : h.writeUInt16BE.bind(h))(4, 6);
  w(262144, 16);
  w(1, 20);
  return h;
}

function record(sec: number, frac: number, data: Buffer, le: boolean): Buffer {
  const r = Buffer.alloc(16);
  const w = (v: number, o: number): number => (le ? r.writeUInt32LE(v, o) : r.writeUInt32BE(v, o));
  w(sec, 0);
  w(frac, 4);
  w(data.length, 8);
  w(data.length, 12);
  return Buffer.concat([r, data]);
}

describe('parsePcap', () => {
  it('reads little-endian microsecond captures', () => {
    const file = Buffer.concat([
      header(0xa1b2c3d4, true),
      record(1_700_000_000, 250_000, Buffer.from('aabb', 'hex'), true),
      record(1_700_000_001, 1, Buffer.from('cc', 'hex'), true),
    ]);
    const { linkType, records } = parsePcap(file);
    assert.equal(linkType, 1);
    assert.equal(records.length, 2);
    assert.equal(records[0]?.timeMs, 1_700_000_000_250);
    assert.equal(records[0]?.data.toString('hex'), 'aabb');
    assert.equal(records[1]?.timeMs, 1_700_000_001_000.001);
  });

  it('reads big-endian nanosecond captures', () => {
    const file = Buffer.concat([header(0xa1b23c4d, false), record(10, 500_000_000, Buffer.from('01', 'hex'), false)]);
    assert.equal(parsePcap(file).records[0]?.timeMs, 10_500);
  });

  it('keeps whole records and drops a partial last one', () => {
    const whole = record(1, 0, Buffer.alloc(60, 1), true);
    const file = Buffer.concat([header(0xa1b2c3d4, true), whole, whole.subarray(0, 30)]);
    assert.equal(parsePcap(file).records.length, 1);
  });

  it('returns nothing for an empty capture and refuses a non-pcap file', () => {
    assert.deepEqual(parsePcap(Buffer.alloc(0)).records, []);
    assert.throws(() => parsePcap(Buffer.alloc(24, 7)), /not a pcap file/);
  });
});
