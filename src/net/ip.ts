// IP addresses of both families as (family, bigint) pairs, so range
// arithmetic is one code path for IPv4 and IPv6. Text is parsed strictly and
// formatted canonically (RFC 5952 for IPv6: lower case, the longest run of
// zero groups compressed), so one address always has one spelling in
// statuses, maps and logs.
import { isIPv6 } from 'node:net';
import { ipv4FromNumber, ipv4ToNumber, isIpv4 } from './ipv4.js';

export type IpFamily = 4 | 6;

export interface IpAddress {
  family: IpFamily;
  value: bigint;
}

export const MAX_V4 = (1n << 32n) - 1n;
export const MAX_V6 = (1n << 128n) - 1n;

export function maxValue(family: IpFamily): bigint {
  return family === 4 ? MAX_V4 : MAX_V6;
}

export function bitLength(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** Parses an IPv4 or IPv6 address; undefined if it is neither (no zone IDs, no IPv4 leading zeros). */
export function parseIp(text: string): IpAddress | undefined {
  if (isIpv4(text)) return { family: 4, value: BigInt(ipv4ToNumber(text)) };
  if (text.includes('%') || !isIPv6(text)) return undefined;
  return { family: 6, value: parseIpv6(text) };
}

function parseIpv6(text: string): bigint {
  let head = text;
  let tailV4: bigint | undefined;
  // An embedded dotted quad (::ffff:192.0.2.1) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = BigInt(ipv4ToNumber(text.slice(lastColon + 1)));
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left = '', right] = head.split('::');
  const leftGroups = left === '' ? [] : left.split(':');
  const rightGroups = right === undefined || right === '' ? [] : right.split(':');
  const missing = 8 - leftGroups.length - rightGroups.length;
  const groups = [...leftGroups, ...Array<string>(right === undefined ? 0 : missing).fill('0'), ...rightGroups];
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(parseInt(g, 16));
  if (tailV4 !== undefined) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return ipv4FromNumber(Number(ip.value));
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // Longest run of two or more zero groups, the first one on a tie (RFC 5952 section 4.2).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Canonical text of an address given as text, or undefined if it is not one. */
export function canonicalIp(text: string): string | undefined {
  const ip = parseIp(text);
  return ip === undefined ? undefined : formatIp(ip);
}

export function ipEquals(a: IpAddress, b: IpAddress): boolean {
  return a.family === b.family && a.value === b.value;
}
