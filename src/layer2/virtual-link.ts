// Link without a socket: the addon's responder core (the same C that runs in
// a real link's reader thread) with time from a Clock and frames in and out
// through JavaScript. Unit tests and the election simulation use it, so they
// exercise the decisions that ship, not a model of them. Needs no privilege.
// ARP and NDP frames alike: a real link's two sockets feed one drain, so one
// receive() may mix them.
//
// Each receive() is one drain, as the reader takes everything queued when it
// wakes. Frames the core sends (replies, gratuitous pairs, NAs) are handed to
// onSend synchronously, after the core call has returned. Events reach the
// LinkEvents handlers asynchronously (one microtask per call: its yields and
// conflicts first, then its frames in order), as the real link's
// thread-safe functions deliver them; a handler may call the link again.
import type { Clock } from '../clock.js';
import { macToBytes } from '../net/mac.js';
import { type AfPacketAddon, dispatchControl, grantArrays, loadAddon, type NativeHandle, PKT_TYPES, type PktType } from './addon.js';
import type { AnnounceResult, FrameVerdict, Grant, Link, LinkEvents, LinkStats } from './link.js';
import type { DropReason } from './packet/drop-reason.js';

export interface VirtualLinkOptions {
  name: string;
  mac: string;
  ifindex?: number;
  clock: Clock;
  events: LinkEvents;
  /** Every frame the core puts on the wire, in order, synchronously. */
  onSend(frame: Buffer): void;
}

export interface VirtualFrame {
  frame: Buffer;
  /** When the frame reached the socket, on the link's clock (default now): its age is now - atMs. */
  atMs?: number;
  /**
   * How the kernel would classify it. Default as eth_type_trans() does: broadcast or multicast by
   * destination, host if sent to our MAC, otherhost if to another.
   */
  pktType?: PktType;
  /** A VLAN tag the kernel reported out of band (offloaded), e.g. 200. */
  vlan?: number;
}

const BROADCAST = Buffer.alloc(6, 0xff);

export class VirtualLink implements Link {
  readonly name: string;
  readonly mac: string;
  readonly ifindex: number;
  private readonly native: AfPacketAddon;
  private readonly handle: NativeHandle;
  private readonly macBytes: Buffer;
  private closed = false;

  constructor(private readonly options: VirtualLinkOptions) {
    this.native = loadAddon();
    this.macBytes = macToBytes(options.mac);
    this.handle = this.native.openVirtual(options.name, this.macBytes, options.ifindex ?? 1);
    const info = this.native.info(this.handle);
    this.name = info.name;
    this.mac = info.mac;
    this.ifindex = info.ifindex;
  }

  heartbeat(aliveMs: number): void {
    this.native.heartbeat(this.handle, aliveMs, this.options.clock.now());
  }

  grant(grants: readonly Grant[], answerMs: number, defendMs: number): string[] {
    const { ips, gens } = grantArrays(grants);
    return this.native.grant(this.handle, ips, gens, answerMs, defendMs, this.options.clock.now()).map((i) => ips[i] as string);
  }

  revoke(ips: readonly string[]): void {
    this.native.revoke(this.handle, [...ips]);
  }

  announce(ip: string, gen: number): AnnounceResult {
    const result = this.native.announce(this.handle, ip, gen, this.options.clock.now());
    this.flush([]);
    return result;
  }

  /** One drain: frames in arrival order, and how many frames the kernel dropped before them. */
  receive(frames: readonly VirtualFrame[], kernelDrops = 0): void {
    const now = this.options.clock.now();
    const at = new Float64Array(frames.length);
    const pkt = new Uint8Array(frames.length);
    const vlan = new Uint8Array(frames.length);
    frames.forEach((f, i) => {
      at[i] = f.atMs ?? now;
      pkt[i] = PKT_TYPES[f.pktType ?? this.pktTypeOf(f.frame)];
      vlan[i] = f.vlan === undefined ? 0 : 1;
    });
    const bytes = frames.map((f) => f.frame);
    const reasons: Array<DropReason | undefined> = [];
    const verdicts = this.native.receive(this.handle, bytes, at, pkt, vlan, kernelDrops, now, reasons);
    this.flush(bytes.map((frame, i) => [frame, verdicts[i] as FrameVerdict, reasons[i]]));
  }

  stats(): LinkStats {
    return this.native.stats(this.handle);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close(this.handle);
  }

  private pktTypeOf(frame: Buffer): PktType {
    if (frame.length < 6) return 'host'; // too short to say; the core judges it malformed
    const dst = frame.subarray(0, 6);
    if (dst.equals(BROADCAST)) return 'broadcast';
    if (((dst[0] ?? 0) & 1) === 1) return 'multicast'; // the group bit: 01:00:5e:..., 33:33:... (IPv6 groups)
    return dst.equals(this.macBytes) ? 'host' : 'otherhost';
  }

  private flush(frames: Array<[Buffer, FrameVerdict, DropReason | undefined]>): void {
    const out = this.native.takeOutput(this.handle);
    for (const frame of out.sends) this.options.onSend(frame);
    if (out.events.length === 0 && frames.length === 0) return;
    const events = this.options.events;
    queueMicrotask(() => {
      if (this.closed) return;
      for (const e of out.events) dispatchControl(events, e);
      if (events.frame !== undefined) for (const [frame, verdict, reason] of frames) events.frame(frame, verdict, reason);
    });
  }
}
