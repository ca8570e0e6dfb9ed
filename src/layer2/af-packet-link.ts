// FrameLink over the native AF_PACKET addon (native/af_packet.c): a raw
// packet socket bound to one interface and the ARP EtherType, with the
// addon's reader thread answering requests for held addresses itself (the
// fast path that keeps reply latency near the kernel's). Needs CAP_NET_RAW.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ipv4ToNumber } from '../net/ipv4.js';
import { type MacString, macToBytes, normalizeMac } from '../net/mac.js';
import type { FrameLink, LinkFactory } from './link.js';

interface AfPacketAddon {
  open(ifname: string, onFrame: (frame: Buffer, answered: boolean) => void): object;
  send(handle: object, frame: Buffer): number;
  answer(handle: object, mac: Buffer, ips: Uint32Array): void;
  close(handle: object): void;
}

let addon: AfPacketAddon | undefined;

function loadAddon(): AfPacketAddon {
  if (addon === undefined) {
    const path = process.env['BATON_AF_PACKET_ADDON'] ?? new URL('../../../native/build/Release/af_packet.node', import.meta.url).pathname;
    addon = createRequire(import.meta.url)(path) as AfPacketAddon;
  }
  return addon;
}

/** The MAC of an interface, as the kernel reports it. */
export function interfaceMac(ifname: string): MacString {
  return normalizeMac(readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim());
}

/** Whether the interface has carrier (link up); false also when it does not exist. */
export function interfaceHasCarrier(ifname: string): boolean {
  try {
    return readFileSync(`/sys/class/net/${ifname}/carrier`, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

export class AfPacketLink implements FrameLink {
  readonly name: string;
  readonly mac: MacString;
  private readonly handle: object;
  private readonly handlers: Array<(frame: Buffer, answered: boolean) => void> = [];
  private closed = false;

  constructor(ifname: string) {
    this.name = ifname;
    this.mac = interfaceMac(ifname);
    this.handle = loadAddon().open(ifname, (frame, answered) => {
      for (const h of this.handlers) h(frame, answered);
    });
  }

  send(frame: Buffer): void {
    loadAddon().send(this.handle, frame);
  }

  onFrame(handler: (frame: Buffer, answered: boolean) => void): void {
    this.handlers.push(handler);
  }

  answerFor(ips: readonly string[]): void {
    loadAddon().answer(
      this.handle,
      macToBytes(this.mac),
      Uint32Array.from(ips, (ip) => ipv4ToNumber(ip)),
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    loadAddon().close(this.handle);
  }
}

export const afPacketLinks: LinkFactory = { open: (ifname) => new AfPacketLink(ifname) };
