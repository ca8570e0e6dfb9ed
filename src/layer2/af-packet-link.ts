// FrameLink over the native AF_PACKET addon (native/af_packet.c): a raw
// packet socket bound to one interface and the ARP EtherType. Needs
// CAP_NET_RAW.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { normalizeMac, type MacString } from '../net/mac.js';
import type { FrameLink, LinkFactory } from './link.js';

interface AfPacketAddon {
  open(ifname: string, onFrame: (frame: Buffer) => void): object;
  send(handle: object, frame: Buffer): number;
  close(handle: object): void;
  ifindex(handle: object): number;
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
  private readonly handlers: Array<(frame: Buffer) => void> = [];
  private closed = false;

  constructor(ifname: string) {
    this.name = ifname;
    this.mac = interfaceMac(ifname);
    this.handle = loadAddon().open(ifname, (frame) => {
      for (const h of this.handlers) h(frame);
    });
  }

  send(frame: Buffer): void {
    loadAddon().send(this.handle, frame);
  }

  onFrame(handler: (frame: Buffer) => void): void {
    this.handlers.push(handler);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    loadAddon().close(this.handle);
  }
}

export const afPacketLinks: LinkFactory = { open: (ifname) => new AfPacketLink(ifname) };
