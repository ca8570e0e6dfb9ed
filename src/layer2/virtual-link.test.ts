// The reader's rules (native/responder_core.c), run through VirtualLink.
// Each test is a failure of the old addon (review speaker-safety.md F1, F2,
// F6, F11, F15): it must pass on the license rule and would fail there.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FakeClock } from '../testing/fake-clock.js';
import { loadAddon } from './addon.js';
import { AfPacketLink } from './af-packet-link.js';
import type { FrameVerdict, Grant, YieldReason } from './link.js';
import { decodeArpFrame, encodeArpFrame, gratuitousArp } from './packet/arp.js';
import { PacketSocket } from './packet-socket.js';
import { type VirtualFrame, VirtualLink } from './virtual-link.js';

const OURS = '02:ba:70:00:00:0b';
const CLIENT = '02:ba:70:00:00:64';
const CLIENT_IP = '192.0.2.100';
const RIVAL = '02:ba:70:00:00:0c';
const IP = '192.0.2.200';
const OTHER = '192.0.2.201';

function request(target: string, from = CLIENT, fromIp = CLIENT_IP): Buffer {
  return encodeArpFrame({
    operation: 'request',
    ethernetSource: from,
    ethernetDestination: 'ff:ff:ff:ff:ff:ff',
    senderMac: from,
    senderIp: fromIp,
    targetMac: '00:00:00:00:00:00',
    targetIp: target,
  });
}

function claim(ip: string, mac = RIVAL, op: 'request' | 'reply' = 'request'): Buffer {
  return encodeArpFrame(gratuitousArp(ip, mac, op));
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
  readonly yields: Yield[] = [];
  readonly conflicts: Array<{ ip: string; gen: number; mac: string }> = [];
  readonly order: string[] = [];
  readonly link: VirtualLink;

  constructor() {
    this.link = new VirtualLink({
      name: 'eth0',
      mac: OURS,
      ifindex: 7,
      clock: this.clock,
      onSend: (f) => {
        this.sent.push(f);
        this.order.push('send');
      },
      events: {
        frame: (_f, v) => {
          this.verdicts.push(v);
          this.order.push(`frame ${v}`);
        },
        yielded: (ip, gen, reason, mac) => {
          this.yields.push({ ip, gen, reason, mac });
          this.order.push(`yielded ${ip}`);
        },
        conflict: (ip, gen, mac) => {
          this.conflicts.push({ ip, gen, mac });
          this.order.push(`conflict ${ip}`);
        },
      },
    });
  }

  /** Receives one drain and lets its events arrive; returns the drain's verdicts. */
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
    const [v] = await this.drain([request(ip)]);
    return v as FrameVerdict;
  }

  clear(): void {
    this.sent.length = 0;
    this.order.length = 0;
  }

  /**
   * What the speaker does to start holding: grant, then announce each address granted (a fresh holding is
   * answered only once announced). The announcements are left out of sent and order, so tests see only
   * what follows. Returns the refused addresses, as grant() does.
   */
  hold(grants: Grant[], answerMs: number, defendMs: number): string[] {
    const refused = this.link.grant(grants, answerMs, defendMs);
    const [sent, order] = [this.sent.length, this.order.length];
    for (const g of grants) if (!refused.includes(g.ip)) this.link.announce(g.ip, g.gen);
    this.sent.length = sent;
    this.order.length = order;
    return refused;
  }
}

describe('VirtualLink: the license rule in C', () => {
  it('exposes the name, MAC and ifindex it was opened with', () => {
    const h = new Harness();
    assert.deepEqual([h.link.name, h.link.mac, h.link.ifindex], ['eth0', OURS, 7]);
  });

  it('answers nothing before the first heartbeat, whatever the grants say', async () => {
    const h = new Harness();
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    assert.equal(await h.ask(IP), 'unlicensed');
    assert.equal(h.link.announce(IP, 1), 'unlicensed');
    assert.equal(h.sent.length, 0);
  });

  it('yields a non-defended address to a foreign claim, and keeps it yielded until a grant at a newer generation (F1)', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    assert.equal(await h.ask(IP), 'answered');
    assert.deepEqual(await h.drain([claim(IP)]), ['claim']);
    assert.deepEqual(h.yields, [{ ip: IP, gen: 1, reason: 'claim', mac: RIVAL }]);
    assert.equal(await h.ask(IP), 'yielded');
    // The old addon re-added the address on the next answer() after 200 ms, or silently dropped it before.
    await h.clock.advance(1_000);
    assert.deepEqual(h.hold([{ ip: IP, gen: 1 }], Infinity, 0), [IP], 'a grant at the yielded generation is refused and says so');
    assert.deepEqual(h.hold([{ ip: IP, gen: 0 }], Infinity, 0), [IP], 'so is an older one');
    assert.equal(await h.ask(IP), 'yielded');
    assert.equal(h.link.announce(IP, 1), 'yielded');
    assert.deepEqual(h.hold([{ ip: IP, gen: 2 }], Infinity, 0), []);
    h.clear();
    assert.equal(await h.ask(IP), 'answered');
    assert.equal(h.link.announce(IP, 2), 'sent');
    assert.equal(h.sent.length, 3);
  });

  it('answers a fresh holding only once its first announcement is on the wire: the heir never speaks before it has claimed', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    assert.deepEqual(h.link.grant([{ ip: IP, gen: 1 }], Infinity, 0), []);
    assert.equal(await h.ask(IP), 'unannounced');
    assert.equal(h.sent.length, 0, 'no reply before the announcement');
    assert.equal(h.link.announce(IP, 1), 'sent');
    assert.equal(await h.ask(IP), 'answered');
    // On the wire: the gratuitous pair, then the reply.
    assert.deepEqual(
      h.sent.map((f) => {
        const d = decodeArpFrame(f);
        return d.ok ? `${d.value.operation}${d.value.senderIp === d.value.targetIp ? ' gratuitous' : ''}` : '?';
      }),
      ['request gratuitous', 'reply gratuitous', 'reply'],
    );
  });

  it('keeps answering a holding that goes on (a renewal, a newer generation of a held address) without a new announcement', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], 1_000, 0);
    h.link.grant([{ ip: IP, gen: 1 }], 5_000, 0);
    assert.equal(await h.ask(IP), 'answered', 'renewed');
    h.link.grant([{ ip: IP, gen: 2 }], 5_000, 5_000);
    assert.equal(await h.ask(IP), 'answered', 'confirmed at a newer generation');
  });

  it('after a yield or a revoke, a new holding is silent again until announced', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    assert.deepEqual(await h.drain([claim(IP)]), ['claim']);
    h.link.grant([{ ip: IP, gen: 2 }], Infinity, 0);
    assert.equal(await h.ask(IP), 'unannounced', 'held again after the yield, not yet announced');
    assert.equal(h.link.announce(IP, 2), 'sent');
    assert.equal(await h.ask(IP), 'answered');
    h.link.revoke([IP]);
    h.link.grant([{ ip: IP, gen: 3 }], Infinity, 0);
    assert.equal(await h.ask(IP), 'unannounced', 'granted afresh after a revoke');
  });

  it('an announcement the license refuses does not open answering', async () => {
    const h = new Harness();
    h.link.grant([{ ip: IP, gen: 1 }], Infinity, 0);
    assert.equal(h.link.announce(IP, 1), 'unlicensed', 'no heartbeat yet');
    h.link.heartbeat(10_000);
    assert.equal(await h.ask(IP), 'unannounced');
    assert.equal(h.link.announce(IP, 2), 'stale-generation');
    assert.equal(await h.ask(IP), 'unannounced');
  });

  it('keeps answering a defended address on a claim and reports a conflict; once the defence lapses, a claim yields', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 4 }], Infinity, 1_000);
    assert.deepEqual(await h.drain([claim(IP, RIVAL, 'reply')]), ['conflict']);
    assert.deepEqual(h.conflicts, [{ ip: IP, gen: 4, mac: RIVAL }]);
    assert.deepEqual(h.yields, []);
    assert.equal(await h.ask(IP), 'answered');
    assert.equal(h.link.announce(IP, 4), 'sent', 'JS re-announces to defend');
    await h.clock.advance(1_000);
    assert.deepEqual(await h.drain([claim(IP)]), ['claim']);
    assert.deepEqual(h.yields, [{ ip: IP, gen: 4, reason: 'claim', mac: RIVAL }]);
  });

  it('stops replies and announce() when the answer deadline passes; a grant sets the deadline exactly, shorter too (F2, F13)', async () => {
    const h = new Harness();
    h.link.heartbeat(100_000);
    h.hold([{ ip: IP, gen: 1 }], 500, 0);
    await h.clock.advance(499);
    assert.equal(await h.ask(IP), 'answered');
    assert.equal(h.link.announce(IP, 1), 'sent');
    await h.clock.advance(1);
    assert.equal(await h.ask(IP), 'unlicensed');
    assert.equal(h.link.announce(IP, 1), 'unlicensed');
    h.hold([{ ip: IP, gen: 1 }], 10_000, 0);
    assert.equal(await h.ask(IP), 'answered', 'a renewal at the same generation extends the license');
    h.hold([{ ip: IP, gen: 1 }], 10, 0);
    await h.clock.advance(10);
    assert.equal(await h.ask(IP), 'unlicensed', 'and a shorter one shortens it');
  });

  it('stops replies and announce() when heartbeats stop, even with an unlimited grant: a frozen event loop loses the right to answer (F2)', async () => {
    const h = new Harness();
    h.link.heartbeat(300);
    h.hold([{ ip: IP, gen: 1 }], Infinity, Infinity);
    await h.clock.advance(299);
    assert.equal(await h.ask(IP), 'answered');
    await h.clock.advance(1);
    assert.equal(await h.ask(IP), 'unlicensed');
    assert.equal(h.link.announce(IP, 1), 'unlicensed');
    assert.deepEqual(await h.drain([claim(IP)]), ['claim'], 'and without a heartbeat it cannot defend either');
  });

  it('honours a claim before answering any request of the same drain, however long the drain (F2 variant A)', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold(
      [
        { ip: IP, gen: 1 },
        { ip: OTHER, gen: 1 },
      ],
      Infinity,
      0,
    );
    const frames = [
      ...Array.from({ length: 100 }, () => request(IP)),
      claim(IP),
      ...Array.from({ length: 5 }, () => request(IP)),
      request(OTHER),
    ];
    const verdicts = await h.drain(frames);
    assert.deepEqual(verdicts, [
      ...Array<FrameVerdict>(100).fill('yielded'),
      'claim',
      ...Array<FrameVerdict>(5).fill('yielded'),
      'answered',
    ]);
    assert.equal(h.sent.length, 1, 'only the unrelated address is answered; the old 16-frame batches sent 16 stale replies');
    assert.equal(
      decodeArpFrame(h.sent[0] as Buffer).ok && (decodeArpFrame(h.sent[0] as Buffer) as { value: { senderIp: string } }).value.senderIp,
      OTHER,
    );
  });

  it('never answers a request older than the stale limit (250 ms), answers younger ones in the same drain', async () => {
    const h = new Harness();
    assert.equal(loadAddon().staleLimitMs, 250);
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    const now = h.clock.now();
    const verdicts = await h.drain([0, 100, 250, 251, 3_000].map((age) => ({ frame: request(IP), atMs: now - age })));
    assert.deepEqual(verdicts, ['answered', 'answered', 'answered', 'stale', 'stale']);
    assert.equal(h.sent.length, 3);
    assert.deepEqual(
      await h.drain([{ frame: request(IP), atMs: now + 5 }]),
      ['stale'],
      'a time from the future (a clock step) fails closed',
    );
  });

  it('after a stall, answers none of the requests queued during it, though the license still holds (SIGSTOP, F2)', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    const queued = Array.from({ length: 30 }, (_, i) => ({ frame: request(IP), atMs: h.clock.now() + i * 100 }));
    await h.clock.advance(3_000 + 29 * 100);
    assert.deepEqual(await h.drain([...queued, request(IP)]), [...Array<FrameVerdict>(30).fill('stale'), 'answered']);
  });

  it('on a kernel overrun yields every address it does not defend, spares defended ones, before answering the drain (F2 variant B)', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 3 }], Infinity, 0);
    h.hold([{ ip: OTHER, gen: 5 }], Infinity, 60_000);
    assert.deepEqual(await h.drain([request(IP), request(OTHER)], 2), ['yielded', 'answered']);
    assert.deepEqual(h.yields, [{ ip: IP, gen: 3, reason: 'overrun', mac: undefined }]);
    assert.equal(h.link.stats().kernelDrops, 2);
    assert.deepEqual(h.hold([{ ip: IP, gen: 4 }], Infinity, 0), [], 'JS re-confirms and grants a new generation');
    assert.equal(await h.ask(IP), 'answered');
  });

  it('judges a drain that fills the drain buffer as an overrun: the rest of the queue may hide a claim', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    const noise = request('192.0.2.77');
    await h.drain(Array.from({ length: loadAddon().drainMax }, () => noise));
    assert.deepEqual(h.yields, [{ ip: IP, gen: 1, reason: 'overrun', mac: undefined }]);
  });

  it('keeps 5,000 addresses apart: yields and grants in any order affect only their own address (F6: no 64-entry ring)', async () => {
    const h = new Harness();
    h.link.heartbeat(1_000_000);
    const ips = Array.from({ length: 5_000 }, (_, i) => `198.18.${i >> 8}.${i & 255}`);
    assert.deepEqual(
      h.hold(
        ips.map((ip) => ({ ip, gen: 1 })),
        Infinity,
        0,
      ),
      [],
    );
    assert.equal(h.link.stats().entries, 5_000);
    const rng = fc.sample(fc.integer({ min: 0, max: 4_999 }), { numRuns: 2_500, seed: 42 });
    const yielded = new Set(rng.map((i) => ips[i] as string));
    const claims = [...yielded].map((ip) => claim(ip));
    for (let i = 0; i < claims.length; i += 97) await h.drain(claims.slice(i, i + 97));
    assert.equal(h.yields.length, yielded.size);
    // JS, still working through the yield events, re-grants everything it believes it holds at the old generation.
    const refused = h.hold(
      ips.map((ip) => ({ ip, gen: 1 })),
      Infinity,
      0,
    );
    assert.deepEqual(new Set(refused), yielded);
    h.clear();
    const verdicts = await h.drain(ips.map((ip) => request(ip)));
    verdicts.forEach((v, i) => {
      assert.equal(v, yielded.has(ips[i] as string) ? 'yielded' : 'answered', ips[i]);
    });
    assert.equal(h.sent.length, 5_000 - yielded.size);
    const revoked = ips.filter((_, i) => i % 3 === 0).reverse();
    h.link.revoke(revoked);
    assert.equal(h.link.stats().entries, 5_000 - revoked.length);
    const after = await h.drain(ips.map((ip) => request(ip)));
    after.forEach((v, i) => {
      const ip = ips[i] as string;
      assert.equal(v, i % 3 === 0 ? 'not-held' : yielded.has(ip) ? 'yielded' : 'answered', ip);
    });
  });

  it('ignores OTHERHOST and VLAN-tagged frames entirely: neither answers nor claims (F11)', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    const verdicts = await h.drain([
      { frame: claim(IP), pktType: 'otherhost' },
      { frame: claim(IP), vlan: 200 },
      { frame: request(IP), pktType: 'otherhost' },
      { frame: request(IP), vlan: 200 },
    ]);
    assert.deepEqual(verdicts, ['other-host', 'vlan', 'other-host', 'vlan']);
    assert.deepEqual(h.yields, []);
    assert.equal(h.sent.length, 0);
    assert.equal(await h.ask(IP), 'answered');
  });

  it('calls op 3 with our address as sender malformed, never a claim (F11)', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    const op3 = claim(IP);
    op3.writeUInt16BE(3, 20);
    assert.deepEqual(await h.drain([op3]), ['malformed']);
    assert.deepEqual(h.yields, []);
    assert.equal(await h.ask(IP), 'answered');
  });

  it('calls an ARP probe (sender 0.0.0.0) a probe, never a claim; a probe for a held address is answered, as the kernel does', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    assert.deepEqual(await h.drain([request('192.0.2.77', RIVAL, '0.0.0.0'), request(IP, RIVAL, '0.0.0.0')]), ['probe', 'answered']);
    assert.deepEqual(h.yields, []);
    assert.equal(
      h.sent[0]?.toString('hex'),
      '02ba7000000c' +
        '02ba7000000b' +
        '0806' +
        '0001' +
        '0800' +
        '06' +
        '04' +
        '0002' +
        '02ba7000000b' +
        'c00002c8' +
        '02ba7000000c' +
        '00000000' +
        '00'.repeat(18),
    );
  });

  it('calls frames with our MAC as Ethernet source or ARP sender own-frame, never a claim', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    const ethOurs = claim(IP);
    Buffer.from('02ba7000000b', 'hex').copy(ethOurs, 6);
    const shaOurs = claim(IP);
    Buffer.from('02ba7000000b', 'hex').copy(shaOurs, 22);
    assert.deepEqual(await h.drain([ethOurs, shaOurs, { frame: claim(IP), pktType: 'outgoing' }]), ['own-frame', 'own-frame', 'own-frame']);
    assert.deepEqual(h.yields, []);
    assert.equal(await h.ask(IP), 'answered');
  });

  it('replies byte for byte: unicast to the asker, our MAC as Ethernet source and ARP sender', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    await h.ask(IP);
    assert.equal(
      h.sent.map((b) => b.toString('hex')).join(),
      '02ba70000064' + // Ethernet destination: the asker
        '02ba7000000b' + // Ethernet source: us
        '0806' +
        '0001' +
        '0800' +
        '06' +
        '04' +
        '0002' + // ARP reply
        '02ba7000000b' +
        'c00002c8' + // sender: us, 192.0.2.200
        '02ba70000064' +
        'c0000264' + // target: the asker, 192.0.2.100
        '00'.repeat(18),
    );
  });

  it('announce() sends both RFC 5227 forms byte for byte, only at the granted generation', () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    assert.equal(h.link.announce(IP, 1), 'not-held');
    h.hold([{ ip: IP, gen: 7 }], Infinity, 0);
    assert.equal(h.link.announce(IP, 6), 'stale-generation');
    assert.equal(h.sent.length, 0);
    assert.equal(h.link.announce(IP, 7), 'sent');
    assert.deepEqual(
      h.sent.map((b) => b.toString('hex')),
      [
        'ffffffffffff' +
          '02ba7000000b' +
          '0806' +
          '0001080006040001' +
          '02ba7000000b' +
          'c00002c8' +
          '000000000000' +
          'c00002c8' +
          '00'.repeat(18),
        'ffffffffffff' +
          '02ba7000000b' +
          '0806' +
          '0001080006040002' +
          '02ba7000000b' +
          'c00002c8' +
          'ffffffffffff' +
          'c00002c8' +
          '00'.repeat(18),
      ],
    );
    assert.equal(h.link.announce('2001:db8::1', 1), 'not-held');
    h.hold([{ ip: '2001:db8::1', gen: 1 }], Infinity, 0);
    assert.equal(h.link.announce('2001:db8::1', 1), 'sent', 'IPv6: one unsolicited NA (ndp-link.test.ts)');
    assert.equal(h.sent.length, 3);
  });

  it('stops answering at once on revoke, and forgets the address', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    assert.equal(await h.ask(IP), 'answered');
    h.link.revoke([IP, '192.0.2.99']);
    assert.equal(await h.ask(IP), 'not-held');
    assert.equal(h.link.announce(IP, 1), 'not-held');
    assert.deepEqual(await h.drain([claim(IP)]), ['foreign']);
    assert.equal(h.link.stats().entries, 0);
  });

  it('sends synchronously, reports events after the call returns, yields and conflicts before the frames of the same drain', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    h.hold([{ ip: OTHER, gen: 1 }], Infinity, 10_000);
    h.link.receive([{ frame: request(OTHER) }, { frame: claim(OTHER) }, { frame: claim(IP) }]);
    assert.deepEqual(h.order, ['send'], 'the reply for the defended address is out, no handler has run yet');
    await h.clock.advance(0);
    assert.deepEqual(h.order, ['send', `conflict ${OTHER}`, `yielded ${IP}`, 'frame answered', 'frame conflict', 'frame claim']);
  });

  it('lets event handlers call the link again', async () => {
    const clock = new FakeClock(0);
    let refusedInHandler: string[] | undefined;
    const link: VirtualLink = new VirtualLink({
      name: 'eth0',
      mac: OURS,
      clock,
      onSend: () => undefined,
      events: {
        yielded: (ip, gen) => {
          refusedInHandler = link.grant([{ ip, gen }], Infinity, 0);
        },
        conflict: () => undefined,
      },
    });
    link.heartbeat(1_000);
    link.grant([{ ip: IP, gen: 1 }], Infinity, 0);
    link.receive([{ frame: claim(IP) }]);
    await clock.advance(0);
    assert.deepEqual(refusedInHandler, [IP]);
  });

  it('counts what happened', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    await h.drain([request(IP), request(IP), request('192.0.2.77'), claim(IP)], 4);
    assert.deepEqual(h.link.stats(), { framesRead: 4, eventsDropped: 0, kernelDrops: 4, repliesSent: 0, entries: 1 });
    h.hold([{ ip: IP, gen: 2 }], Infinity, 0);
    await h.drain([request(IP)]);
    assert.deepEqual(h.link.stats(), { framesRead: 5, eventsDropped: 0, kernelDrops: 4, repliesSent: 1, entries: 1 });
  });

  it('refuses bad input instead of guessing', () => {
    const h = new Harness();
    assert.throws(() => h.hold([{ ip: IP, gen: 1 }], Number.NaN, 0), TypeError);
    assert.throws(() => h.hold([{ ip: 'not-an-ip', gen: 1 }], 1, 0), TypeError);
    assert.throws(() => h.hold([{ ip: IP, gen: 2 ** 32 }], 1, 0), RangeError);
    assert.throws(() => h.hold([{ ip: IP, gen: 1.5 }], 1, 0), RangeError);
    assert.throws(() => h.link.receive([{ frame: Buffer.alloc(60) }], Number.NaN), TypeError);
    assert.equal(h.link.stats().entries, 0, 'a refused call changes nothing');
  });

  it('throws EBADF once closed and delivers nothing still pending', async () => {
    const h = new Harness();
    h.link.heartbeat(10_000);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    h.link.receive([{ frame: claim(IP) }]);
    h.link.close();
    await h.clock.advance(0);
    assert.deepEqual(h.yields, []);
    assert.throws(() => h.link.heartbeat(1), { code: 'EBADF' });
    h.link.close();
  });

  it('yields exactly on the one claim predicate the TS decoder agrees with, for any frame (property)', () => {
    const mac = fc.constantFrom(OURS, RIVAL, CLIENT);
    const ip = fc.constantFrom(IP, OTHER, '0.0.0.0', CLIENT_IP);
    fc.assert(
      fc.property(
        fc.record({
          op: fc.constantFrom(0, 1, 2, 3, 4, 0x0101),
          ethSource: mac,
          sha: mac,
          spa: ip,
          tpa: ip,
          pktType: fc.constantFrom('host', 'broadcast', 'multicast', 'otherhost', 'outgoing') as fc.Arbitrary<VirtualFrame['pktType']>,
          vlan: fc.option(fc.integer({ min: 0, max: 4095 }), { nil: undefined }),
          cut: fc.integer({ min: 0, max: 70 }),
        }),
        ({ op, ethSource, sha, spa, tpa, pktType, vlan, cut }) => {
          const clock = new FakeClock(0);
          let yields = 0;
          const link = new VirtualLink({
            name: 'eth0',
            mac: OURS,
            clock,
            onSend: () => undefined,
            events: { yielded: () => yields++, conflict: () => undefined },
          });
          link.heartbeat(1_000);
          link.grant([{ ip: IP, gen: 1 }], Infinity, 0);
          const frame = encodeArpFrame({
            operation: 'request',
            ethernetSource: ethSource,
            ethernetDestination: 'ff:ff:ff:ff:ff:ff',
            senderMac: sha,
            senderIp: spa,
            targetMac: '00:00:00:00:00:00',
            targetIp: tpa,
          });
          frame.writeUInt16BE(op, 20);
          const bytes = frame.subarray(0, Math.min(frame.length, cut === 70 ? 60 : cut));
          link.receive([{ frame: bytes, pktType, vlan }]);
          const decoded = decodeArpFrame(bytes);
          const isClaim =
            decoded.ok &&
            decoded.value.senderIp === IP &&
            decoded.value.senderMac !== OURS &&
            decoded.value.ethernetSource !== OURS &&
            vlan === undefined &&
            (pktType === 'host' || pktType === 'broadcast' || pktType === 'multicast');
          // The yield itself is synchronous in C; announce() tells whether it happened.
          assert.equal(link.announce(IP, 1) === 'yielded', isClaim);
          link.close();
          assert.equal(yields, 0, 'events arrive only after the call');
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('survives arbitrary bytes as frames (fuzz)', () => {
    const h = new Harness();
    h.link.heartbeat(1e9);
    h.hold([{ ip: IP, gen: 1 }], Infinity, 0);
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), fc.nat(5), (frames, drops) => {
        h.link.receive(
          frames.map((f) => ({ frame: Buffer.from(f) })),
          drops,
        );
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('real links refuse what they cannot open', () => {
  it('AfPacketLink: an interface that does not exist is ENODEV', () => {
    assert.throws(() => new AfPacketLink('baton-none0', { yielded: () => undefined, conflict: () => undefined }), { code: 'ENODEV' });
  });

  it('PacketSocket: the loopback is not Ethernet (or, without CAP_NET_RAW, not allowed)', () => {
    assert.throws(
      () => PacketSocket.open('lo'),
      (err: NodeJS.ErrnoException) => err.code === 'EAFNOSUPPORT' || err.code === 'EPERM',
    );
  });
});
