// The solicited-node group memberships of one interface: the part of IPv6
// that JavaScript must do (link.ts, "What JavaScript must do for IPv6"). The
// reader answers a multicast NS only if it reaches the packet socket, and an
// NS goes to ff02::1:ffXX:XXXX: a NIC with a multicast filter drops it, and
// a switch with MLD snooping never forwards it, unless a socket on this host
// joined the group (the join programs the filter and sends MLD reports).
//
// Addresses whose low 24 bits agree share a group, so a group is held while
// any of its addresses is, and dropped with the last. A failed join never
// throws to the caller: the address is still answered for the frames that
// do arrive (unicast NUD, NICs without a filter), the failure is reported
// with its errno name, and the next join into that group tries again.
//
// One socket holds every group of the interface. The kernel charges each
// membership to that socket's option memory (net.core.optmem_max): about
// 2,300 groups at today's 128 KiB default, about 360 at the 20 KiB of older
// kernels; past it joins fail with ENOMEM, reported like any other failure.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { errorCode } from '../errors.js';
import { ipv6FromBytes, ipv6ToBytes, solicitedNodeAddress } from './packet/ndp.js';

/** What MulticastGroups needs of a socket: node:dgram's own methods, so tests can fake them. */
export interface MembershipSocket {
  addMembership(group: string, ifaceSpec: string): void;
  dropMembership(group: string, ifaceSpec: string): void;
  close(): void;
}

/** Opens a socket; errors it reports later, outside any call, go to onError. May throw. */
export type OpenMembershipSocket = (onError: (err: unknown) => void) => MembershipSocket;

/** Which step failed: opening the socket, a join, a leave, or the socket on its own. */
export type MembershipOp = 'open' | 'join' | 'leave' | 'socket';

export interface MulticastGroupsOptions {
  ifname: string;
  open: OpenMembershipSocket;
  /** A step failed (never thrown); code is an errno name (ENODEV, ENOMEM...), 'EUNKNOWN' when the error had none. */
  failed(op: MembershipOp, code: string, group: string | undefined, err: unknown): void;
}

interface Group {
  ips: Set<string>;
  /** The kernel holds the membership; false after a failed join, so the next join retries. */
  joined: boolean;
}

export class MulticastGroups {
  private readonly groups = new Map<string, Group>();
  /** Node's form of "this interface" for IPv6 multicast: the zone of the unspecified address. */
  private readonly ifaceSpec: string;
  private socket: MembershipSocket | undefined;
  private closed = false;

  constructor(private readonly options: MulticastGroupsOptions) {
    this.ifaceSpec = `::%${options.ifname}`;
  }

  /** Holds ip's solicited-node group (idempotent per address). IPv4 needs none: no-op. */
  join(ip: string): void {
    const key = canonical(ip);
    if (key === undefined || this.closed) return;
    const group = solicitedNodeAddress(key);
    let entry = this.groups.get(group);
    if (entry === undefined) {
      entry = { ips: new Set(), joined: false };
      this.groups.set(group, entry);
    }
    entry.ips.add(key);
    if (!entry.joined) entry.joined = this.call('join', group, (s) => s.addMembership(group, this.ifaceSpec));
  }

  /** Lets go of ip; drops its group when no other held address is in it. */
  leave(ip: string): void {
    const key = canonical(ip);
    if (key === undefined) return;
    const group = solicitedNodeAddress(key);
    const entry = this.groups.get(group);
    if (entry === undefined || !entry.ips.delete(key) || entry.ips.size > 0) return;
    this.groups.delete(group);
    if (entry.joined) this.call('leave', group, (s) => s.dropMembership(group, this.ifaceSpec));
  }

  /** The groups the kernel holds for us now. */
  joined(): string[] {
    return [...this.groups].flatMap(([group, e]) => (e.joined ? [group] : []));
  }

  /** Drops every group at once (closing the socket does) and joins nothing after. */
  close(): void {
    this.closed = true;
    this.groups.clear();
    const socket = this.socket;
    this.socket = undefined;
    try {
      socket?.close();
    } catch (err) {
      this.report('socket', undefined, err);
    }
  }

  private call(op: 'join' | 'leave', group: string, fn: (s: MembershipSocket) => void): boolean {
    try {
      this.socket ??= this.openSocket();
    } catch (err) {
      this.report('open', group, err);
      return false;
    }
    try {
      fn(this.socket);
      return true;
    } catch (err) {
      this.report(op, group, err);
      return false;
    }
  }

  private openSocket(): MembershipSocket {
    return this.options.open((err) => this.report('socket', undefined, err));
  }

  private report(op: MembershipOp, group: string | undefined, err: unknown): void {
    this.options.failed(op, errorCode(err) ?? 'EUNKNOWN', group, err);
  }
}

/** The RFC 5952 text of an IPv6 address (one address, one key, however written); undefined for IPv4 or anything else. */
function canonical(ip: string): string | undefined {
  if (!isIPv6(ip)) return undefined;
  try {
    return ipv6FromBytes(ipv6ToBytes(ip));
  } catch {
    return undefined; // a form node:net takes and we do not (a zone index): not an address we announce
  }
}

/**
 * The real socket for interface ifname, which the link opened as ifindex. Never bound here: libuv
 * binds [::]:0 itself on the first join (uv_udp_set_membership) and nothing is ever read from that
 * port; reuseAddr (as link.ts has it) costs nothing there. Unref'd: it must not keep a process alive.
 */
export function openDgramMembership(ifname: string, ifindex: number): OpenMembershipSocket {
  return (onError) => {
    const socket = dgram.createSocket({ type: 'udp6', reuseAddr: true });
    socket.on('error', onError);
    socket.unref();
    return {
      addMembership: (group, ifaceSpec) => {
        checkIfindex(ifname, ifindex);
        socket.addMembership(group, ifaceSpec);
      },
      dropMembership: (group, ifaceSpec) => socket.dropMembership(group, ifaceSpec),
      close: () => socket.close(),
    };
  };
}

/**
 * libuv turns the zone of '::%name' into an index with if_nametoindex and silently takes 0, the
 * kernel's choice of interface, for a name that does not exist: so check first that the name is
 * still the interface the link is bound to (not gone, not re-created with a new index).
 */
function checkIfindex(ifname: string, ifindex: number): void {
  let found: number | undefined;
  try {
    found = Number(readFileSync(`/sys/class/net/${ifname}/ifindex`, 'utf8'));
  } catch {
    found = undefined;
  }
  if (found !== ifindex) {
    throw Object.assign(new Error(`interface ${ifname} is not ifindex ${ifindex} any more (now ${found ?? 'gone'})`), { code: 'ENODEV' });
  }
}
