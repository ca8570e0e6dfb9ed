// The address forms an Eip's spec.address may take, as OpenELB accepts them:
// one address, a CIDR, or an inclusive range "first-last". Pure arithmetic
// on bigints; both families.
//
// Unlike OpenELB, a CIDR's network and broadcast addresses are not handed
// out for IPv4 prefixes shorter than /31: hosts on the LAN treat them as
// special (a client may broadcast to the ".255" it was given). IPv6 has no
// broadcast, but its subnets reserve anycast addresses that a host must not
// take as its own (an Eip 2001:db8:1::/64 handed out 2001:db8:1::):
//   - the Subnet-Router anycast address, the prefix with an all-zero
//     interface ID (RFC 4291 2.6.1), for every prefix shorter than /127
//     (RFC 6164 makes both addresses of a /127 usable, as RFC 3021 does for
//     an IPv4 /31);
//   - for prefixes of /64 or shorter, whose addresses have 64-bit interface
//     IDs in modified EUI-64 format (RFC 4291 2.5.1), in every /64 they span:
//     the zero interface ID, and the reserved subnet anycast interface IDs of
//     RFC 2526 2, FDFF:FFFF:FFFF:FF80 to FDFF:FFFF:FFFF:FFFF (the top 57 bits
//     all ones but the universal/local bit, then a 7-bit anycast ID).
// Ranges and single addresses are taken as written, in both families. An Eip
// can ask for all of these anyway with the annotation
// INCLUDE_NETWORK_AND_BROADCAST_ANNOTATION (OpenELB's behaviour).
import { bitLength, formatIp, type IpAddress, type IpFamily, maxValue, parseIp } from '../net/ip.js';

export interface AddressRange {
  family: IpFamily;
  /** Inclusive bounds. */
  first: bigint;
  last: bigint;
  /**
   * Set only on the usable range of an IPv6 CIDR of /64 or shorter: in every
   * /64 it spans, the subnet anycast interface IDs (zero, and RFC 2526's 128)
   * lie between first and last but are not members. rangeSize, rangeContains
   * and nthAddress leave them out. (first is already past the prefix's own
   * zero interface ID, so a walk from first meets the next reserved address
   * only after about 2^63 usable ones.)
   */
  skipsSubnetAnycast?: true;
}

export type AddressForm = 'single' | 'cidr' | 'range';

export interface ParsedAddress {
  form: AddressForm;
  /** Everything the spec names: used for overlap checks and for firstIP/lastIP. */
  declared: AddressRange;
  /**
   * What may be handed out: declared, minus network and broadcast for IPv4 CIDRs shorter than /31 and
   * minus the subnet anycast addresses of IPv6 CIDRs (see the top of this file), unless the Eip opts in.
   */
  usable: AddressRange | undefined;
}

export type AddressProblem = 'InvalidAddress' | 'RangeReversed' | 'MixedFamilies';

export type AddressParseResult = { ok: true; value: ParsedAddress } | { ok: false; reason: AddressProblem; message: string };

/**
 * Annotation on an Eip: "true" hands out an IPv4 CIDR's network and broadcast addresses, and an IPv6
 * CIDR's subnet anycast addresses, too (OpenELB's behaviour).
 */
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
    return {
      ok: true,
      value: { form: 'cidr', declared, usable: usableOfCidr(declared, prefix, options.includeNetworkAndBroadcast === true) },
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

/** Interface IDs are the low 64 bits of IPv6 unicast addresses of every prefix of /64 or shorter (RFC 4291 2.5.1). */
const INTERFACE_ID_BITS = 64n;
const INTERFACE_ID_SPAN = 1n << INTERFACE_ID_BITS;
/** The prefix length from which addresses have 64-bit interface IDs, and RFC 2526's reserved IDs apply. */
const EUI64_PREFIX = 64;
/** RFC 6164: on a /127 both addresses are usable (no Subnet-Router anycast); a /128 is one address. */
const POINT_TO_POINT_PREFIX = 127;
/** RFC 2526 2, EUI-64 format: interface ID 1111 1101 then ones, u/l bit clear, the low 7 bits the anycast ID (0x00-0x7f). */
const RFC2526_FIRST_ID = 0xfdff_ffff_ffff_ff80n;
const RFC2526_LAST_ID = 0xfdff_ffff_ffff_ffffn;
/** Reserved interface IDs per /64: the zero ID (Subnet-Router anycast) and RFC 2526's 128. */
export const RESERVED_IDS_PER_SUBNET = 1n + (RFC2526_LAST_ID - RFC2526_FIRST_ID + 1n);

function usableOfCidr(declared: AddressRange, prefix: number, includeAll: boolean): AddressRange {
  if (includeAll) return declared;
  const { first, last } = declared;
  if (declared.family === 4) return prefix < 31 ? { ...declared, first: first + 1n, last: last - 1n } : declared;
  if (prefix >= POINT_TO_POINT_PREFIX) return declared;
  // The Subnet-Router anycast address is the CIDR's first address: start after it.
  if (prefix > EUI64_PREFIX) return { ...declared, first: first + 1n };
  return { ...declared, first: first + 1n, skipsSubnetAnycast: true };
}

/** An address whose interface ID is a subnet anycast ID (zero, or RFC 2526's): never handed out from a CIDR of /64 or shorter. */
export function isSubnetAnycast(value: bigint): boolean {
  const id = value & (INTERFACE_ID_SPAN - 1n);
  return id === 0n || (id >= RFC2526_FIRST_ID && id <= RFC2526_LAST_ID);
}

/** How many values v in [0, x] have v mod 2^64 in [lo, hi]. */
function idsUpTo(x: bigint, lo: bigint, hi: bigint): bigint {
  if (x < 0n) return 0n;
  const subnets = (x + 1n) / INTERFACE_ID_SPAN;
  const rest = (x + 1n) % INTERFACE_ID_SPAN;
  const width = hi - lo + 1n;
  const partial = rest <= lo ? 0n : rest - lo > width ? width : rest - lo;
  return subnets * width + partial;
}

/** How many subnet anycast addresses lie in [from, to]. */
function subnetAnycastBetween(from: bigint, to: bigint): bigint {
  if (to < from) return 0n;
  const zero = idsUpTo(to, 0n, 0n) - idsUpTo(from - 1n, 0n, 0n);
  const rfc2526 = idsUpTo(to, RFC2526_FIRST_ID, RFC2526_LAST_ID) - idsUpTo(from - 1n, RFC2526_FIRST_ID, RFC2526_LAST_ID);
  return zero + rfc2526;
}

/** Members of range in [range.first, to]. */
function membersUpTo(range: AddressRange, to: bigint): bigint {
  const span = to - range.first + 1n;
  return range.skipsSubnetAnycast === true ? span - subnetAnycastBetween(range.first, to) : span;
}

/** Exact number of addresses a range holds (its members: reserved subnet anycast addresses left out). */
export function rangeSize(range: AddressRange | undefined): bigint {
  return range === undefined || range.last < range.first ? 0n : membersUpTo(range, range.last);
}

export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export function rangeContains(range: AddressRange | undefined, ip: IpAddress): boolean {
  return (
    range !== undefined &&
    range.family === ip.family &&
    ip.value >= range.first &&
    ip.value <= range.last &&
    !(range.skipsSubnetAnycast === true && isSubnetAnycast(ip.value))
  );
}

/** The n-th member of a range (0-based, in address order); undefined past its end. */
export function nthAddress(range: AddressRange, n: bigint): IpAddress | undefined {
  if (n < 0n || range.first + n > range.last || range.first + n > maxValue(range.family)) return undefined;
  if (range.skipsSubnetAnycast !== true) return { family: range.family, value: range.first + n };
  if (n >= rangeSize(range)) return undefined;
  // The lowest v with n + 1 members in [first, v] is the n-th member (the count grows only at members).
  let lo = range.first + n;
  let hi = range.last;
  while (lo < hi) {
    const mid = (lo + hi) / 2n;
    if (membersUpTo(range, mid) >= n + 1n) hi = mid;
    else lo = mid + 1n;
  }
  return { family: range.family, value: lo };
}
