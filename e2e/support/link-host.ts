// Run inside a node namespace by e2e/layer2.e2e.ts:
//   node link-host.js hold <iface> <ip> <aliveMs> <defendMs>
//     holds ip on iface through AfPacketLink (a license without deadline,
//     heartbeats every 50 ms with the given alive window) and prints every
//     frame verdict and event as a JSON line; SIGUSR1 blocks the event loop
//     for 2 s (a frozen JavaScript: no heartbeats, the reader thread runs on).
//   node link-host.js claim <iface> <ip>
//     sends one raw gratuitous ARP pair for ip from iface's MAC (PacketSocket), then exits.
import { AfPacketLink } from '../../src/layer2/af-packet-link.js';
import { encodeArpFrame, gratuitousArp } from '../../src/layer2/packet/arp.js';
import { PacketSocket } from '../../src/layer2/packet-socket.js';

const HEARTBEAT_EVERY_MS = 50;
const BUSY_MS = 2_000;

const print = (o: Record<string, unknown>): void => console.log(JSON.stringify(o));
const [mode, iface = 'eth0', ip = '', aliveText = '300', defendText = '0'] = process.argv.slice(2);

if (mode === 'claim') {
  const socket = PacketSocket.open(iface);
  socket.send(encodeArpFrame(gratuitousArp(ip, socket.mac, 'request')));
  socket.send(encodeArpFrame(gratuitousArp(ip, socket.mac, 'reply')));
  print({ claimed: ip, mac: socket.mac });
  socket.close();
} else if (mode === 'hold') {
  const link = new AfPacketLink(iface, {
    frame: (_frame, verdict) => print({ frame: verdict }),
    yielded: (addr, gen, reason, mac) => print({ event: 'yielded', ip: addr, gen, reason, mac }),
    conflict: (addr, gen, mac) => print({ event: 'conflict', ip: addr, gen, mac }),
    failed: (code) => print({ event: 'failed', code }),
  });
  const aliveMs = Number(aliveText);
  link.heartbeat(aliveMs);
  setInterval(() => link.heartbeat(aliveMs), HEARTBEAT_EVERY_MS);
  const refused = link.grant([{ ip, gen: 1 }], Infinity, Number(defendText));
  print({ ready: true, mac: link.mac, ifindex: link.ifindex, refused, announce: link.announce(ip, 1) });
  process.on('SIGUSR1', () => {
    print({ busy: true });
    const end = performance.now() + BUSY_MS;
    while (performance.now() < end) {
      // the event loop is blocked: no heartbeat, no event delivery
    }
    print({ busy: false });
  });
  process.on('SIGTERM', () => {
    print({ stats: link.stats() });
    link.close();
    process.exit(0);
  });
} else {
  console.error('usage: link-host.js hold <iface> <ip> <aliveMs> <defendMs> | claim <iface> <ip>');
  process.exit(2);
}
