// The shared NDP vectors (packet/ndp-vectors.ts) through the reader's C
// (a VirtualLink) and through the TS decoder; the reader's drop reason for
// every malformed ARP and NDP vector is the decoder's; and the C checksum is
// the TS checksum for any message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FakeClock } from '../testing/fake-clock.js';
import { loadAddon } from './addon.js';
import type { FrameVerdict } from './link.js';
import { decodeArpFrame } from './packet/arp.js';
import { ARP_VECTORS } from './packet/arp-vectors.js';
import type { DropReason } from './packet/drop-reason.js';
import { decodeNdpFrame, encodeNdpFrame, icmpv6Checksum, unsolicitedAdvertisement } from './packet/ndp.js';
import { NDP_VECTOR_TABLE, NDP_VECTORS } from './packet/ndp-vectors.js';
import { VirtualLink } from './virtual-link.js';

const RIVAL = '02:ba:70:00:00:0c';

interface Seen {
  link: VirtualLink;
  clock: FakeClock;
  sent: Buffer[];
  events: string[];
  frames: Array<[FrameVerdict, DropReason | undefined]>;
}

/** A link whose table is NDP_VECTOR_TABLE, with nothing sent or reported yet. */
async function vectorLink(): Promise<Seen> {
  const clock = new FakeClock(10_000);
  const seen: Omit<Seen, 'link'> = { clock, sent: [], events: [], frames: [] };
  const link = new VirtualLink({
    name: 'eth0',
    mac: NDP_VECTOR_TABLE.ourMac,
    clock,
    onSend: (f) => seen.sent.push(f),
    events: {
      frame: (_f, v, reason) => seen.frames.push([v, reason]),
      yielded: (ip, _gen, reason, mac) => seen.events.push(`yielded ${ip} ${reason} ${mac}`),
      conflict: (ip, _gen, mac) => seen.events.push(`conflict ${ip} ${mac}`),
    },
  });
  link.heartbeat(60_000);
  assert.deepEqual(link.grant([{ ip: NDP_VECTOR_TABLE.held, gen: 1 }], Infinity, 0), []);
  assert.deepEqual(link.grant([{ ip: NDP_VECTOR_TABLE.yielded, gen: 1 }], Infinity, 0), []);
  assert.deepEqual(link.grant([{ ip: NDP_VECTOR_TABLE.defended, gen: 1 }], Infinity, 60_000), []);
  assert.deepEqual(link.grant([{ ip: NDP_VECTOR_TABLE.expired, gen: 1 }], 10, 0), []);
  // What the speaker does: announce what it starts holding (a holding is answered once announced).
  for (const ip of [NDP_VECTOR_TABLE.held, NDP_VECTOR_TABLE.yielded, NDP_VECTOR_TABLE.defended, NDP_VECTOR_TABLE.expired])
    assert.equal(link.announce(ip, 1), 'sent');
  assert.deepEqual(link.grant([{ ip: NDP_VECTOR_TABLE.unannounced, gen: 1 }], Infinity, 0), []);
  link.receive([{ frame: encodeNdpFrame(unsolicitedAdvertisement(NDP_VECTOR_TABLE.yielded, RIVAL)) }]);
  await clock.advance(20);
  assert.deepEqual(seen.events, [`yielded ${NDP_VECTOR_TABLE.yielded} claim ${RIVAL}`]);
  seen.sent.length = 0;
  seen.events.length = 0;
  seen.frames.length = 0;
  return { link, ...seen };
}

describe('shared NDP vectors', () => {
  for (const v of NDP_VECTORS) {
    it(`reader: ${v.name} -> ${v.verdict}${v.verdict === 'malformed' ? ` (${v.decoder})` : ''}`, async () => {
      const { link, clock, sent, events, frames } = await vectorLink();
      link.receive([{ frame: Buffer.from(v.hex, 'hex'), atMs: clock.now() - (v.ageMs ?? 0), pktType: v.pktType, vlan: v.vlan }]);
      await clock.advance(0);
      assert.deepEqual(frames, [[v.verdict, v.verdict === 'malformed' ? v.decoder : undefined]]);
      assert.deepEqual(
        sent.map((b) => b.toString('hex')),
        v.reply === undefined ? [] : [v.reply],
      );
      const event =
        v.event === undefined
          ? []
          : [v.event.kind === 'yielded' ? `yielded ${v.event.ip} claim ${v.event.mac}` : `conflict ${v.event.ip} ${v.event.mac}`];
      assert.deepEqual(events, event);
      link.close();
    });

    it(`decoder: ${v.name} -> ${v.decoder}`, () => {
      const d = decodeNdpFrame(Buffer.from(v.hex, 'hex'));
      assert.equal(d.ok ? 'ok' : d.reason, v.decoder);
      // Where the decoder refuses a frame, the reader calls it malformed, never anything it would act on.
      if (!d.ok) assert.equal(v.verdict, 'malformed');
      // And what the reader sends, the decoder reads as a valid NA from us.
      if (v.reply !== undefined) {
        const r = decodeNdpFrame(Buffer.from(v.reply, 'hex'));
        assert.ok(r.ok && r.value.type === 'advertisement' && r.value.targetLinkLayer === NDP_VECTOR_TABLE.ourMac);
      }
    });
  }

  it('every NDP drop reason the decoder has is covered by a vector', () => {
    const covered = new Set(NDP_VECTORS.map((v) => v.decoder));
    const ndpReasons: DropReason[] = [
      'truncated-ipv6',
      'bad-ip-version',
      'not-icmpv6',
      'not-ndp',
      'truncated-ndp',
      'bad-hop-limit',
      'bad-icmp-code',
      'bad-checksum',
      'multicast-source',
      'multicast-target',
      'bad-option-length',
      'bad-link-layer-option',
      'source-lla-from-unspecified',
      'bad-destination',
      'solicited-to-multicast',
    ];
    assert.deepEqual(
      ndpReasons.filter((r) => !covered.has(r)),
      [],
    );
  });
});

describe('the reader names the same drop reason as the ARP decoder', () => {
  for (const v of ARP_VECTORS.filter((x) => x.verdict === 'malformed')) {
    it(`${v.name} -> ${v.decoder}`, async () => {
      const { link, clock, frames } = await vectorLink();
      link.receive([{ frame: Buffer.from(v.hex, 'hex'), pktType: v.pktType, vlan: v.vlan }]);
      await clock.advance(0);
      const d = decodeArpFrame(Buffer.from(v.hex, 'hex'));
      assert.deepEqual(frames, [['malformed', d.ok ? undefined : d.reason]]);
      link.close();
    });
  }
});

describe('ICMPv6 checksum: C and TS agree', () => {
  it('on any pseudo-header and message, odd lengths included (property)', () => {
    const native = loadAddon();
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ maxLength: 1500 }),
        (src, dst, msg) => {
          const c = native.icmpv6Checksum(Buffer.from(src), Buffer.from(dst), Buffer.from(msg));
          assert.equal(c, icmpv6Checksum(src, dst, msg));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('on a 65,535-byte message of 0xff (the longest an IPv6 payload carries)', () => {
    const msg = Buffer.alloc(0xffff, 0xff);
    const ones = Buffer.alloc(16, 0xff);
    assert.equal(loadAddon().icmpv6Checksum(ones, ones, msg), icmpv6Checksum(ones, ones, msg));
  });

  it('refuses addresses that are not 16 bytes', () => {
    assert.throws(() => loadAddon().icmpv6Checksum(Buffer.alloc(4), Buffer.alloc(16), Buffer.alloc(0)), TypeError);
  });
});
