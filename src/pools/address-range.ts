// The address forms an Eip's spec.address may take, as OpenELB accepts them:
// one address, a CIDR, or an inclusive range "first-last". Pure arithmetic
// on bigints; both families.
//
// Unlike OpenELB, a CIDR's network and broadcast addresses are not handed
// out for IPv4 prefixes shorter than /31: hosts on the LAN treat them as
// special (a client may broadcast to the ".255" it was given). An Eip can ask
// for them anyway with the annotation INCLUDE_NETWORK_AND_BROADCAST_ANNOTATION.
import { bitLength, formatIp, type IpAddress, type IpFamily, maxValue, parseIp } from '../net/ip.js';

export interface AddressRange {
  family: IpFamily;
  /** Inclusive bounds. */
  first: bigint;
  last: bigint;
}

export type AddressForm = 'single' | 'cidr' | 'range';

export interface ParsedAddress {
  form: AddressForm;
  /** Everything the spec names: used for overlap checks and for firstIP/lastIP. */
  declared: AddressRange;
  /** What may be handed out: declared, minus network and broadcast for IPv4 CIDRs shorter than /31. */
  usable: AddressRange | undefined;
}

export type AddressProblem = 'InvalidAddress' | 'RangeReversed' | 'MixedFamilies';

export type AddressParseResult = { ok: true; value: ParsedAddress } | { ok: false; reason: AddressProblem; message: string };

/** Annotation on an Eip: "true" hands out an IPv4 CIDR's network and broadcast addresses too (OpenELB's behaviour). */
export const INCLUDE_NETWORK_AND_BROADCAST_ANNOTATION = 'eip.baton.dev/include-network-and-broadcast';

export function parseEipAddress(text: string, options: { includeNetworkAndBroadcast?: boolean } = {}): AddressParseResult {
  const spec = text.trim();
  const invalid = (message: string): AddressParseResult => ({ ok: false, reason: 'InvalidAddress', message });
  if (spec === '') return invalid('spec.address is empty');

  if (spec.includes('/')) {
    const [base = '', bits = ''] = spec.split('/');
    const ip = parseIp(base);
    if (ip === undefined || !/^\d{1,3}$/.test(bits)) return invalid(`"${spec}" is not an IP address, a CIDR or a range first-last`);
    const prefix = Number(bits);
    const width = bitLength(ip.family);
    if (prefix > width) return invalid(`prefix /${prefix} is longer than ${width} bits`);
    const hostBits = BigInt(width - prefix);
    const first = (ip.value >> hostBits) << hostBits;
    const last = first | ((1n << hostBits) - 1n);
    const declared = { family: ip.family, first, last };
    const skipEnds = ip.family === 4 && prefix < 31 && options.includeNetworkAndBroadcast !== true;
    return {
      ok: true,
      value: { form: 'cidr', declared, usable: skipEnds ? { ...declared, first: first + 1n, last: last - 1n } : declared },
    };
  }

  const dash = spec.indexOf('-');
  if (dash !== -1) {
    const a = parseIp(spec.slice(0, dash).trim());
    const b = parseIp(spec.slice(dash + 1).trim());
    if (a === undefined || b === undefined) return invalid(`"${spec}": both ends of a range must be IP addresses`);
    if (a.family !== b.family) return { ok: false, reason: 'MixedFamilies', message: `"${spec}" mixes IPv4 and IPv6` };
    if (a.value > b.value) {
      return { ok: false, reason: 'RangeReversed', message: `"${spec}": the range starts after it ends (${formatIp(a)} > ${formatIp(b)})` };
    }
    const declared = { family: a.family, first: a.value, last: b.value };
    return { ok: true, value: { form: 'range', declared, usable: declared } };
  }

  const ip = parseIp(spec);
  if (ip === undefined) return invalid(`"${spec}" is not an IP address, a CIDR or a range first-last`);
  const declared = { family: ip.family, first: ip.value, last: ip.value };
  return { ok: true, value: { form: 'single', declared, usable: declared } };
}

export function rangeSize(range: AddressRange | undefined): bigint {
  return range === undefined ? 0n : range.last - range.first + 1n;
}

export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export function rangeContains(range: AddressRange | undefined, ip: IpAddress): boolean {
  return range !== undefined && range.family === ip.family && ip.value >= range.first && ip.value <= range.last;
}

/** The n-th address of a range (0-based); undefined past its end. */
export function nthAddress(range: AddressRange, n: bigint): IpAddress | undefined {
  if (n < 0n || range.first + n > range.last || range.first + n > maxValue(range.family)) return undefined;
  return { family: range.family, value: range.first + n };
}
