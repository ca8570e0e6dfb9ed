// ARP frames a foreign host puts on the LAN, and the sender that does it
// from inside a namespace (raw-frame.ts): a gratuitous ARP claiming an
// address someone else holds, a request from a made-up asker (to tell its
// answer apart from every other on the wire), either one tagged for a VLAN.
import { fileURLToPath } from 'node:url';
import { encodeArpFrame, gratuitousArp } from '../../src/layer2/packet/arp.js';
import { ETHERTYPE_VLAN } from '../../src/layer2/packet/ethernet.js';
import { runInNetns } from './exec.js';
import type { Lan, LanHost } from './lan.js';
import type { ManagedProcess } from './managed-process.js';

const SENDER = fileURLToPath(new URL('./raw-frame.js', import.meta.url));

/** A gratuitous ARP (request form, as `arping -U` sends it) claiming ip for mac. */
export function claimFrame(ip: string, mac: string): Buffer {
  return encodeArpFrame(gratuitousArp(ip, mac, 'request'));
}

/** A broadcast who-has for ip from (mac, senderIp). */
export function requestFrame(ip: string, mac: string, senderIp: string): Buffer {
  return encodeArpFrame({
    operation: 'request',
    ethernetSource: mac,
    ethernetDestination: 'ff:ff:ff:ff:ff:ff',
    senderMac: mac,
    senderIp,
    targetMac: '00:00:00:00:00:00',
    targetIp: ip,
  });
}

/**
 * The same frame tagged for a VLAN (802.1Q, in band): as a trunk port
 * delivers a frame of another VLAN. Sent on an untagged interface, it
 * reaches every host of the LAN with its tag (this lab's kernel has no
 * VLAN devices, so tags are written into the frame here).
 */
export function tagged(frame: Buffer, vlanId: number): Buffer {
  const tag = Buffer.alloc(4);
  tag.writeUInt16BE(ETHERTYPE_VLAN, 0);
  tag.writeUInt16BE(vlanId & 0x0fff, 2);
  return Buffer.concat([frame.subarray(0, 12), tag, frame.subarray(12)]);
}

export interface SendOptions {
  /** Interface in the host's namespace (default its LAN interface; a VLAN interface sends tagged). */
  ifname?: string;
  /** Rounds of every frame (default 1), intervalMs apart (default 1000). */
  rounds?: number;
  intervalMs?: number;
}

/** Sends frames from inside host's namespace; resolves with the epoch ms of each round once all are sent. */
export async function sendFrames(host: LanHost, frames: readonly Buffer[], options: SendOptions = {}): Promise<number[]> {
  const rounds = options.rounds ?? 1;
  const intervalMs = options.intervalMs ?? 1_000;
  const res = await runInNetns(
    host.netns,
    process.execPath,
    [SENDER, options.ifname ?? host.iface, String(rounds), String(intervalMs), frames.map((f) => f.toString('hex')).join(',')],
    { timeoutMs: rounds * intervalMs + 30_000 },
  );
  return [...res.stdout.matchAll(/^sent (\d+)$/gm)].map((m) => Number(m[1]));
}

/** Starts sending in the background (e.g. requests for many IPs, a round every intervalMs, until stopped). */
export function startSending(lan: Lan, host: LanHost, label: string, frames: readonly Buffer[], options: SendOptions = {}): ManagedProcess {
  return lan.spawn(host, `frames-${label}`, process.execPath, [
    SENDER,
    options.ifname ?? host.iface,
    String(options.rounds ?? 1_000_000),
    String(options.intervalMs ?? 1_000),
    frames.map((f) => f.toString('hex')).join(','),
  ]);
}
