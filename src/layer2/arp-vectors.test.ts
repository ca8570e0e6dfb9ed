import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../testing/fake-clock.js';
import type { FrameVerdict } from './link.js';
import { decodeArpFrame, encodeArpFrame, gratuitousArp } from './packet/arp.js';
import { ARP_VECTORS, VECTOR_TABLE } from './packet/arp-vectors.js';
import { VirtualLink } from './virtual-link.js';

const RIVAL = '02:ba:70:00:00:0c';

/** A link whose table is VECTOR_TABLE, with nothing sent or reported yet. */
async function vectorLink(): Promise<{ link: VirtualLink; clock: FakeClock; sent: Buffer[]; seen: string[]; verdicts: FrameVerdict[] }> {
  const clock = new FakeClock(10_000);
  const sent: Buffer[] = [];
  const seen: string[] = [];
  const verdicts: FrameVerdict[] = [];
  const link = new VirtualLink({
    name: 'eth0',
    mac: VECTOR_TABLE.ourMac,
    clock,
    onSend: (f) => sent.push(f),
    events: {
      frame: (_f, v) => verdicts.push(v),
      yielded: (ip) => seen.push(`yielded ${ip}`),
      conflict: (ip) => seen.push(`conflict ${ip}`),
    },
  });
  link.heartbeat(60_000);
  assert.deepEqual(link.grant([{ ip: VECTOR_TABLE.held, gen: 1 }], Infinity, 0), []);
  assert.deepEqual(link.grant([{ ip: VECTOR_TABLE.yielded, gen: 1 }], Infinity, 0), []);
  assert.deepEqual(link.grant([{ ip: VECTOR_TABLE.defended, gen: 1 }], Infinity, 60_000), []);
  assert.deepEqual(link.grant([{ ip: VECTOR_TABLE.expired, gen: 1 }], 10, 0), []);
  // What the speaker does: announce what it starts holding (a holding is answered once announced).
  for (const ip of [VECTOR_TABLE.held, VECTOR_TABLE.yielded, VECTOR_TABLE.defended, VECTOR_TABLE.expired])
    assert.equal(link.announce(ip, 1), 'sent');
  assert.deepEqual(link.grant([{ ip: VECTOR_TABLE.unannounced, gen: 1 }], Infinity, 0), []);
  link.receive([{ frame: encodeArpFrame(gratuitousArp(VECTOR_TABLE.yielded, RIVAL, 'request')) }]);
  await clock.advance(20);
  assert.deepEqual(seen, [`yielded ${VECTOR_TABLE.yielded}`]);
  sent.length = 0;
  seen.length = 0;
  verdicts.length = 0;
  return { link, clock, sent, seen, verdicts };
}

describe('shared ARP vectors', () => {
  for (const v of ARP_VECTORS) {
    it(`reader: ${v.name} -> ${v.verdict}`, async () => {
      const { link, clock, sent, seen, verdicts } = await vectorLink();
      const frame = Buffer.from(v.hex, 'hex');
      link.receive([{ frame, atMs: clock.now() - (v.ageMs ?? 0), pktType: v.pktType, vlan: v.vlan }]);
      await clock.advance(0);
      assert.deepEqual(verdicts, [v.verdict]);
      assert.deepEqual(
        sent.map((b) => b.toString('hex')),
        v.reply === undefined ? [] : [v.reply],
      );
      const ip = decodeArpFrame(frame);
      assert.deepEqual(seen, v.event === undefined ? [] : [`${v.event} ${ip.ok ? ip.value.senderIp : '?'}`]);
      link.close();
    });

    it(`decoder: ${v.name} -> ${v.decoder}`, () => {
      const d = decodeArpFrame(Buffer.from(v.hex, 'hex'));
      assert.equal(d.ok ? 'ok' : d.reason, v.decoder);
      // Where the decoder refuses a frame, the reader calls it malformed or vlan, never anything it would act on.
      if (!d.ok) assert.ok(v.verdict === 'malformed' || v.verdict === 'vlan', v.verdict);
    });
  }
});
