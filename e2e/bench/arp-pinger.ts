// Run inside the client namespace by the speaker benchmark:
//   node arp-pinger.js <iface> <sender-ip>[,<sender-ip6>] <count> <interval-ms> <target-ip>...
// Sends `count` requests per target, round-robin, one every interval: an ARP
// who-has for an IPv4 target, a Neighbour Solicitation to the solicited-node
// group for an IPv6 one (from sender-ip6). Latency is not measured here: the
// benchmark reads the kernel's timestamps of each request and reply from a
// capture, so this process's own speed does not enter the numbers.

import { encodeArpFrame } from '../../src/layer2/packet/arp.js';
import { encodeNdpFrame, neighborSolicitation } from '../../src/layer2/packet/ndp.js';
import { PacketSocket } from '../../src/layer2/packet-socket.js';

const [iface, sendersText, countText, intervalText, ...targets] = process.argv.slice(2) as [string, string, string, string, ...string[]];
const [senderIp, senderIp6] = sendersText.split(',') as [string, string | undefined];
const link = PacketSocket.open(iface);
const count = Number(countText);
const interval = Number(intervalText);

function request(target: string): Buffer {
  if (target.includes(':')) {
    if (senderIp6 === undefined) throw new Error(`an IPv6 target (${target}) needs a sender IPv6 address`);
    return encodeNdpFrame(neighborSolicitation(target, { mac: link.mac, ip: senderIp6 }));
  }
  return encodeArpFrame({
    operation: 'request',
    ethernetSource: link.mac,
    ethernetDestination: 'ff:ff:ff:ff:ff:ff',
    senderMac: link.mac,
    senderIp,
    targetMac: '00:00:00:00:00:00',
    targetIp: target,
  });
}

let sent = 0;
const timer = setInterval(() => {
  link.send(request(targets[sent % targets.length] as string));
  sent++;
  if (sent >= count * targets.length) {
    clearInterval(timer);
    setTimeout(() => {
      link.close();
      console.log(`sent ${sent}`);
    }, 100);
  }
}, interval);
