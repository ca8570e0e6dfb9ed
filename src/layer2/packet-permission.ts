// Can this process open packet sockets at all? A speaker without
// CAP_NET_RAW would otherwise run, turn ready and take IPs it can never
// answer for. Checked once at startup on the node's first Ethernet
// interface (the addon opens sockets on Ethernet links only; opening one
// sends nothing), it fails fast with a reason an operator can act on.
import { BatonError, errorCode } from '../errors.js';
import { PacketSocket } from './packet-socket.js';

// The kernel refuses socket(AF_PACKET) with these when the capability is missing.
const DENIED = new Set(['EPERM', 'EACCES']);

/**
 * Opens and closes a packet socket on the first of `interfaces` that takes
 * one; returns its name, or undefined when none could be tried (no
 * Ethernet interface: nothing to announce on either). Throws
 * PACKET_SOCKET_DENIED when the kernel refuses for want of privilege.
 */
export function assertPacketSockets(
  interfaces: readonly string[],
  open: (ifname: string) => { close(): void } = (i) => PacketSocket.open(i),
): string | undefined {
  for (const ifname of interfaces) {
    let socket: { close(): void };
    try {
      socket = open(ifname);
    } catch (err) {
      const code = errorCode(err);
      if (code !== undefined && DENIED.has(code)) {
        throw new BatonError(
          'PACKET_SOCKET_DENIED',
          `the speaker needs CAP_NET_RAW to answer ARP and NDP, and socket(AF_PACKET) on ${ifname} was refused (${code}): grant NET_RAW (securityContext.capabilities.add: [NET_RAW])`,
          { cause: err },
        );
      }
      // Gone meanwhile, or not a usable link: the next one tells as well.
      continue;
    }
    socket.close();
    return ifname;
  }
  return undefined;
}
