import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IpDecision } from './ip-decision.js';
import {
  afterLinkDown,
  afterWrite,
  afterYield,
  HANDOVER_WINDOW_MS,
  type IpContext,
  type IpEffect,
  type IpState,
  transition,
  type WriteOutcome,
} from './ip-state.js';

const ctx: IpContext = {
  now: 10_000,
  epoch: 3,
  healthy: true,
  outageMode: true,
  iface: 'eth0',
  leaseAbsent: false,
  lastHolderWasMe: false,
  headStart: false,
  rankDelayMs: 200,
};

const IDLE: IpState = { kind: 'idle' };
const HOLDING: IpState = { kind: 'holding', gen: 4, epoch: 3, iface: 'eth0', since: 1_000 };
const HOLDING_OLD_EPOCH: IpState = { kind: 'holding', gen: 4, epoch: 2, iface: 'eth0', since: 1_000 };
const YIELDED: IpState = { kind: 'yielded', gen: 4, iface: 'eth0' };
const RELEASING: IpState = { kind: 'releasing', gen: 4, iface: 'eth0', since: 9_500 };
const WAITING: IpState = { kind: 'waiting', freeSince: 9_900 };
/** Won a released lease; its releaser's window ends at 10 900 (freeSince + HANDOVER_WINDOW_MS). */
const TAKING: IpState = { kind: 'taking', gen: 5, epoch: 3, iface: 'eth0', startsAt: 10_900 };

const HOLD: IpDecision = { action: 'hold' };
const RELEASE: IpDecision = { action: 'release', reason: 'not-eligible' };
const FOLLOW: IpDecision = { action: 'follow', holder: 'node-2' };
const ACQUIRE0: IpDecision = { action: 'acquire', rank: 0, previousHolder: 'node-2' };
const ACQUIRE1: IpDecision = { action: 'acquire', rank: 1, previousHolder: undefined };
const IDLE_UNHEALTHY: IpDecision = { action: 'idle', reason: 'unhealthy' };
const IDLE_INELIGIBLE: IpDecision = { action: 'idle', reason: 'not-eligible' };

const kinds = (effects: IpEffect[]): string[] => effects.map((e) => (e.kind === 'wake' ? `wake ${e.afterMs}` : e.kind));

// The table, one row per (state, decision, context) worth naming: next state kind and the effects in order.
const TABLE: Array<[string, IpState, IpDecision, Partial<IpContext>, string, string[]]> = [
  ['a restarted speaker whose lease names it confirms before answering', IDLE, HOLD, {}, 'idle', ['confirm']],
  ['an unhealthy speaker confirms nothing (it cannot write)', IDLE, HOLD, { healthy: false }, 'idle', []],
  ['a node without the pool’s interface does nothing', IDLE, HOLD, { iface: undefined }, 'idle', []],
  ['a confirmed holder in the current epoch does nothing more', HOLDING, HOLD, {}, 'holding', []],
  ['after a gap in renewals a holder confirms again before it defends', HOLDING_OLD_EPOCH, HOLD, {}, 'holding', ['confirm']],
  ['an unhealthy holder in outage mode keeps answering (undefended)', HOLDING, HOLD, { healthy: false }, 'holding', []],
  [
    'an unhealthy holder without outage mode falls silent at once',
    HOLDING,
    HOLD,
    { healthy: false, outageMode: false },
    'idle',
    ['silence'],
  ],
  ['a pool moved to another interface: silent here, confirm there next time', HOLDING, HOLD, { iface: 'eth1' }, 'idle', ['silence']],
  ['a yielded holder whose lease is still its own confirms, then answers again', YIELDED, HOLD, {}, 'yielded', ['confirm']],
  ['a holder no longer eligible releases the lease', HOLDING, RELEASE, {}, 'holding', ['release']],
  ['a releasing holder keeps waiting for its successor', RELEASING, RELEASE, {}, 'releasing', []],
  ['a holder that sees another live holder stops', HOLDING, FOLLOW, {}, 'idle', ['silence']],
  [
    'a releasing holder that sees its successor’s lease answers until its window is over (the successor waits for it)',
    RELEASING,
    FOLLOW,
    {},
    'releasing',
    ['wake 500'],
  ],
  ['a releasing holder stops when its window is over', RELEASING, FOLLOW, { now: 10_500 }, 'idle', ['silence']],
  ['a successor taking a released IP stays silent until the releaser’s window is over', TAKING, HOLD, {}, 'taking', ['wake 900']],
  [
    'a successor taking a released IP answers and announces once the window is over',
    TAKING,
    HOLD,
    { now: 10_900 },
    'holding',
    ['license', 'announce'],
  ],
  ['a successor that lost its health while taking confirms first', TAKING, HOLD, { now: 10_900, healthy: false }, 'yielded', ['wake 0']],
  ['a successor taking a released IP whose lease moved on stops', TAKING, FOLLOW, {}, 'idle', ['silence']],
  ['a successor that turns ineligible while taking releases the lease', TAKING, RELEASE, {}, 'taking', ['release']],
  ['a follower stays idle', IDLE, FOLLOW, {}, 'idle', []],
  ['rank 0 takes a free IP at once, checking first that the old holder stopped', IDLE, ACQUIRE0, {}, 'waiting', ['acquire']],
  ['rank 1 waits one rank delay first', IDLE, ACQUIRE1, {}, 'waiting', ['wake 200']],
  ['rank 1 goes when its turn comes', WAITING, ACQUIRE1, { now: 10_100 }, 'waiting', ['acquire']],
  [
    'the last holder still alive gets a rank’s head start when its lease vanished',
    IDLE,
    ACQUIRE1,
    { headStart: true },
    'waiting',
    ['wake 400'],
  ],
  [
    'a holder whose lease vanished takes it back at once, still answering',
    HOLDING,
    ACQUIRE0,
    { leaseAbsent: true, lastHolderWasMe: true },
    'holding',
    ['retake'],
  ],
  ['a holder whose lease names a dead other node stops', HOLDING, ACQUIRE0, {}, 'idle', ['silence']],
  [
    'in outage mode a holder whose lease vanished keeps answering',
    HOLDING,
    IDLE_UNHEALTHY,
    { healthy: false, lastHolderWasMe: true, leaseAbsent: true },
    'holding',
    [],
  ],
  ['an ineligible holder of a free IP stops', HOLDING, IDLE_INELIGIBLE, {}, 'idle', ['silence']],
  ['waiting ends when the node turns ineligible', WAITING, IDLE_INELIGIBLE, {}, 'idle', []],
];

describe('ip-state: the transition table', () => {
  for (const [name, state, decision, extra, next, effects] of TABLE) {
    it(name, () => {
      const t = transition(state, decision, { ...ctx, ...extra });
      assert.equal(t.next.kind, next);
      assert.deepEqual(kinds(t.effects), effects);
    });
  }

  it('covers every state against every decision without throwing', () => {
    for (const state of [IDLE, WAITING, HOLDING, HOLDING_OLD_EPOCH, YIELDED, RELEASING, TAKING]) {
      for (const d of [HOLD, RELEASE, FOLLOW, ACQUIRE0, ACQUIRE1, IDLE_UNHEALTHY, IDLE_INELIGIBLE]) {
        for (const c of [ctx, { ...ctx, healthy: false }, { ...ctx, outageMode: false, healthy: false }, { ...ctx, iface: undefined }]) {
          const t = transition(state, d, c);
          // Whatever happens: never answering without a generation, never a license effect from a decision alone
          // (taking has its write, the acquire, behind it, and licenses only when healthy on its link).
          const licensed = t.effects.some((e) => e.kind === 'license' || e.kind === 'announce');
          assert.ok(
            !licensed || (state.kind === 'taking' && c.healthy && c.iface === 'eth0'),
            `${state.kind} x ${d.action}: licenses come only after a write`,
          );
          // And taking licenses only at or after its start.
          if (state.kind === 'taking' && licensed) assert.ok(c.now >= state.startsAt);
        }
      }
    }
    for (const d of [HOLD, RELEASE, FOLLOW, ACQUIRE0, ACQUIRE1, IDLE_UNHEALTHY, IDLE_INELIGIBLE]) {
      for (const c of [ctx, { ...ctx, healthy: false }, { ...ctx, iface: undefined }]) {
        const t = transition(TAKING, d, { ...c, now: 10_899 });
        assert.ok(!t.effects.some((e) => e.kind === 'license' || e.kind === 'announce'), `taking x ${d.action}: silent before its start`);
      }
    }
  });
});

describe('ip-state: after a write', () => {
  const cases: Array<[string, IpState, Parameters<typeof afterWrite>[1], WriteOutcome, string, string[]]> = [
    [
      'a won acquisition holds at the next generation and announces',
      { kind: 'waiting', freeSince: 9_000 },
      { kind: 'acquire', previousHolder: 'node-2' },
      'won',
      'holding',
      ['license', 'announce'],
    ],
    ['a lost race stays silent', { kind: 'waiting', freeSince: 9_000 }, { kind: 'acquire', previousHolder: undefined }, 'lost', 'idle', []],
    [
      'a holder still renewing: nothing moves, look again a rank delay later',
      { kind: 'waiting', freeSince: 9_000 },
      { kind: 'acquire', previousHolder: 'node-2' },
      'holder-alive',
      'idle',
      ['wake 200'],
    ],
    ['a confirmation after a restart announces', IDLE, { kind: 'confirm' }, 'won', 'holding', ['license', 'announce']],
    [
      'a confirmation after a yield re-announces (the defence against a foreign claim)',
      YIELDED,
      { kind: 'confirm' },
      'won',
      'holding',
      ['license', 'announce'],
    ],
    [
      'a confirmation of what is still answered only relicenses (no new burst)',
      HOLDING_OLD_EPOCH,
      { kind: 'confirm' },
      'won',
      'holding',
      ['license'],
    ],
    ['a failed confirmation silences', HOLDING_OLD_EPOCH, { kind: 'confirm' }, 'lost', 'idle', ['silence']],
    [
      'a release hands over: undefended license, wake-up when the window (counted from the write) is over',
      HOLDING,
      { kind: 'release' },
      'won',
      'releasing',
      ['license', 'wake 1000'],
    ],
    ['a release of an IP not answered goes idle', YIELDED, { kind: 'release' }, 'won', 'idle', []],
    [
      'a release that lost the race to a successor stops at once (the successor answers without a window)',
      HOLDING,
      { kind: 'release' },
      'lost',
      'idle',
      ['silence'],
    ],
    [
      'a won acquisition of a released lease waits for the releaser’s window',
      WAITING,
      { kind: 'acquire', previousHolder: undefined },
      'won',
      'taking',
      ['wake 900'],
    ],
    ['a retake keeps answering', HOLDING, { kind: 'retake' }, 'won', 'holding', []],
    ['a lost retake silences', HOLDING, { kind: 'retake' }, 'lost', 'idle', ['silence']],
  ];
  for (const [name, state, effect, outcome, next, effects] of cases) {
    it(name, () => {
      const t = afterWrite(state, effect, outcome, ctx, 5);
      assert.equal(t.next.kind, next);
      assert.deepEqual(kinds(t.effects), effects);
      if (t.next.kind === 'holding' && (effect.kind === 'confirm' || effect.kind === 'acquire')) {
        assert.equal(t.next.gen, 5, 'a new holding takes the next generation');
        assert.equal(t.next.epoch, ctx.epoch, 'confirmed in the current epoch');
      }
    });
  }
});

describe('ip-state: a write that outlived its proof', () => {
  // The write started in epoch 3; by its answer the speaker had lost its health (a frozen process, a lapsed
  // fence): epoch 4, or still unhealthy. A standby may have taken the IP meanwhile; announcing would be a
  // second MAC (the random fault property's counterexample, faults.test.ts).
  const acquire = { kind: 'acquire', previousHolder: 'node-2' } as const;
  const later = { ...ctx, outageMode: false, writeEpoch: 3, epoch: 4 };
  const unhealthy = { ...ctx, outageMode: false, writeEpoch: 3, healthy: false };

  for (const [name, c] of [
    ['the epoch moved on', later],
    ['not healthy now', unhealthy],
  ] as const) {
    it(`a won acquisition announces nothing when ${name}: confirm first`, () => {
      const t = afterWrite({ kind: 'waiting', freeSince: 9_000 }, acquire, 'won', c, 5);
      assert.deepEqual(t.next, { kind: 'yielded', gen: 5, iface: 'eth0' });
      assert.deepEqual(kinds(t.effects), ['wake 0']);
    });

    it(`a won confirmation of what is not answered announces nothing when ${name}`, () => {
      for (const state of [IDLE, YIELDED]) {
        const t = afterWrite(state, { kind: 'confirm' }, 'won', c, 5);
        assert.equal(t.next.kind, 'yielded');
        assert.ok(!kinds(t.effects).includes('announce'));
      }
    });

    it(`what is still answered keeps its older epoch, no burst, when ${name}`, () => {
      const t = afterWrite(HOLDING, { kind: 'confirm' }, 'won', c, 5);
      assert.deepEqual(t.next, { kind: 'holding', gen: 5, epoch: 3, iface: 'eth0', since: 1_000 });
      assert.deepEqual(kinds(t.effects), ['license']);
    });
  }

  it('then, healthy in the new epoch, the next hold confirms before it answers', () => {
    const yielded = afterWrite({ kind: 'waiting', freeSince: 9_000 }, acquire, 'won', later, 5).next;
    const t = transition(yielded, HOLD, { ...later, writeEpoch: undefined });
    assert.deepEqual(kinds(t.effects), ['confirm']);
    const held = afterWrite(HOLDING, { kind: 'confirm' }, 'won', later, 5).next;
    assert.deepEqual(kinds(transition(held, HOLD, { ...later, writeEpoch: undefined }).effects), ['confirm']);
  });

  it('a released lease won in an older epoch is taken only after a confirmation', () => {
    const taking = afterWrite(WAITING, { kind: 'acquire', previousHolder: undefined }, 'won', later, 5).next;
    assert.deepEqual(taking, { kind: 'taking', gen: 5, epoch: 3, iface: 'eth0', startsAt: 9_900 + HANDOVER_WINDOW_MS });
    const t = transition(taking, HOLD, { ...later, now: 10_900 });
    assert.equal(t.next.kind, 'yielded');
    assert.ok(!kinds(t.effects).includes('announce'));
  });

  it('the same write with health kept throughout announces (the path the guard must not block)', () => {
    const t = afterWrite({ kind: 'waiting', freeSince: 9_000 }, acquire, 'won', { ...ctx, writeEpoch: 3 }, 5);
    assert.equal(t.next.kind, 'holding');
    assert.deepEqual(kinds(t.effects), ['license', 'announce']);
  });
});

describe('ip-state: the hand-over window, from both sides', () => {
  const acquire = { kind: 'acquire', previousHolder: undefined } as const;

  it('the successor takes at the next generation and starts exactly when the releaser’s window ends', () => {
    const t = afterWrite(WAITING, acquire, 'won', ctx, 5);
    assert.deepEqual(t.next, { kind: 'taking', gen: 5, epoch: 3, iface: 'eth0', startsAt: 9_900 + HANDOVER_WINDOW_MS });
  });

  it('a successor whose acquire took longer than the window answers at once', () => {
    const t = afterWrite({ kind: 'waiting', freeSince: 8_000 }, acquire, 'won', ctx, 5);
    assert.equal(t.next.kind, 'holding');
    assert.deepEqual(kinds(t.effects), ['license', 'announce']);
  });

  it('a new lease (none existed) has no releaser: answered at once', () => {
    const t = afterWrite(WAITING, acquire, 'won', { ...ctx, leaseAbsent: true }, 5);
    assert.equal(t.next.kind, 'holding');
  });

  it('the releaser’s window counts from before its write, so a slow write cannot stretch it past the successor’s start', () => {
    // Write started at 9 000, answered at 9 800: the window ends at 10 000, not 10 800.
    const t = afterWrite(HOLDING, { kind: 'release' }, 'won', { ...ctx, now: 9_800, writeStartedAt: 9_000 }, 5);
    assert.deepEqual(t.next, { kind: 'releasing', gen: 4, iface: 'eth0', since: 9_000 });
    assert.deepEqual(kinds(t.effects), ['license', 'wake 200']);
    // The successor saw the lease free no earlier than the write started: its start is never before the releaser's end.
    for (const seenFreeAt of [9_000, 9_001, 9_800]) {
      const taking = afterWrite({ kind: 'waiting', freeSince: seenFreeAt }, acquire, 'won', { ...ctx, now: seenFreeAt }, 1).next;
      assert.ok(taking.kind === 'taking' && taking.startsAt >= 9_000 + HANDOVER_WINDOW_MS);
    }
  });
});

describe('ip-state: reader events', () => {
  it('a yield of the held generation stops the holding until a confirmation', () => {
    const t = afterYield(HOLDING, 4);
    assert.deepEqual(t.next, { kind: 'yielded', gen: 4, iface: 'eth0' });
    assert.deepEqual(kinds(t.effects), ['wake 0']);
  });

  it('a yield of an older generation is stale and changes nothing', () => {
    assert.equal(afterYield(HOLDING, 3).next, HOLDING);
  });

  it('a yield while releasing is the successor’s claim: done', () => {
    assert.equal(afterYield(RELEASING, 4).next.kind, 'idle');
  });

  it('a link going down silences what it carried, and only that', () => {
    assert.deepEqual(kinds(afterLinkDown(HOLDING, 'eth0').effects), ['silence']);
    assert.equal(afterLinkDown(HOLDING, 'eth1').next, HOLDING);
  });
});
