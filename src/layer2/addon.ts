// The native AF_PACKET addon (native/af_packet.c), loaded once, typed. The
// addon holds the reader's rules for ARP and NDP (native/responder_core.c);
// AfPacketLink, VirtualLink and PacketSocket are thin wrappers over these
// functions.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FrameVerdict, Grant, LinkEvents, LinkStats, YieldReason } from './link.js';
import type { DropReason } from './packet/drop-reason.js';

/** An opaque native link: a real socket with its reader thread, or a virtual table. */
export type NativeHandle = object;

/** What the reader reports besides frames; delivered in order and never dropped. */
export type ControlEvent =
  | { kind: 'yielded'; ip: string; gen: number; reason: YieldReason; mac?: string }
  | { kind: 'conflict'; ip: string; gen: number; mac: string }
  | { kind: 'failed'; code: string };

/** How the kernel saw a frame (PACKET_HOST...), numbered as rc_pkttype in native/responder_core.h. */
export const PKT_TYPES = { host: 0, broadcast: 1, multicast: 2, otherhost: 3, outgoing: 4 } as const;
export type PktType = keyof typeof PKT_TYPES;

/** Times are ms; deadlines are counted from the call. nowMs is required for virtual handles, ignored for real ones. */
export interface AfPacketAddon {
  /** Opens the interface's ARP and IPv6 (NS/NA) sockets; onFrame's reason is set for 'malformed' frames. */
  open(
    ifname: string,
    onFrame: (frame: Buffer, verdict: FrameVerdict, reason: DropReason | undefined) => void,
    onControl: (e: ControlEvent) => void,
  ): NativeHandle;
  openVirtual(name: string, mac: Buffer, ifindex: number): NativeHandle;
  info(h: NativeHandle): { name: string; mac: string; ifindex: number };
  heartbeat(h: NativeHandle, aliveMs: number, nowMs?: number): void;
  /** Returns the indices of the refused grants. */
  grant(h: NativeHandle, ips: string[], gens: Uint32Array, answerMs: number, defendMs: number, nowMs?: number): number[];
  revoke(h: NativeHandle, ips: string[]): void;
  announce(h: NativeHandle, ip: string, gen: number, nowMs?: number): string;
  /** Virtual only: one drain of frames; returns each frame's verdict, and sets reasons[i] to frame i's drop reason (or undefined). */
  receive(
    h: NativeHandle,
    frames: Buffer[],
    atMs: Float64Array,
    pktTypes: Uint8Array,
    vlanTagged: Uint8Array,
    kernelDrops: number,
    nowMs: number,
    reasons?: Array<DropReason | undefined>,
  ): FrameVerdict[];
  /** Virtual only: the frames sent and events raised since the last call. */
  takeOutput(h: NativeHandle): { sends: Buffer[]; events: ControlEvent[] };
  stats(h: NativeHandle): LinkStats;
  /** Raw, unlicensed send on a real socket: for PacketSocket (the chaos probe) only. */
  send(h: NativeHandle, frame: Buffer): number;
  /** The core's ICMPv6 checksum over the IPv6 pseudo-header (tests hold it to ndp.ts's). */
  icmpv6Checksum(source: Buffer, destination: Buffer, message: Buffer): number;
  close(h: NativeHandle): void;
  /** Requests older than this are never answered (RC_STALE_LIMIT_NS). */
  readonly staleLimitMs: number;
  /** Most frames judged as one drain; a full drain counts as an overrun. */
  readonly drainMax: number;
}

let addon: AfPacketAddon | undefined;

/**
 * Resolves from this file's place: dist/src/layer2 in a checkout and
 * /app/dist/src/layer2 in the image both sit three levels below the folder
 * that holds native/. BATON_AF_PACKET_ADDON overrides (tests of a build elsewhere).
 */
export function loadAddon(): AfPacketAddon {
  if (addon === undefined) {
    const path =
      process.env['BATON_AF_PACKET_ADDON'] ?? fileURLToPath(new URL('../../../native/build/Release/af_packet.node', import.meta.url));
    addon = createRequire(import.meta.url)(path) as AfPacketAddon;
  }
  return addon;
}

/** Splits grants into the addon's arrays; a generation must be a uint32 (a Uint32Array would wrap silently). */
export function grantArrays(grants: readonly Grant[]): { ips: string[]; gens: Uint32Array } {
  const gens = new Uint32Array(grants.length);
  const ips = grants.map((g, i) => {
    if (!Number.isInteger(g.gen) || g.gen < 0 || g.gen > 0xffff_ffff)
      throw new RangeError(`generation of ${g.ip} is not a uint32: ${g.gen}`);
    gens[i] = g.gen;
    return g.ip;
  });
  return { ips, gens };
}

/** Hands a control event to the LinkEvents handler it is for. */
export function dispatchControl(events: LinkEvents, e: ControlEvent): void {
  switch (e.kind) {
    case 'yielded':
      events.yielded(e.ip, e.gen, e.reason, e.mac);
      break;
    case 'conflict':
      events.conflict(e.ip, e.gen, e.mac);
      break;
    case 'failed':
      events.failed?.(e.code);
      break;
  }
}
