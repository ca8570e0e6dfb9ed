// IPv6 through the reader's rules (native/responder_core.c) in a VirtualLink:
// Neighbour Discovery answered, announced, claimed and defended under the same
// license as ARP, in the same drains.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FakeClock } from '../testing/fake-clock.js';
import { loadAddon } from './addon.js';
import type { FrameVerdict, Grant, YieldReason } from './link.js';
import { encodeArpFrame, gratuitousArp } from './packet/arp.js';
import type { DropReason } from './packet/drop-reason.js';
import {
  decodeNdpFrame,
  encodeNdpFrame,
  fixIcmpv6Checksum,
  type NdpFrame,
  neighborAdvertisementFor,
  neighborSolicitation,
  solicitedNodeAddress,
  unsolicitedAdvertisement,
} from './packet/ndp.js';
import { type VirtualFrame, VirtualLink } from './virtual-link.js';

const OURS = '02:ba:70:00:00:0b';
const CLIENT = '02:ba:70:00:00:64';
const CLIENT_IP = '2001:db8::64';
const RIVAL = '02:ba:70:00:00:0c';
const IP = '2001:db8::c8';
const OTHER = '2001:db8::c9';
const V4 = '192.0.2.200';

// Byte-exact frames (checksums confirmed by tcpdump, see packet/ndp.test.ts).
const NA_REPLY_HEX =
  '02ba70000064' + // to the asker
  '02ba7000000b' + // from us
  '86dd' +
  '60000000' + // IPv6, traffic class and flow label 0
  '0020' + // payload 32
  '3a' + // ICMPv6
  'ff' + // hop limit 255
  '20010db80000000000000000000000c8' + // source: the target
  '20010db8000000000000000000000064' + // destination: the asker
  '88' + // Neighbour Advertisement
  '00' +
  '17bf' + // checksum
  '60000000' + // S=1, O=1
  '20010db80000000000000000000000c8' + // target
  '0201' + // Target link-layer address option, one unit
  '02ba7000000b'; // our MAC
const NA_ALL_NODES_HEX =
  '333300000001' + // to all-nodes' MAC
  '02ba7000000b' +
  '86dd' +
  '60000000' +
  '0020' +
  '3a' +
  'ff' +
  '20010db80000000000000000000000c8' + // source: the address
  'ff020000000000000000000000000001' + // ff02::1
  '88' +
  '00' +
  '86d8' +
  '20000000' + // S=0, O=1
  '20010db80000000000000000000000c8' +
  '0201' +
  '02ba7000000b';

/** An NS for target from the client: to its solicited-node group, with a Source option. */
function ns(target: string, from = CLIENT, fromIp = CLIENT_IP): Buffer {
  return encodeNdpFrame(neighborSolicitation(target, { mac: from, ip: fromIp }));
}

/** A unicast NUD probe to the target itself (RFC 4861 7.3.1). */
function nud(target: string, sourceLinkLayer = true): Buffer {
  return encodeNdpFrame(neighborSolicitation(target, { mac: CLIENT, ip: CLIENT_IP }, { unicastTo: OURS, sourceLinkLayer }));
}

function dad(target: string, from = RIVAL): Buffer {
  return encodeNdpFrame(neighborSolicitation(target, { mac: from, ip: '::' }));
}

/** The unsolicited NA another holder sends when it takes ip over. */
function na(ip: string, mac = RIVAL, flags: { solicited?: boolean; override?: boolean } = {}): Buffer {
  return encodeNdpFrame({ ...unsolicitedAdvertisement(ip, mac), ...flags });
}

function arpRequest(target: string): Buffer {
  return encodeArpFrame({
    operation: 'request',
    ethernetSource: CLIENT,
    ethernetDestination: 'ff:ff:ff:ff:ff:ff',
    senderMac: CLIENT,
    senderIp: '192.0.2.100',
    targetMac: '00:00:00:00:00:00',
    targetIp: target,
  });
}

interface Yield {
  ip: string;
  gen: number;
  reason: YieldReason;
  mac: string | undefined;
}

/** A virtual link with everything it sends and reports recorded. Time starts at 1 s. */
class Harness {
  readonly clock = new FakeClock(1_000);
  readonly sent: Buffer[] = [];
  readonly verdicts: FrameVerdict[] = [];
  readonly reasons: Array<DropReason | undefined> = [];
  readonly yields: Yield[] = [];
  readonly conflicts: Array<{ ip: string; gen: number; mac: string }> = [];
  readonly link: VirtualLink;

  constructor() {
    this.link = new VirtualLink({
      name: 'eth0',
      mac: OURS,
      clock: this.clock,
      onSend: (f) => this.sent.push(f),
      events: {
        frame: (_f, v, reason) => {
          this.verdicts.push(v);
          this.reasons.push(reason);
        },
        yielded: (ip, gen, reason, mac) => this.yields.push({ ip, gen, reason, mac }),
        conflict: (ip, gen, mac) => this.conflicts.push({ ip, gen, mac }),
      },
    });
  }

  async drain(frames: Array<Buffer | VirtualFrame>, kernelDrops = 0): Promise<FrameVerdict[]> {
    const before = this.verdicts.length;
    this.link.receive(
      frames.map((f) => (Buffer.isBuffer(f) ? { frame: f } : f)),
      kernelDrops,
    );
    await this.clock.advance(0);
    return this.verdicts.slice(before);
  }

  async ask(ip: string): Promise<FrameVerdict> {
    const [v] = await this.drain([ns(ip)]);
    return v as FrameVerdict;
  }

  sentHex(): string[] {
    return this.sent.map((b) => b.toString('hex'));
  }

  clear(): void {
    this.sent.length = 0;
  }

  /** Grant, then announce each address granted, as the speaker does (see virtual-link.test.ts); the announcements are not kept in sent. */
  hold(grants: Grant[], answerMs: number, defendMs: number): string[] {
    const refused = this.link.grant(grants, answerMs, defendMs);
    const sent = this.sent.length;
    for (const g of grants) if (!refused.includes(g.ip)) this.link.announce(g.ip, g.gen);
    this.sent.length = sent;
    return refused;
  }
}

describe('NDP in the reader: answers', () => {
  it('answers a fresh IPv6 holding only once its unsolicited NA is on the wire: NS, NUD and DAD alike', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.link.grant([{ ip: IP, gen: 1 }], Infinity, 0);
    assert.deepEqual(await h.drain([ns(IP), nud(IP), dad(IP)]), ['unannounced', 'unannounced', 'unannounced']);
    assert.equal(h.sent.length, 0);
    assert.equal(h.link.announce(IP, 1), 'sent');
    assert.deepEqual(await h.drain([ns(IP)]), ['answered']);
    assert.equal(h.sentHex()[0], NA_ALL_NODES_HEX, 'the announcement went first');
  });

  it('answers an NS for a licensed IPv6 address byte for byte: unicast to the asker, S=1 O=1, our Target option', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    assert.deepEqual(h.hold([{ ip: IP, gen: 1 }], Infinity, 0), []);
    assert.equal(await h.ask(IP), 'answered');
    assert.deepEqual(h.sentHex(), [NA_REPLY_HEX]);
    assert.equal(h.link.stats().repliesSent, 1);
  });

  it('answers a unicast NUD NS sent to the address itself, with or without a Source option (MetalLB #2920)', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    assert.deepEqual(await h.drain([nud(IP), nud(IP, false)]), ['answered', 'answered']);
    assert.deepEqual(h.sentHex(), [NA_REPLY_HEX, NA_REPLY_HEX], 'to the Source option, else to the Ethernet source: here both the client');
  });

  it('defends a held address against a DAD probe: an NA to all-nodes with S=0 O=1; the probe is never a claim', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    assert.deepEqual(await h.drain([dad(IP), dad(OTHER)]), ['answered', 'probe']);
    assert.deepEqual(h.sentHex(), [NA_ALL_NODES_HEX]);
    assert.deepEqual(h.yields, []);
    assert.equal(await h.ask(IP), 'answered', 'still ours');
  });

  it('answers nothing for an address it does not hold, and an NA about one is foreign', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    assert.deepEqual(await h.drain([ns(OTHER), na(OTHER)]), ['not-held', 'foreign']);
    assert.equal(h.sent.length, 0);
  });

  it('keeps IPv4 and IPv6 keys apart: an NA for c000:2c8:: does not touch 192.0.2.200 (the same 4 bytes)', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold(
      [
        { ip: V4, gen: 1 },
        { ip: 'c000:2c8::', gen: 1 },
      ],
      Infinity,
      0,
    );
    assert.deepEqual(await h.drain([na('c000:2c8::'), arpRequest(V4)]), ['claim', 'answered']);
    assert.deepEqual(
      h.yields.map((y) => y.ip),
      ['c000:2c8::'],
    );
  });
});

describe('NDP in the reader: unsolicited NAs', () => {
  it('announce() sends one unsolicited NA byte for byte, only when licensed at the granted generation', async () => {
    const h = new Harness();
    assert.equal(h.link.announce(IP, 1), 'not-held');
    h.hold([{ ip: IP, gen: 7 }], Infinity, 0);
    assert.equal(h.link.announce(IP, 7), 'unlicensed', 'no heartbeat yet');
    h.link.heartbeat(10_000);
    assert.equal(h.link.announce(IP, 6), 'stale-generation');
    assert.equal(h.sent.length, 0);
    assert.equal(h.link.announce(IP, 7), 'sent');
    assert.deepEqual(h.sentHex(), [NA_ALL_NODES_HEX]);
    const decoded = decodeNdpFrame(h.sent[0] as Buffer);
    assert.ok(decoded.ok && decoded.value.type === 'advertisement' && decoded.value.override && !decoded.value.solicited);
    assert.equal(h.link.stats().repliesSent, 0, 'announcements are not replies');
  });

  it('announce() refuses a yielded address and one past its deadline, as for IPv4', async () => {
    const h = new Harness();
    h.link.heartbeat(100_000);
    h.hold([{ ip: IP, gen: 1 }], 500, 0);
    h.hold([{ ip: OTHER, gen: 1 }], Infinity, 0);
    await h.drain([na(OTHER)]);
    assert.equal(h.link.announce(OTHER, 1), 'yielded');
    await h.clock.advance(500);
    assert.equal(h.link.announce(IP, 1), 'unlicensed');
    assert.equal(h.sent.length, 0);
  });
});

describe('NDP in the reader: the license rule', () => {
  it('stops answering at the answer deadline; a grant sets it exactly, shorter too', async () => {
    const h = new Harness();
    h.link.heartbeat(100_000);
    h.hold([{ ip: IP, gen: 1 }], 500, 0);
    await h.clock.advance(499);
    assert.equal(await h.ask(IP), 'answered');
    await h.clock.advance(1);
    assert.deepEqual(await h.drain([ns(IP), nud(IP), dad(IP)]), ['unlicensed', 'unlicensed', 'unlicensed']);
    h.hold([{ ip: IP, gen: 1 }], 10_000, 0);
    assert.equal(await h.ask(IP), 'answered');
    h.hold([{ ip: IP, gen: 1 }], 10, 0);
    await h.clock.advance(10);
    assert.equal(await h.ask(IP), 'unlicensed');
  });

  it('stops answering when heartbeats stop, whatever the grant; without a heartbeat a claim yields even a defended address', async () => {
    const h = new Harness();
    h.link.heartbeat(300);
    h.hold([{ ip: IP, gen: 1 }], Infinity, Infinity);
    await h.clock.advance(299);
    assert.equal(await h.ask(IP), 'answered');
    await h.clock.advance(1);
    assert.equal(await h.ask(IP), 'unlicensed');
    assert.equal(h.link.announce(IP, 1), 'unlicensed');
    assert.deepEqual(await h.drain([na(IP)]), ['claim']);
  });

  it('never answers an NS older than the stale limit; a DAD probe neither', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    const now = h.clock.now();
    const verdicts = await h.drain([
      ...[0, 249, 250, 251, 3_000].map((age) => ({ frame: ns(IP), atMs: now - age })),
      { frame: dad(IP), atMs: now - 251 },
      { frame: ns(IP), atMs: now + 5 },
    ]);
    assert.deepEqual(verdicts, ['answered', 'answered', 'answered', 'stale', 'stale', 'stale', 'stale']);
    assert.equal(h.sent.length, 3);
  });

  it('honours every claim of a mixed ARP/NDP drain before answering any request in it, however far apart', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold(
      [
        { ip: IP, gen: 1 },
        { ip: V4, gen: 1 },
        { ip: OTHER, gen: 1 },
        { ip: '192.0.2.201', gen: 1 },
      ],
      Infinity,
      0,
    );
    const frames = [
      ...Array.from({ length: 50 }, () => ns(IP)),
      ...Array.from({ length: 50 }, () => arpRequest(V4)),
      nud(IP),
      dad(IP),
      na(IP), // the new holder's unsolicited NA
      encodeArpFrame(gratuitousArp(V4, RIVAL, 'request')), // and its gratuitous ARP
      ns(IP),
      arpRequest(V4),
      ns(OTHER),
      arpRequest('192.0.2.201'),
    ];
    const verdicts = await h.drain(frames);
    assert.deepEqual(verdicts, [
      ...Array<FrameVerdict>(100).fill('yielded'),
      'yielded',
      'yielded',
      'claim',
      'claim',
      'yielded',
      'yielded',
      'answered',
      'answered',
    ]);
    assert.deepEqual(
      h.yields.map((y) => `${y.ip} ${y.reason} ${y.mac}`),
      [`${IP} claim ${RIVAL}`, `${V4} claim ${RIVAL}`],
    );
    assert.equal(h.sent.length, 2, 'only the unrelated addresses are answered');
    const reply = decodeNdpFrame(h.sent[0] as Buffer);
    assert.ok(reply.ok && reply.value.target === OTHER);
  });

  it('on a kernel overrun yields every IPv6 and IPv4 address it does not defend, before answering the drain', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold(
      [
        { ip: IP, gen: 3 },
        { ip: V4, gen: 3 },
      ],
      Infinity,
      0,
    );
    h.hold([{ ip: OTHER, gen: 5 }], Infinity, 60_000);
    assert.deepEqual(await h.drain([ns(IP), arpRequest(V4), ns(OTHER)], 1), ['yielded', 'yielded', 'answered']);
    assert.deepEqual(
      new Set(h.yields.map((y) => `${y.ip} ${y.reason} ${y.mac}`)),
      new Set([`${IP} overrun undefined`, `${V4} overrun undefined`]),
    );
    assert.deepEqual(h.hold([{ ip: IP, gen: 4 }], Infinity, 0), [], 'JS re-confirms and grants a new generation');
    assert.equal(await h.ask(IP), 'answered');
  });

  it('judges a full drain as an overrun (the rest of the queue may hide a claim)', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    const noise = ns('2001:db8::77');
    await h.drain(Array.from({ length: loadAddon().drainMax }, () => noise));
    assert.deepEqual(h.yields, [{ ip: IP, gen: 1, reason: 'overrun', mac: undefined }]);
  });
});

describe('NDP in the reader: claims', () => {
  it('yields an undefended address to a foreign NA of any flags, and keeps it yielded until a newer generation', async () => {
    const unsolicited = na(IP);
    const withoutOverride = na(IP, RIVAL, { override: false }); // MetalLB's replies
    const solicitedToUs = encodeNdpFrame({
      ...unsolicitedAdvertisement(IP, RIVAL),
      solicited: true,
      destination: CLIENT_IP,
      ethernetDestination: OURS,
    });
    for (const frame of [unsolicited, withoutOverride, solicitedToUs]) {
      const h = new Harness();
      h.link.heartbeat(10_000);
      h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
      assert.deepEqual(await h.drain([frame]), ['claim']);
      assert.deepEqual(h.yields, [{ ip: IP, gen: 1, reason: 'claim', mac: RIVAL }]);
      assert.equal(await h.ask(IP), 'yielded');
      assert.deepEqual(h.hold([{ ip: IP, gen: 1 }], Infinity, 0), [IP], 'a grant at the yielded generation is refused');
      assert.equal(h.link.announce(IP, 1), 'yielded');
      assert.deepEqual(h.hold([{ ip: IP, gen: 2 }], Infinity, 0), []);
      assert.equal(await h.ask(IP), 'answered');
    }
  });

  it('keeps a defended address on a foreign NA and reports a conflict; once the defence lapses, a claim yields', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 4 }], Infinity, 1_000);
    assert.deepEqual(await h.drain([na(IP)]), ['conflict']);
    assert.deepEqual(h.conflicts, [{ ip: IP, gen: 4, mac: RIVAL }]);
    assert.equal(await h.ask(IP), 'answered');
    assert.equal(h.link.announce(IP, 4), 'sent', 'JS re-announces to defend');
    await h.clock.advance(1_000);
    assert.deepEqual(await h.drain([na(IP)]), ['claim']);
    assert.deepEqual(h.yields, [{ ip: IP, gen: 4, reason: 'claim', mac: RIVAL }]);
  });

  it('takes an NS from a held address as a claim (the sender uses our address), naming its Source option', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    assert.deepEqual(await h.drain([ns('2001:db8::77', RIVAL, IP)]), ['claim']);
    assert.deepEqual(h.yields, [{ ip: IP, gen: 1, reason: 'claim', mac: RIVAL }]);
    assert.equal(h.sent.length, 0);
  });

  it('ignores its own NS and NA: our MAC as Ethernet source, as link-layer option, or sent by this host', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    const kernelNs = ns(IP, OURS, '2001:db8::b'); // this node's kernel resolving the VIP
    const optionOurs = encodeNdpFrame({ ...neighborSolicitation(IP, { mac: CLIENT, ip: CLIENT_IP }), sourceLinkLayer: OURS });
    const naOptionOurs = encodeNdpFrame({ ...unsolicitedAdvertisement(IP, RIVAL), targetLinkLayer: OURS });
    const verdicts = await h.drain([
      kernelNs,
      optionOurs,
      na(IP, OURS),
      naOptionOurs,
      { frame: ns(IP), pktType: 'outgoing' },
      { frame: na(IP), pktType: 'outgoing' },
    ]);
    assert.deepEqual(verdicts, Array<FrameVerdict>(6).fill('own-frame'));
    assert.equal(h.sent.length, 0, 'never answers its own kernel');
    assert.deepEqual(h.yields, []);
    assert.equal(await h.ask(IP), 'answered');
  });

  it('ignores OTHERHOST and VLAN-tagged NDP: neither answers nor claims', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    const verdicts = await h.drain([
      { frame: na(IP), pktType: 'otherhost' },
      { frame: na(IP), vlan: 200 },
      { frame: ns(IP), pktType: 'otherhost' },
      { frame: ns(IP), vlan: 200 },
    ]);
    assert.deepEqual(verdicts, ['other-host', 'vlan', 'other-host', 'vlan']);
    assert.deepEqual(h.yields, []);
    assert.equal(h.sent.length, 0);
  });

  it('never takes an invalid NA as a claim: hop limit, checksum, code, options (each rule: ndp-vectors.test.ts)', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    const patched = (offset: number, byte: number, fix = true): Buffer => {
      const f = na(IP);
      f[offset] = byte;
      return fix ? fixIcmpv6Checksum(f) : f;
    };
    await h.drain([patched(21, 64), patched(57, 0, false), patched(55, 1), patched(79, 0)]);
    assert.deepEqual(h.verdicts, ['malformed', 'malformed', 'malformed', 'malformed']);
    assert.deepEqual(h.reasons, ['bad-hop-limit', 'bad-checksum', 'bad-icmp-code', 'bad-option-length']);
    assert.deepEqual(h.yields, []);
  });
});

describe('NDP in the reader: the C agrees with the TS codec (properties)', () => {
  it('claims, answers and replies exactly as decodeNdpFrame and neighborAdvertisementFor say, for any NS or NA', () => {
    const mac = fc.constantFrom(OURS, RIVAL, CLIENT);
    const ip = fc.constantFrom(IP, OTHER, '::', CLIENT_IP);
    const target = fc.constantFrom(IP, OTHER, 'ff02::1');
    fc.assert(
      fc.property(
        fc.record({
          type: fc.constantFrom('solicitation', 'advertisement') as fc.Arbitrary<'solicitation' | 'advertisement'>,
          ethSource: mac,
          lla: fc.option(mac, { nil: undefined }),
          source: ip,
          target,
          destination: fc.constantFrom('group', 'target', 'ff02::1', CLIENT_IP),
          solicited: fc.boolean(),
          override: fc.boolean(),
          hopLimit: fc.constantFrom(255, 255, 64),
          breakChecksum: fc.boolean(),
          pktType: fc.constantFrom('host', 'multicast', 'otherhost', 'outgoing') as fc.Arbitrary<VirtualFrame['pktType']>,
          vlan: fc.option(fc.integer({ min: 0, max: 4095 }), { nil: undefined, freq: 5 }),
          cut: fc.integer({ min: 0, max: 100 }),
        }),
        (r) => {
          const clock = new FakeClock(0);
          let yields = 0;
          const sent: Buffer[] = [];
          const link = new VirtualLink({
            name: 'eth0',
            mac: OURS,
            clock,
            onSend: (f) => sent.push(f),
            events: { yielded: () => yields++, conflict: () => undefined },
          });
          link.heartbeat(1_000);
          link.grant([{ ip: IP, gen: 1 }], Infinity, 0);
          link.announce(IP, 1);
          sent.length = 0;
          const destination =
            r.destination === 'group' ? solicitedNodeAddress(r.target) : r.destination === 'target' ? r.target : r.destination;
          const base = {
            ethernetSource: r.ethSource,
            ethernetDestination: '33:33:00:00:00:01',
            source: r.source,
            destination,
            target: r.target,
          };
          const f: NdpFrame =
            r.type === 'solicitation'
              ? { type: 'solicitation', ...base, ...(r.lla !== undefined ? { sourceLinkLayer: r.lla } : {}) }
              : {
                  type: 'advertisement',
                  ...base,
                  router: false,
                  solicited: r.solicited,
                  override: r.override,
                  ...(r.lla !== undefined ? { targetLinkLayer: r.lla } : {}),
                };
          const bytes = encodeNdpFrame(f);
          bytes[21] = r.hopLimit;
          if (r.breakChecksum) bytes[57] = (bytes[57] ?? 0) ^ 1;
          const frame = bytes.subarray(0, r.cut === 100 ? bytes.length : Math.min(bytes.length, r.cut));
          link.receive([{ frame, pktType: r.pktType, vlan: r.vlan }]);
          const d = decodeNdpFrame(frame);
          const heard = r.vlan === undefined && (r.pktType === 'host' || r.pktType === 'multicast');
          const ownMac =
            d.ok &&
            (d.value.ethernetSource === OURS ||
              (d.value.type === 'solicitation' ? d.value.sourceLinkLayer : d.value.targetLinkLayer) === OURS);
          const usable = d.ok && heard && !ownMac;
          const isClaim = usable && (d.value.type === 'advertisement' ? d.value.target === IP : d.value.source === IP);
          const isAnswered = usable && !isClaim && d.value.type === 'solicitation' && d.value.target === IP;
          // The yield itself is synchronous in C; announce() tells whether it happened (and adds an NA when licensed).
          const before = sent.length;
          assert.equal(link.announce(IP, 1) === 'yielded', isClaim);
          const replies = sent.slice(0, before).map((b) => b.toString('hex'));
          const expected =
            isAnswered && d.ok && d.value.type === 'solicitation'
              ? [encodeNdpFrame(neighborAdvertisementFor(d.value, OURS)).toString('hex')]
              : [];
          assert.deepEqual(replies, expected);
          link.close();
          assert.equal(yields, 0, 'events arrive only after the call');
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('survives arbitrary bytes in IPv6 frames and arbitrary payload lengths (fuzz)', () => {
    const h = new Harness();
    h.link.heartbeat(1e9);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    const head = ns(IP).subarray(0, 54);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(58, 0, 44)), {
          maxLength: 12,
        }),
        (frames) => {
          h.link.receive(
            frames.map(([tail, length, next]) => {
              const f = Buffer.concat([head, tail]);
              f.writeUInt16BE(length, 18);
              f[20] = next;
              // A third of them with a correct checksum over what they carry, to get past that rule.
              const whole = f.subarray(0, Math.min(f.length, 54 + length));
              return { frame: length % 3 === 0 && whole.length >= 58 ? fixIcmpv6Checksum(whole) : f };
            }),
          );
        },
      ),
      { numRuns: 1_500 },
    );
  });
});
