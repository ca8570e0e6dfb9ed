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
  /**
   * Registers the receiver of every ARP frame arriving on the link.
   * `answered` is true when the link already replied to it itself (see answerFor).
   */
  onFrame(handler: (frame: Buffer, answered: boolean) => void): void;
  /**
   * Optional fast path: the link answers ARP requests for these IPv4
   * addresses itself, as soon as they arrive, and stops answering for one the
   * moment another MAC claims it. The responder still sees every frame.
   */
  answerFor?(ips: readonly string[]): void;
  close(): void;
}

/** Opens links by interface name (the speaker asks for the interfaces its pools name). */
export interface LinkFactory {
  open(ifname: string): FrameLink;
}
