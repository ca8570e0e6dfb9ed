import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DURATION_ANNOTATION, HANDOVER_ANNOTATION, HEARTBEAT_ANNOTATION, POOLS_ANNOTATION, QUIET_ANNOTATION } from '../k8s/lease-names.js';
import type { LeaseRecord } from '../k8s/lease-store.js';
import { silentLogger } from '../observability/logger.js';
import { FakeClock } from '../testing/fake-clock.js';
import { MemoryLeaseStore } from '../testing/memory-lease-store.js';
import { LivenessRenewer } from './liveness-renewer.js';
import { DEFAULT_HANDOVER_MS, LivenessTracker } from './liveness-tracker.js';

function speakerLease(
  node: string,
  rv: string,
  holder = node,
  annotations: Record<string, string> = { [DURATION_ANNOTATION]: '1500' },
): LeaseRecord {
  return {
    name: `baton-speaker-${node}`,
    holder,
    durationSeconds: 2,
    acquireTime: undefined,
    renewTime: '2099-01-01T00:00:00.000000Z',
    transitions: 0,
    resourceVersion: rv,
    annotations,
  };
}

describe('LivenessTracker', () => {
  it('a node its heartbeats call silent is not live before its Lease expires once the Lease went its declared quiet time unrenewed, unless blind', async () => {
    const clock = new FakeClock();
    const t = new LivenessTracker(clock, 1_500);
    const silent = new Set<string>();
    const renewals: string[] = [];
    t.judgeSilenceBy(
      (n) => silent.has(n),
      (n) => renewals.push(n),
    );
    const beating = { [DURATION_ANNOTATION]: '1500', [HEARTBEAT_ANNOTATION]: '192.0.2.11:7474', [QUIET_ANNOTATION]: '700' };
    t.observe(speakerLease('n1', '1', 'n1', beating));
    t.observe(speakerLease('n2', '1'));
    assert.deepEqual(t.liveNodes(), ['n1', 'n2']);
    silent.add('n1');
    silent.add('n2');
    await clock.advance(699);
    assert.equal(t.live('n1'), true, 'silent, but its Lease was renewed within the quiet time: lost datagrams alone kill nobody');
    assert.equal(t.quietAt('n1'), 700);
    await clock.advance(1);
    assert.equal(t.live('n1'), false);
    assert.deepEqual(t.liveNodes(), ['n2'], 'a node that declares no quiet time is judged by its Lease alone');
    assert.equal(t.quietAt('n2'), undefined);
    assert.equal(t.liveSince('n1'), undefined, 'a silent node is not settled either');
    t.setBlind(true);
    assert.equal(t.live('n1'), true, 'blind: nobody is judged dead, by Lease or by heartbeats');
    t.setBlind(false);
    silent.delete('n1');
    assert.equal(t.live('n1'), true, 'not silent: live until its Lease expires');
    silent.add('n1');
    t.observe(speakerLease('n1', '2', 'n1', beating));
    assert.equal(t.live('n1'), true, 'a renewal starts the quiet time afresh');
    t.observe(speakerLease('n1', '2', 'n1', beating));
    assert.deepEqual(renewals, ['n1', 'n2', 'n1'], 'every version not seen before, once');
    assert.equal(t.heartbeatEndpoint('n1'), '192.0.2.11:7474');
    assert.equal(t.heartbeatEndpoint('n2'), undefined, 'a speaker without the annotation takes no beats');
  });

  it('counts the duration from when it saw the lease change, on its own clock, never from renewTime', async () => {
    const clock = new FakeClock();
    const t = new LivenessTracker(clock, 3_000);
    t.observe(speakerLease('n1', '1'));
    await clock.advance(1_400);
    assert.equal(t.live('n1'), true);
    t.observe(speakerLease('n1', '1'));
    await clock.advance(200);
    assert.equal(t.live('n1'), false, 'the same version again is no sign of life (renewTime far in the future is ignored)');
    t.observe(speakerLease('n1', '2'));
    assert.equal(t.live('n1'), true);
    assert.equal(t.expiresAt('n1'), clock.now() + 1_500);
  });

  it('keeps a leaving speaker’s IP Leases standing for the hand-over time it declares, counted from the first sighting of its release', async () => {
    const clock = new FakeClock();
    const t = new LivenessTracker(clock, 1_500);
    t.observe(speakerLease('n1', '1'));
    assert.equal(t.leavingUntil('n1'), undefined, 'holding its lease: not leaving');
    await clock.advance(300);
    t.observe(speakerLease('n1', '2', '', { [HANDOVER_ANNOTATION]: '2000' }));
    assert.equal(t.live('n1'), false, 'not live: no IP is handed to it, it ranks nowhere');
    assert.equal(t.leavingUntil('n1'), 2_300);
    assert.equal(t.expiresAt('n1'), 2_300, 'its IPs are looked at again when its hand-over time is over');
    assert.equal(t.holdsIps('n1'), true, 'but its IP Leases stand: it hands them over itself');
    await clock.advance(200);
    t.observe(speakerLease('n1', '3', '', { [HANDOVER_ANNOTATION]: '2000' }));
    assert.equal(t.leavingUntil('n1'), 2_300, 'a later version of the released lease keeps the first sighting');
    await clock.advance(1_799);
    assert.equal(t.holdsIps('n1'), true);
    await clock.advance(1);
    assert.equal(t.holdsIps('n1'), false, 'over: it has stopped answering by itself, its IPs may be taken');
    t.observe(speakerLease('n2', '1', ''));
    assert.equal(t.leavingUntil('n2'), 2_300 + DEFAULT_HANDOVER_MS, 'a release that says nothing: the default hand-over time');
    t.observe(speakerLease('n1', '4'));
    assert.equal(t.leavingUntil('n1'), undefined, 'back (a new speaker on the node)');
    assert.equal(t.holdsIps('n1'), true);
  });

  it('treats a released lease (no holder) as not live', () => {
    const t = new LivenessTracker(new FakeClock(), 3_000);
    t.observe(speakerLease('n1', '1', ''));
    assert.equal(t.live('n1'), false);
  });

  it('reports real changes (new speaker, release, other pools) apart from renewals (a version not seen before)', () => {
    const t = new LivenessTracker(new FakeClock(), 3_000);
    assert.deepEqual(t.observe(speakerLease('n1', '1')), { node: 'n1', changed: true, renewed: true });
    assert.deepEqual(t.observe(speakerLease('n1', '2')), { node: 'n1', changed: false, renewed: true }, 'a renewal: proof of life only');
    assert.deepEqual(t.observe(speakerLease('n1', '2')), { node: 'n1', changed: false, renewed: false }, 'the same version again');
    assert.deepEqual(t.observe(speakerLease('n1', '3', 'n1', { [POOLS_ANNOTATION]: 'a' })), { node: 'n1', changed: true, renewed: true });
    assert.equal(t.observe({ ...speakerLease('x', '1'), name: 'baton-ip-192-0-2-1' }), undefined, 'IP leases are not speakers');
  });

  it('assumes everyone alive while blind, and gives everyone a fresh duration when it sees again', async () => {
    const clock = new FakeClock();
    const t = new LivenessTracker(clock, 3_000);
    t.observe(speakerLease('n1', '1'));
    t.setBlind(true);
    await clock.advance(60_000);
    assert.equal(t.live('n1'), true, 'not seeing is no evidence of death');
    t.setBlind(false);
    assert.equal(t.live('n1'), true);
    await clock.advance(1_499);
    assert.equal(t.live('n1'), true);
    await clock.advance(2);
    assert.equal(t.live('n1'), false, 'and a silent speaker expires a full duration later');
  });
});

describe('LivenessRenewer', () => {
  function renewer(store: MemoryLeaseStore, clock: FakeClock, onHealth: (h: boolean) => void = () => {}) {
    return new LivenessRenewer({
      node: 'n1',
      store,
      clock,
      log: silentLogger(),
      durationMs: 1_500,
      renewIntervalMs: 500,
      renewDeadlineMs: 1_000,
      handoverMs: 3_000,
      annotations: () => ({ [POOLS_ANNOTATION]: 'pool' }),
      onHealthChange: onHealth,
    });
  }

  it('creates, then renews its lease every interval: one write per interval, whatever else happens', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const r = renewer(store, clock);
    r.start();
    await clock.advance(10_000);
    assert.equal(store.writes, 21, 'the first at 0, then every 500 ms');
    const lease = store.peek('baton-speaker-n1');
    assert.equal(lease?.holder, 'n1');
    assert.equal(lease?.annotations?.[DURATION_ANNOTATION], '1500');
    assert.equal(lease?.annotations?.[POOLS_ANNOTATION], 'pool');
    assert.deepEqual(lease?.labels, { 'app.kubernetes.io/managed-by': 'baton', 'baton.dev/lease-kind': 'speaker' });
    await r.stop();
  });

  it('turns unhealthy exactly at the renew deadline, even while a renewal hangs, and healthy again on success', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const changes: boolean[] = [];
    const r = renewer(store, clock, (h) => changes.push(h));
    r.start();
    await clock.advance(100);
    assert.equal(r.healthy(), true);
    // The renewal at 0 succeeded; from now on they fail (the one at 500 ms, the one at 1000 ms...).
    store.unreachable = true;
    await clock.advance(899);
    assert.equal(r.healthy(), true, 'still inside the deadline of the renewal at 0');
    await clock.advance(2);
    assert.equal(r.healthy(), false, 'unhealthy at 1000 ms, not later');
    store.unreachable = false;
    await clock.advance(600);
    assert.equal(r.healthy(), true);
    assert.deepEqual(changes, [true, false, true]);
    await r.stop();
  });

  it('releases its lease on shutdown, saying how long it still hands its IPs over', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const r = renewer(store, clock);
    r.start();
    await clock.advance(100);
    await r.release();
    assert.equal(store.peek('baton-speaker-n1')?.holder, '');
    assert.equal(store.peek('baton-speaker-n1')?.annotations?.[HANDOVER_ANNOTATION], '3000');
    assert.equal(r.healthy(), false);
  });

  it('the slow Lease: retried a second after a failure, written at once when asked, with the labels it is given', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const r = new LivenessRenewer({
      node: 'n1',
      store,
      clock,
      log: silentLogger(),
      durationMs: 20_000,
      renewIntervalMs: 10_000,
      renewDeadlineMs: 15_000,
      retryIntervalMs: 1_000,
      handoverMs: 3_000,
      labels: { 'app.kubernetes.io/managed-by': 'baton', 'baton.dev/lease-kind': 'speaker', 'baton.dev/audience': 'n-1' },
      annotations: () => ({}),
    });
    r.start();
    await clock.advance(20_001);
    assert.equal(store.writes, 3, 'at 0, 10 s and 20 s');
    assert.equal(store.peek('baton-speaker-n1')?.labels?.['baton.dev/audience'], 'n-1');
    store.unreachable = true;
    await clock.advance(10_000);
    store.unreachable = false;
    const before = store.writes;
    await clock.advance(1_000);
    assert.equal(store.writes, before + 1, 'the failed renewal at 30 s is retried at 31 s, not at 40 s');
    await clock.advance(3_000);
    const asked = store.writes;
    r.renewSoon();
    await clock.advance(1);
    assert.equal(store.writes, asked + 1, 'asked: written at once');
    await clock.advance(9_998);
    assert.equal(store.writes, asked + 1, 'and the interval counts from there');
    await r.stop();
  });

  it('refuses timings where the holder could still answer after others may take over', () => {
    assert.throws(
      () =>
        new LivenessRenewer({
          node: 'n',
          store: new MemoryLeaseStore(),
          clock: new FakeClock(),
          log: silentLogger(),
          durationMs: 1_000,
          renewIntervalMs: 500,
          renewDeadlineMs: 1_000,
          handoverMs: 3_000,
          annotations: () => ({}),
        }),
      RangeError,
    );
  });
});
