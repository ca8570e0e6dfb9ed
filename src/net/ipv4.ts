// IPv4 addresses as unsigned 32-bit numbers for arithmetic, 4 bytes on the
// wire, dotted quads for people. Strict parsing: no leading zeros (which some
// parsers read as octal), no short forms.

export type Ipv4String = string;

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4_PATTERN = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

export function isIpv4(text: string): boolean {
  return IPV4_PATTERN.test(text);
}

export function ipv4ToNumber(text: string): number {
  const m = IPV4_PATTERN.exec(text);
  if (m === null) throw new TypeError(`not an IPv4 address: ${JSON.stringify(text)}`);
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

export function ipv4FromNumber(n: number): Ipv4String {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`not a 32-bit address: ${n}`);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function ipv4ToBytes(text: string): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(ipv4ToNumber(text));
  return b;
}

export function ipv4FromBytes(bytes: Uint8Array, offset = 0): Ipv4String {
  return `${bytes[offset] ?? 0}.${bytes[offset + 1] ?? 0}.${bytes[offset + 2] ?? 0}.${bytes[offset + 3] ?? 0}`;
}
