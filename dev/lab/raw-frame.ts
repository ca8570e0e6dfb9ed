// `node dist/dev/lab/raw-frame.js <interface> <rounds> <interval-ms> <hex-frame>[,<hex-frame>...]`
//
// Puts Ethernet frames on the wire exactly as given, from whatever network
// namespace it runs in: the foreign host of the fault tests (a duplicate
// address, a leftover speaker, a frame from another VLAN). Each round sends
// every frame once; rounds are interval-ms apart. Prints one line per round,
// `sent <epoch ms>` read just before the round, so the caller knows when each went out. Uses the
// project's raw packet socket (needs CAP_NET_RAW).
import { PacketSocket } from '../../src/layer2/packet-socket.js';

const [ifname, roundsText, intervalText, framesText] = process.argv.slice(2);
if (ifname === undefined || roundsText === undefined || intervalText === undefined || framesText === undefined) {
  console.error('usage: raw-frame.js <interface> <rounds> <interval-ms> <hex-frame>[,<hex-frame>...]');
  process.exit(2);
}
const rounds = Number(roundsText);
const intervalMs = Number(intervalText);
const frames = framesText.split(',').map((hex) => Buffer.from(hex, 'hex'));
const socket = PacketSocket.open(ifname);
try {
  for (let i = 0; i < rounds; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, intervalMs));
    // Read before sending: a time read after the send may already be later than a holder's answer to it
    // (a defence takes about a millisecond), which would hide that answer from "what came after the claim".
    const at = Date.now();
    for (const f of frames) socket.send(f);
    console.log(`sent ${at}`);
  }
} finally {
  socket.close();
}
