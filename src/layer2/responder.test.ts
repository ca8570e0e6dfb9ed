import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../observability/logger.js';
import { FakeClock } from '../testing/fake-clock.js';
import type { FrameVerdict, YieldReason } from './link.js';
import type { MembershipOp, MembershipSocket, OpenMembershipSocket } from './multicast-groups.js';
import { type ArpFrame, decodeArpFrame, encodeArpFrame, gratuitousArp } from './packet/arp.js';
import { encodeNdpFrame, unsolicitedAdvertisement } from './packet/ndp.js';
import { ArpResponder, type ResponderMetrics } from './responder.js';
import { VirtualLink } from './virtual-link.js';

const OUR_MAC = '02:ba:70:00:00:0b';
const CLIENT_MAC = '02:ba:70:00:00:64';
const OTHER_MAC = '02:ba:70:00:00:0c';
const IP = '192.0.2.200';

function whoHas(ip: string): Buffer {
  return encodeArpFrame({
    operation: 'request',
    ethernetSource: CLIENT_MAC,
    ethernetDestination: 'ff:ff:ff:ff:ff:ff',
    senderMac: CLIENT_MAC,
    senderIp: '192.0.2.100',
    targetMac: '00:00:00:00:00:00',
    targetIp: ip,
  });
}

class CountingMetrics implements ResponderMetrics {
  verdicts: FrameVerdict[] = [];
  gratuitousSent: string[] = [];
  refused: string[] = [];
  membership: string[] = [];
  frame(v: FrameVerdict): void {
    this.verdicts.push(v);
  }
  gratuitous(ip: string): void {
    this.gratuitousSent.push(ip);
  }
  announceRefused(reason: string): void {
    this.refused.push(reason);
  }
  membershipFailed(op: MembershipOp, code: string): void {
    this.membership.push(`${op} ${code}`);
  }
}

function setup(options: { refreshIntervalMs?: number; membershipSocket?: OpenMembershipSocket } = {}) {
  const clock = new FakeClock();
  const sent: Array<{ t: number; frame: ArpFrame }> = [];
  const yields: Array<[string, number, YieldReason]> = [];
  const conflicts: Array<[string, number, string]> = [];
  const metrics = new CountingMetrics();
  let link: VirtualLink | undefined;
  const responder = new ArpResponder({
    open: (events) => {
      link = new VirtualLink({
        name: 'eth0',
        mac: OUR_MAC,
        clock,
        events,
        onSend: (f) => {
          const d = decodeArpFrame(f);
          assert.ok(d.ok);
          sent.push({ t: clock.now(), frame: d.value });
        },
      });
      return link;
    },
    clock,
    log: silentLogger(),
    metrics,
    events: {
      yielded: (ip, gen, reason) => yields.push([ip, gen, reason]),
      conflict: (ip, gen, mac) => conflicts.push([ip, gen, mac]),
      failed: () => {},
    },
    ...options,
  });
  responder.link.heartbeat(60_000);
  return { clock, sent, yields, conflicts, metrics, responder, link: link as VirtualLink };
}

const gratuitousTimes = (sent: Array<{ t: number; frame: ArpFrame }>) =>
  sent.filter((s) => s.frame.senderIp === s.frame.targetIp).map((s) => `${s.t}:${s.frame.operation}`);

describe('ArpResponder over the addon’s rules (VirtualLink)', () => {
  it('answers a licensed address from the reader, and sends the gratuitous burst at 0, 0.5, 1 and 2 s', async () => {
    const { clock, sent, responder, link, metrics } = setup();
    assert.ok(responder.license(IP, 1, 60_000, 60_000));
    responder.announce(IP);
    link.receive([{ frame: whoHas(IP) }]);
    await clock.advance(2_500);
    assert.deepEqual(gratuitousTimes(sent), [
      '0:request',
      '0:reply',
      '500:request',
      '500:reply',
      '1000:request',
      '1000:reply',
      '2000:request',
      '2000:reply',
    ]);
    const reply = sent.find((s) => s.frame.operation === 'reply' && s.frame.targetMac === CLIENT_MAC);
    assert.ok(reply !== undefined && reply.frame.senderMac === OUR_MAC, 'the reader replied with our MAC');
    assert.ok(metrics.verdicts.includes('answered'));
    assert.deepEqual(metrics.gratuitousSent, [IP, IP, IP, IP]);
  });

  it('re-announces on the refresh interval while it holds, and not after a withdraw', async () => {
    const { clock, sent, responder } = setup({ refreshIntervalMs: 10_000 });
    responder.license(IP, 1, 600_000, 600_000);
    responder.announce(IP);
    await clock.advance(25_000);
    assert.equal(gratuitousTimes(sent).filter((t) => t.startsWith('10000:') || t.startsWith('20000:')).length, 4);
    responder.withdraw(IP);
    const before = sent.length;
    await clock.advance(30_000);
    assert.equal(sent.length, before, 'nothing after the withdraw');
  });

  it('quiet (a hand-over): the pending burst and the refresh stop, requests are still answered', async () => {
    const { clock, sent, responder, link } = setup({ refreshIntervalMs: 10_000 });
    responder.license(IP, 1, 600_000, 600_000);
    responder.announce(IP);
    await clock.advance(600);
    responder.quiet(IP);
    await clock.advance(25_000);
    assert.deepEqual(gratuitousTimes(sent), ['0:request', '0:reply', '500:request', '500:reply'], 'nothing announced after quiet');
    link.receive([{ frame: whoHas(IP) }]);
    await clock.advance(10);
    assert.ok(
      sent.some((s) => s.frame.operation === 'reply' && s.frame.targetMac === CLIENT_MAC),
      'still answering',
    );
  });

  it('a claim by another MAC on an undefended address: the reader yields, JS is told, timers stop, stale grants are refused', async () => {
    const { clock, sent, responder, link, yields } = setup({ refreshIntervalMs: 1_000 });
    responder.license(IP, 3, 60_000, 0);
    responder.announce(IP);
    link.receive([{ frame: encodeArpFrame(gratuitousArp(IP, OTHER_MAC, 'reply')) }]);
    await clock.advance(1);
    assert.deepEqual(yields, [[IP, 3, 'claim']]);
    assert.equal(responder.holds(IP), false);
    const before = sent.length;
    link.receive([{ frame: whoHas(IP) }]);
    await clock.advance(5_000);
    assert.equal(sent.length, before, 'no reply, no more announcements after the yield');
    assert.equal(responder.license(IP, 3, 60_000, 0), false, 'the same generation is refused');
    assert.equal(responder.license(IP, 4, 60_000, 0), true, 'a newer one (after a confirmation) is held');
    assert.ok(responder.holds(IP));
  });

  it('a claim on a defended address is a conflict: the reader keeps answering', async () => {
    const { clock, sent, responder, link, conflicts } = setup();
    responder.license(IP, 2, 60_000, 60_000);
    responder.announce(IP);
    link.receive([{ frame: encodeArpFrame(gratuitousArp(IP, OTHER_MAC, 'request')) }]);
    await clock.advance(1);
    assert.deepEqual(conflicts, [[IP, 2, OTHER_MAC]]);
    link.receive([{ frame: whoHas(IP) }]);
    assert.ok(sent.some((s) => s.frame.operation === 'reply' && s.frame.targetMac === CLIENT_MAC));
    assert.equal(responder.reannounce(IP), 'sent');
  });

  it('a lapsed license stops replies and announcements, and the refusal is counted', async () => {
    const { clock, sent, responder, link, metrics } = setup();
    responder.license(IP, 1, 1_000, 1_000);
    await clock.advance(1_001);
    link.receive([{ frame: whoHas(IP) }]);
    assert.equal(responder.reannounce(IP), 'unlicensed');
    await clock.advance(1);
    assert.deepEqual(sent, []);
    assert.ok(metrics.verdicts.includes('unlicensed'));
    assert.deepEqual(metrics.refused, ['unlicensed']);
  });

  it('licenses many addresses at once and withdraws them all', () => {
    const { sent, responder, link } = setup();
    const ips = Array.from({ length: 50 }, (_, i) => `192.0.2.${i + 1}`);
    assert.deepEqual(
      responder.licenseMany(
        ips.map((ip) => ({ ip, gen: 1 })),
        60_000,
        60_000,
      ),
      [],
    );
    assert.equal(responder.addresses().length, 50);
    responder.withdrawAll();
    link.receive(ips.map((ip) => ({ frame: whoHas(ip) })));
    assert.deepEqual(sent, []);
    assert.equal(link.stats().entries, 0);
  });
});

/** Records the membership calls the responder makes; fails the joins of failJoin. */
function fakeMembership(failJoin?: string): { calls: string[]; open: OpenMembershipSocket } {
  const calls: string[] = [];
  const socket: MembershipSocket = {
    addMembership: (group) => {
      if (group === failJoin) throw Object.assign(new Error('addMembership ENOMEM'), { code: 'ENOMEM' });
      calls.push(`add ${group}`);
    },
    dropMembership: (group) => calls.push(`drop ${group}`),
    close: () => calls.push('close'),
  };
  return { calls, open: () => socket };
}

describe('ArpResponder: solicited-node groups of its IPv6 addresses', () => {
  // The same low 24 bits (00:00:c8), so the same group; IP (IPv4) needs none.
  const V6 = '2001:db8::c8';
  const V6_TWIN = '2001:db8:1::c8';
  const GROUP = 'ff02::1:ff00:c8';

  it('joins on the first grant, keeps the group while an address needs it, drops it with the last withdraw', () => {
    const m = fakeMembership();
    const { responder } = setup({ membershipSocket: m.open });
    assert.deepEqual(
      responder.licenseMany(
        [
          { ip: V6, gen: 1 },
          { ip: V6_TWIN, gen: 1 },
          { ip: IP, gen: 1 },
        ],
        60_000,
        60_000,
      ),
      [],
    );
    assert.ok(responder.license(V6, 2, 60_000, 60_000), 'a new generation');
    assert.deepEqual(m.calls, [`add ${GROUP}`], 'one join for two addresses, none for IPv4 or a renewal');
    responder.withdraw(V6);
    responder.withdraw(IP);
    assert.deepEqual(m.calls, [`add ${GROUP}`]);
    responder.withdraw(V6_TWIN);
    assert.deepEqual(m.calls, [`add ${GROUP}`, `drop ${GROUP}`]);
  });

  it('keeps the group over a yield (a newer grant may follow at once); withdrawAll drops it', async () => {
    const m = fakeMembership();
    const { clock, responder, link } = setup({ membershipSocket: m.open });
    responder.license(V6, 1, 60_000, 0);
    link.receive([{ frame: encodeNdpFrame(unsolicitedAdvertisement(V6, OTHER_MAC)) }]);
    await clock.advance(1);
    assert.equal(responder.holds(V6), false, 'yielded');
    assert.deepEqual(m.calls, [`add ${GROUP}`]);
    responder.withdrawAll();
    assert.deepEqual(m.calls, [`add ${GROUP}`, `drop ${GROUP}`]);
  });

  it('a failed join is counted and logged, and the address is answered all the same', () => {
    const m = fakeMembership(GROUP);
    const { responder, metrics } = setup({ membershipSocket: m.open });
    assert.ok(responder.license(V6, 1, 60_000, 60_000));
    assert.ok(responder.holds(V6));
    assert.deepEqual(metrics.membership, ['join ENOMEM']);
  });

  it('close closes the socket (the kernel drops its groups) and leaves nothing one by one', () => {
    const m = fakeMembership();
    const { responder } = setup({ membershipSocket: m.open });
    responder.license(V6, 1, 60_000, 60_000);
    responder.close();
    assert.deepEqual(m.calls, [`add ${GROUP}`, 'close']);
  });

  it('on a VirtualLink and no socket given, joins nothing (no interface to join on)', () => {
    const { responder, metrics } = setup();
    assert.ok(responder.license(V6, 1, 60_000, 60_000));
    responder.close();
    assert.deepEqual(metrics.membership, []);
  });
});
