import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock, TimerHandle } from '../clock.js';
import { DURATION_ANNOTATION } from '../k8s/lease-names.js';
import type { LeaseRecord } from '../k8s/lease-store.js';
import { FakeClock } from '../testing/fake-clock.js';
import { DEFAULT_HANDOVER_MS, LivenessTracker } from './liveness-tracker.js';
import { PeerExpiryAlarms } from './peer-expiry-alarms.js';

// The liveness duration the chart sets (1.5 s).
const DURATION_MS = 1_500;

function speakerLease(node: string, rv: string, holder = node): LeaseRecord {
  return {
    name: `baton-speaker-${node}`,
    holder,
    durationSeconds: 2,
    acquireTime: undefined,
    renewTime: undefined,
    transitions: 0,
    resourceVersion: rv,
    annotations: { [DURATION_ANNOTATION]: String(DURATION_MS) },
  };
}

/** A clock whose timers fire `earlyMs` before their time, as Node's whole-millisecond loop time can. */
class EarlyClock implements Clock {
  constructor(
    readonly inner: FakeClock,
    private readonly earlyMs: number,
  ) {}
  now(): number {
    return this.inner.now();
  }
  wallNow(): Date {
    return this.inner.wallNow();
  }
  // Early, but time still moves: a timer never fires at the very moment it was set.
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.inner.setTimeout(fn, Math.max(1, ms - this.earlyMs));
  }
  clearTimeout(h: TimerHandle): void {
    this.inner.clearTimeout(h);
  }
  sleep(ms: number): Promise<void> {
    return this.inner.sleep(ms);
  }
}

function setup(clock: Clock): { tracker: LivenessTracker; alarms: PeerExpiryAlarms; expired: Array<[string, number]> } {
  const tracker = new LivenessTracker(clock, DURATION_MS);
  const expired: Array<[string, number]> = [];
  const alarms = new PeerExpiryAlarms(clock, tracker, (node) => expired.push([node, clock.now()]));
  return { tracker, alarms, expired };
}

function observe(t: LivenessTracker, a: PeerExpiryAlarms, lease: LeaseRecord): void {
  const seen = t.observe(lease);
  if (seen !== undefined) a.watch(seen.node);
}

describe('PeerExpiryAlarms', () => {
  it('rings once, just after a speaker that stopped renewing expires', async () => {
    const clock = new FakeClock();
    const { tracker, alarms, expired } = setup(clock);
    observe(tracker, alarms, speakerLease('n1', '1'));
    await clock.advance(DURATION_MS);
    assert.deepEqual(expired, [], 'no ring before the expiry');
    await clock.advance(1);
    assert.deepEqual(expired, [['n1', DURATION_MS + 1]]);
    await clock.advance(10_000);
    assert.equal(expired.length, 1, 'no second ring for the same expiry');
    assert.equal(clock.pendingTimers(), 0);
  });

  it('does not ring while the speaker keeps renewing, and rings after its last renewal', async () => {
    const clock = new FakeClock();
    const { tracker, alarms, expired } = setup(clock);
    for (let rv = 1; rv <= 10; rv++) {
      observe(tracker, alarms, speakerLease('n1', String(rv)));
      await clock.advance(500); // the chart's renew interval
    }
    assert.deepEqual(expired, []);
    assert.equal(clock.pendingTimers(), 1, 'one alarm per speaker, not one per renewal');
    await clock.advance(DURATION_MS);
    assert.deepEqual(expired, [['n1', 4_500 + DURATION_MS + 1]]);
  });

  it('still rings when timers fire early: the alarm is set again, never lost (a crashed speaker writes nothing more)', async () => {
    const fake = new FakeClock();
    const clock = new EarlyClock(fake, 2);
    const { tracker, alarms, expired } = setup(clock);
    observe(tracker, alarms, speakerLease('n1', '1'));
    await fake.advance(DURATION_MS + 10);
    assert.equal(expired.length, 1);
    const [node, at] = expired[0] as [string, number];
    assert.equal(node, 'n1');
    assert.ok(at >= DURATION_MS, `rang at ${at}, not before the expiry`);
  });

  it('does not ring while blind, does not spin, and rings a full duration after resuming', async () => {
    const clock = new FakeClock();
    const { tracker, alarms, expired } = setup(clock);
    observe(tracker, alarms, speakerLease('n1', '1'));
    tracker.setBlind(true);
    await clock.advance(10_000);
    assert.deepEqual(expired, [], 'seeing nothing is no evidence of death');
    alarms.watch('n1');
    assert.equal(clock.pendingTimers(), 0, 'no alarm for an expiry in the past while blind');
    tracker.setBlind(false);
    alarms.resume();
    await clock.advance(DURATION_MS + 1);
    assert.deepEqual(expired, [['n1', 10_000 + DURATION_MS + 1]]);
  });

  it('rings for a released lease when its leaver’s hand-over time is over; a deleted lease still expires on time (a live speaker re-creates it first)', async () => {
    const clock = new FakeClock();
    const { tracker, alarms, expired } = setup(clock);
    observe(tracker, alarms, speakerLease('n1', '1', ''));
    observe(tracker, alarms, speakerLease('n2', '1'));
    assert.deepEqual(alarms.armed(), ['n1', 'n2'], 'n1 is leaving: its IPs are looked at again when it has stopped answering');
    assert.equal(tracker.deleted('baton-speaker-n2'), 'n2');
    assert.ok(tracker.live('n2'), 'a deleted lease is no sign of death');
    alarms.watch('n2');
    await clock.advance(10_000);
    assert.deepEqual(
      expired,
      [
        ['n2', DURATION_MS + 1],
        ['n1', DEFAULT_HANDOVER_MS + 1],
      ],
      'n2 expires as if nothing had been deleted; n1 when its hand-over time is over',
    );
    tracker.deleted('baton-speaker-n2');
    assert.deepEqual(tracker.nodes(), ['n1'], 'an expired, deleted lease is forgotten');
  });

  it('rings for each of several speakers at its own expiry', async () => {
    const clock = new FakeClock();
    const { tracker, alarms, expired } = setup(clock);
    observe(tracker, alarms, speakerLease('n1', '1'));
    await clock.advance(300);
    observe(tracker, alarms, speakerLease('n2', '1'));
    await clock.advance(5_000);
    assert.deepEqual(expired, [
      ['n1', DURATION_MS + 1],
      ['n2', 300 + DURATION_MS + 1],
    ]);
  });
});
