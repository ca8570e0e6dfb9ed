// Reads the classic libpcap file format that `tcpdump -w` writes: a 24-byte
// global header, then per packet a 16-byte record header and the bytes.
// Both byte orders and both timestamp resolutions are accepted.

export interface PcapRecord {
  /** Capture time in milliseconds since the epoch, with sub-millisecond precision. */
  timeMs: number;
  /** Bytes as captured (may be shorter than the frame if the snap length cut it). */
  data: Buffer;
  originalLength: number;
}

export const LINKTYPE_ETHERNET = 1;

const MAGIC_MICROS = 0xa1b2c3d4;
const MAGIC_NANOS = 0xa1b23c4d;

export function parsePcap(file: Buffer): { linkType: number; records: PcapRecord[] } {
  if (file.length < 24) return { linkType: LINKTYPE_ETHERNET, records: [] };
  let littleEndian: boolean;
  let nanos: boolean;
  const le = file.readUInt32LE(0);
  const be = file.readUInt32BE(0);
  if (le === MAGIC_MICROS || le === MAGIC_NANOS) {
    littleEndian = true;
    nanos = le === MAGIC_NANOS;
  } else if (be === MAGIC_MICROS || be === MAGIC_NANOS) {
    littleEndian = false;
    nanos = be === MAGIC_NANOS;
  } else {
    throw new TypeError(`not a pcap file (magic ${le.toString(16)})`);
  }
  const u32 = (off: number): number => (littleEndian ? file.readUInt32LE(off) : file.readUInt32BE(off));
  const linkType = u32(20);
  const records: PcapRecord[] = [];
  let off = 24;
  // A capture stopped mid-write ends with a partial record: keep what is whole.
  while (off + 16 <= file.length) {
    const seconds = u32(off);
    const fraction = u32(off + 4);
    const included = u32(off + 8);
    const originalLength = u32(off + 12);
    if (off + 16 + included > file.length) break;
    records.push({
      timeMs: seconds * 1000 + (nanos ? fraction / 1e6 : fraction / 1e3),
      data: file.subarray(off + 16, off + 16 + included),
      originalLength,
    });
    off += 16 + included;
  }
  return { linkType, records };
}
