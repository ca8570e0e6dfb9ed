// Which local interface a pool's spec.interface means on this node: a name
// (eth0) if the node has it, or can_reach:<ip> resolved like the kernel would
// route to that address (longest matching prefix of /proc/net/route, then
// lowest metric). Only interfaces with carrier count: a node whose cable is
// out cannot announce anything.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { ipv4ToNumber, isIpv4 } from '../net/ipv4.js';

export interface RouteEntry {
  iface: string;
  destination: number;
  mask: number;
  metric: number;
}

/** Parses /proc/net/route (IPv4, addresses in host byte order hex, little-endian on x86). */
export function parseRouteTable(text: string): RouteEntry[] {
  const out: RouteEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, , flags, , , metric, mask] = f as [string, string, string, string, string, string, string, string];
    // RTF_UP (0x1): only routes in use.
    if ((parseInt(flags, 16) & 0x1) === 0) continue;
    out.push({ iface, destination: le32(dest), mask: le32(mask), metric: Number(metric) });
  }
  return out;
}

function le32(hex: string): number {
  const n = parseInt(hex, 16);
  return (((n & 0xff) << 24) | (((n >>> 8) & 0xff) << 16) | (((n >>> 16) & 0xff) << 8) | ((n >>> 24) & 0xff)) >>> 0;
}

function prefixLength(mask: number): number {
  let n = 0;
  for (let m = mask; m !== 0; m = (m << 1) >>> 0) n++;
  return n;
}

/** The interface the kernel would send to ip through, or undefined if no route matches. */
export function routeInterface(routes: readonly RouteEntry[], ip: string): string | undefined {
  const target = ipv4ToNumber(ip);
  let best: RouteEntry | undefined;
  for (const r of routes) {
    if ((target & r.mask) >>> 0 !== r.destination) continue;
    if (best === undefined || prefixLength(r.mask) > prefixLength(best.mask) || (r.mask === best.mask && r.metric < best.metric)) best = r;
  }
  return best?.iface;
}

export interface InterfaceProbe {
  exists(name: string): boolean;
  hasCarrier(name: string): boolean;
  routes(): RouteEntry[];
  /** What identifies the interface now: its index and MAC (undefined if it does not exist). */
  identity(name: string): InterfaceIdentity | undefined;
}

/** A re-created interface gets a new index; a MAC change (bond fail-over, cloned MAC) a new address. Either means: reopen. */
export interface InterfaceIdentity {
  ifindex: number;
  mac: string;
}

function readSys(name: string, file: string): string | undefined {
  try {
    return readFileSync(`/sys/class/net/${name}/${file}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export const systemInterfaces: InterfaceProbe = {
  exists: (name) => /^[\w.-]{1,15}$/.test(name) && existsSync(`/sys/class/net/${name}`),
  hasCarrier: (name) => readSys(name, 'carrier') === '1',
  routes: () => parseRouteTable(readFileSync('/proc/net/route', 'utf8')),
  identity: (name) => {
    const ifindex = Number(readSys(name, 'ifindex'));
    const mac = readSys(name, 'address');
    return Number.isInteger(ifindex) && ifindex > 0 && mac !== undefined ? { ifindex, mac: mac.toLowerCase() } : undefined;
  },
};

// ARPHRD_ETHER in /sys/class/net/<if>/type (linux/if_arp.h): the links the addon can open.
const ARPHRD_ETHER = '1';

/** This node's Ethernet interfaces (loopback and tunnels aside), by name. */
export function ethernetInterfaces(): string[] {
  let names: string[];
  try {
    names = readdirSync('/sys/class/net');
  } catch {
    return [];
  }
  return names.filter((n) => n !== 'lo' && readSys(n, 'type') === ARPHRD_ETHER).sort();
}

/** The usable local interface for a pool's spec.interface, or undefined if this node has none. */
export function resolveInterface(spec: string, probe: InterfaceProbe = systemInterfaces): string | undefined {
  let name: string | undefined = spec;
  if (spec.startsWith('can_reach:')) {
    const ip = spec.slice('can_reach:'.length);
    name = isIpv4(ip) ? routeInterface(probe.routes(), ip) : undefined;
  }
  return name !== undefined && probe.exists(name) && probe.hasCarrier(name) ? name : undefined;
}
