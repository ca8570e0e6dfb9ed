// Who holds which address, in memory, as the controller's single source of
// truth while it leads. Built from the Services' status at start (so an
// address written by an earlier leader is never handed out twice), then
// updated synchronously before every status write.
import { formatIp, type IpAddress } from '../net/ip.js';
import type { AddressRange } from '../pools/address-range.js';
import type { Holder } from './sharing.js';

export interface Allocation {
  ip: IpAddress;
  /** Canonical text, the table's key. */
  text: string;
  pool: string;
}

interface Entry {
  ip: IpAddress;
  pool: string;
  holders: Map<string, Holder>;
}

export class AddressTable {
  private readonly byIp = new Map<string, Entry>();
  private readonly byService = new Map<string, Set<string>>();
  private readonly byPool = new Map<string, Set<string>>();
  /** Per pool, an offset below which every usable address is taken: the free-address search starts there. */
  private readonly searchHint = new Map<string, bigint>();

  assign(ip: IpAddress, pool: string, holder: Holder): void {
    const text = formatIp(ip);
    let entry = this.byIp.get(text);
    if (entry === undefined) {
      entry = { ip, pool, holders: new Map() };
      this.byIp.set(text, entry);
      setOf(this.byPool, pool).add(text);
    }
    entry.holders.set(holder.key, holder);
    setOf(this.byService, holder.key).add(text);
  }

  /** Removes one holder from one address; the address is free again when its last holder goes. Returns true if it became free. */
  releaseOne(serviceKey: string, text: string): boolean {
    const entry = this.byIp.get(text);
    if (entry === undefined) return false;
    entry.holders.delete(serviceKey);
    const own = this.byService.get(serviceKey);
    own?.delete(text);
    if (own !== undefined && own.size === 0) this.byService.delete(serviceKey);
    if (entry.holders.size > 0) return false;
    this.byIp.delete(text);
    this.byPool.get(entry.pool)?.delete(text);
    const hint = this.searchHint.get(entry.pool);
    if (hint !== undefined && entry.ip.value < hint) this.searchHint.set(entry.pool, entry.ip.value);
    return true;
  }

  /** Releases everything a Service holds; returns what it held. */
  releaseService(serviceKey: string): Allocation[] {
    const held = this.allocationsOf(serviceKey);
    for (const a of held) this.releaseOne(serviceKey, a.text);
    return held;
  }

  allocationsOf(serviceKey: string): Allocation[] {
    const out: Allocation[] = [];
    for (const text of this.byService.get(serviceKey) ?? []) {
      const e = this.byIp.get(text);
      if (e !== undefined) out.push({ ip: e.ip, text, pool: e.pool });
    }
    return out;
  }

  holdersOf(ip: IpAddress): Holder[] {
    return [...(this.byIp.get(formatIp(ip))?.holders.values() ?? [])];
  }

  poolOf(ip: IpAddress): string | undefined {
    return this.byIp.get(formatIp(ip))?.pool;
  }

  /** Number of addresses of a pool in use (a shared address counts once). */
  countIn(pool: string): number {
    return this.byPool.get(pool)?.size ?? 0;
  }

  /** ip -> "ns/svc;ns/svc2", OpenELB's status.used format. */
  usedIn(pool: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const text of [...(this.byPool.get(pool) ?? [])].sort(compareIpText(this.byIp))) {
      out[text] = [...(this.byIp.get(text)?.holders.keys() ?? [])].sort().join(';');
    }
    return out;
  }

  /** Services holding addresses of a pool. */
  usersOf(pool: string): string[] {
    const users = new Set<string>();
    for (const text of this.byPool.get(pool) ?? []) for (const k of this.byIp.get(text)?.holders.keys() ?? []) users.add(k);
    return [...users].sort();
  }

  /** The lowest address of `range` that nobody holds, or undefined if every one is taken. */
  firstFree(pool: string, range: AddressRange): IpAddress | undefined {
    let value = this.searchHint.get(pool) ?? range.first;
    if (value < range.first) value = range.first;
    for (; value <= range.last; value++) {
      const ip = { family: range.family, value };
      if (!this.byIp.has(formatIp(ip))) {
        this.searchHint.set(pool, value);
        return ip;
      }
    }
    this.searchHint.set(pool, value);
    return undefined;
  }

  /** Every allocation, for metrics and tests. */
  size(): number {
    return this.byIp.size;
  }
}

function setOf(map: Map<string, Set<string>>, key: string): Set<string> {
  let s = map.get(key);
  if (s === undefined) {
    s = new Set();
    map.set(key, s);
  }
  return s;
}

function compareIpText(byIp: Map<string, Entry>): (a: string, b: string) => number {
  return (a, b) => {
    const x = byIp.get(a)?.ip.value ?? 0n;
    const y = byIp.get(b)?.ip.value ?? 0n;
    return x < y ? -1 : x > y ? 1 : 0;
  };
}
