// MAC addresses as 6-byte buffers on the wire and lower-case colon strings
// everywhere else (logs, metrics, Events), so two spellings of one address
// never compare unequal.

export const MAC_LENGTH = 6;

export type MacString = string;

const MAC_PATTERN = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

export function isMac(text: string): boolean {
  return MAC_PATTERN.test(text.toLowerCase());
}

/** Parses aa:bb:cc:dd:ee:ff (any case, ':' or '-') into 6 bytes; throws on anything else. */
export function macToBytes(text: string): Buffer {
  const normal = text.toLowerCase().replaceAll('-', ':');
  if (!MAC_PATTERN.test(normal)) throw new TypeError(`not a MAC address: ${JSON.stringify(text)}`);
  return Buffer.from(normal.replaceAll(':', ''), 'hex');
}

/** Two lower-case hex digits per byte value, so formatting a MAC is six lookups: the reader's hot path formats two per frame. */
const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export function macFromBytes(bytes: Uint8Array, offset = 0): MacString {
  const h = (i: number): string => HEX_BYTE[bytes[offset + i] ?? 0] as string;
  return `${h(0)}:${h(1)}:${h(2)}:${h(3)}:${h(4)}:${h(5)}`;
}

export function normalizeMac(text: string): MacString {
  return macFromBytes(macToBytes(text));
}

export const BROADCAST_MAC: MacString = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC: MacString = '00:00:00:00:00:00';
