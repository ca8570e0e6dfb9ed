// Run inside the client namespace by the speaker benchmark:
//   node arp-pinger.js <iface> <sender-ip> <count> <interval-ms> <target-ip>...
// Sends `count` ARP who-has requests per target, round-robin, one every
// interval. Latency is not measured here: the benchmark reads the kernel's
// timestamps of each request and reply from a capture, so this process's own
// speed does not enter the numbers.

import { encodeArpFrame } from '../../src/layer2/packet/arp.js';
import { PacketSocket } from '../../src/layer2/packet-socket.js';

const [iface, senderIp, countText, intervalText, ...targets] = process.argv.slice(2) as [string, string, string, string, ...string[]];
const link = PacketSocket.open(iface);
const count = Number(countText);
const interval = Number(intervalText);
let sent = 0;
const timer = setInterval(() => {
  const target = targets[sent % targets.length] as string;
  link.send(
    encodeArpFrame({
      operation: 'request',
      ethernetSource: link.mac,
      ethernetDestination: 'ff:ff:ff:ff:ff:ff',
      senderMac: link.mac,
      senderIp,
      targetMac: '00:00:00:00:00:00',
      targetIp: target,
    }),
  );
  sent++;
  if (sent >= count * targets.length) {
    clearInterval(timer);
    setTimeout(() => {
      link.close();
      console.log(`sent ${sent}`);
    }, 100);
  }
}, interval);
