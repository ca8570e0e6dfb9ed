// A raw ARP socket for tools that play a client on the LAN (the chaos
// probe): it sends frames exactly as given and sees every ARP frame on the
// interface. It holds no addresses and answers nothing (its reader has no
// grants), and it is not a Link: the speaker cannot put an unlicensed claim
// on the wire through it. Needs CAP_NET_RAW.
import { type AfPacketAddon, loadAddon, type NativeHandle } from './addon.js';
import type { FrameVerdict } from './link.js';

export class PacketSocket {
  readonly name: string;
  readonly mac: string;
  readonly ifindex: number;
  private readonly handlers: Array<(frame: Buffer, verdict: FrameVerdict) => void> = [];
  private closed = false;

  private constructor(
    private readonly native: AfPacketAddon,
    private readonly handle: NativeHandle,
  ) {
    const info = native.info(handle);
    this.name = info.name;
    this.mac = info.mac;
    this.ifindex = info.ifindex;
  }

  /** Throws an Error with code (EPERM, ENODEV...) when the socket cannot be opened. */
  static open(ifname: string): PacketSocket {
    const native = loadAddon();
    let socket: PacketSocket | undefined;
    const handle = native.open(
      ifname,
      (frame, verdict) => {
        if (socket !== undefined && !socket.closed) for (const h of socket.handlers) h(frame, verdict);
      },
      () => undefined, // no grants, so no yields or conflicts; a failed socket just goes quiet
    );
    socket = new PacketSocket(native, handle);
    return socket;
  }

  /** Every ARP frame read (frames may be dropped under overload, see the addon's frame queue). */
  onFrame(handler: (frame: Buffer, verdict: FrameVerdict) => void): void {
    this.handlers.push(handler);
  }

  /** Sends one complete Ethernet frame without blocking; throws with code EAGAIN/ENOBUFS/ENETDOWN... */
  send(frame: Buffer): void {
    this.native.send(this.handle, frame);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close(this.handle);
  }
}
