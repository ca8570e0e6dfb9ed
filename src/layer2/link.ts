// A link is where the responder reads and writes Ethernet frames: an
// AF_PACKET socket on a real interface in production, a FakeLink in unit
// tests. Keeping it this small is what makes the responder testable without
// root.
import type { MacString } from '../net/mac.js';

export interface FrameLink {
  /** Interface name, e.g. eth0. */
  readonly name: string;
  /** The interface's own MAC: the Ethernet source and ARP sender of everything we send. */
  readonly mac: MacString;
  /** Sends one complete Ethernet frame. Throws (code ENETDOWN...) when the link cannot send. */
  send(frame: Buffer): void;
  /** Registers the receiver of every ARP frame arriving on the link. */
  onFrame(handler: (frame: Buffer) => void): void;
  close(): void;
}

/** Opens links by interface name (the speaker asks for the interfaces its pools name). */
export interface LinkFactory {
  open(ifname: string): FrameLink;
}
