import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../observability/logger.js';
import { FakeClock } from '../testing/fake-clock.js';
import { MemoryLeaseStore } from '../testing/memory-lease-store.js';
import { LeaderElector } from './leader-elector.js';

function contender(identity: string, store: MemoryLeaseStore, clock: FakeClock) {
  const events: string[] = [];
  const elector = new LeaderElector({
    identity,
    leaseName: 'baton-controller',
    store,
    clock,
    log: silentLogger(),
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    onStartedLeading: () => events.push(`${identity} started`),
    onStoppedLeading: () => events.push(`${identity} stopped`),
  });
  return { elector, events };
}

describe('LeaderElector', () => {
  it('elects exactly one of two contenders and keeps it while it renews', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const a = contender('a', store, clock);
    const b = contender('b', store, clock);
    a.elector.start();
    b.elector.start();
    await clock.advance(60_000);
    assert.equal([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean).length, 1);
    assert.equal(store.peek('baton-controller')?.holder, a.elector.isLeader() ? 'a' : 'b');
  });

  it('lets a standby take over only after the lease duration has passed on its own clock', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const a = contender('a', store, clock);
    a.elector.start();
    await clock.advance(1);
    assert.ok(a.elector.isLeader());
    // a dies silently: its loop stops renewing (simulated by making its reads fail forever is not needed; it just stops).
    (a.elector as unknown as { stopped: boolean }).stopped = true;
    const b = contender('b', store, clock);
    b.elector.start();
    await clock.advance(14_000);
    assert.equal(b.elector.isLeader(), false, 'not before 15 s of no change observed by b');
    await clock.advance(4_000);
    assert.equal(b.elector.isLeader(), true);
    assert.equal(store.peek('baton-controller')?.transitions, 1);
  });

  it('stops leading (and says so) when it cannot renew within the renew deadline, before the lease could expire for others', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const a = contender('a', store, clock);
    a.elector.start();
    await clock.advance(1);
    assert.ok(a.elector.isLeader());
    const cutAt = clock.now();
    store.unreachable = true;
    await clock.advance(9_000);
    assert.equal(a.elector.isLeader(), true);
    await clock.advance(2_100);
    assert.equal(a.elector.isLeader(), false, 'fenced at renewDeadline');
    assert.ok(clock.now() - cutAt < 15_000);
    assert.deepEqual(a.events, ['a started', 'a stopped']);
  });

  it('releases the lease on stop so a standby takes over at once', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const a = contender('a', store, clock);
    a.elector.start();
    await clock.advance(1);
    const b = contender('b', store, clock);
    b.elector.start();
    await clock.advance(2_000);
    const stopping = a.elector.stop();
    await clock.advance(2_000);
    await stopping;
    const releasedAt = clock.now();
    assert.equal(a.elector.isLeader(), false);
    assert.deepEqual(a.events, ['a started', 'a stopped']);
    await clock.advance(2_100);
    assert.equal(b.elector.isLeader(), true, 'within one retry period, not a full lease duration');
    assert.ok(clock.now() - releasedAt < 15_000);
    assert.equal(store.peek('baton-controller')?.holder, 'b');
  });

  it('refuses a renew deadline that is not shorter than the lease', () => {
    assert.throws(
      () =>
        new LeaderElector({
          identity: 'x',
          leaseName: 'l',
          store: new MemoryLeaseStore(),
          clock: new FakeClock(),
          log: silentLogger(),
          leaseDurationMs: 5_000,
          renewDeadlineMs: 5_000,
          onStartedLeading: () => {},
          onStoppedLeading: () => {},
        }),
      RangeError,
    );
  });
});
