// The life of one external IP on one speaker, as an explicit state machine.
// decide() (ip-decision.ts) says what the Lease and liveness call for; this
// table says what that means from where the IP stands now, as a next state
// and a list of effects (Lease writes, licenses for the reader thread, the
// gratuitous burst, a wake-up). Pure: no clock, no I/O. The announcer
// (ip-announcer.ts) runs the effects and feeds the outcome of a write back
// through afterWrite().
//
//   idle ──acquire, my turn──▶ (acquire write) ──won──▶ holding
//   idle ──hold (lease names me)──▶ (confirm write) ──ours──▶ holding
//   holding ──reader yielded to a claim──▶ yielded ──hold──▶ (confirm) ──▶ holding, next generation
//   holding ──release (no longer eligible)──▶ (release write) ──▶ releasing ──window over, or a claim──▶ idle
//   waiting ──acquire a released lease──▶ (acquire write) ──won──▶ taking ──window over──▶ holding
//   holding ──follow (someone else holds the lease)──▶ idle
//
// Safety rules kept here:
// - Answering starts only on an IP just won with a guarded write, or after a
//   guarded write confirmed the lease is still ours (after a restart, a
//   yield, a link coming back, a time of not being able to renew).
// - A holder defends only what it confirmed in the current health epoch
//   (since its renewals last worked without a gap); after a gap it confirms
//   again before it defends, because someone may have taken over meanwhile.
// - A holder that cannot renew stops at once, unless outage mode keeps it
//   answering (undefended: it yields to the first claim).
// - Hand-over, never two MACs at once: the releasing node answers, undefended,
//   for HANDOVER_WINDOW_MS counted from *before* its release write; the
//   successor saw the lease free only after that write, so it starts
//   answering (and announces) HANDOVER_WINDOW_MS after it first saw the lease
//   free: by then the releasing node's reader has stopped by its own deadline.
//   The client sees the old MAC up to one write and one watch hop before the
//   new one, and never both (a reply of each to one request, or the old MAC
//   answering after the new one's gratuitous ARP, is what the chaos probe
//   counts as two MACs). The reader's yield to a claim stays as the safety
//   net if the window is ever cut short.
import type { IpDecision } from './ip-decision.js';

export type IpState =
  /** Not answering; nothing under way. */
  | { readonly kind: 'idle' }
  /** The IP is free (or its holder is dead) and this node waits for its rank's turn. */
  | { readonly kind: 'waiting'; readonly freeSince: number }
  /** Licensed in the reader at gen on iface since `since`; confirmed ours in health epoch `epoch`. */
  | { readonly kind: 'holding'; readonly gen: number; readonly epoch: number; readonly iface: string; readonly since: number }
  /** The reader yielded gen to a claim (or an overrun); nothing is answered until a confirmation. */
  | { readonly kind: 'yielded'; readonly gen: number; readonly iface: string }
  /** Lease released for a successor, the write started at `since`; answering undefended until since + HANDOVER_WINDOW_MS (or a claim). */
  | { readonly kind: 'releasing'; readonly gen: number; readonly iface: string; readonly since: number }
  /** Won a lease another node released: silent until `startsAt`, when that node's window is over; then holding at gen. */
  | { readonly kind: 'taking'; readonly gen: number; readonly epoch: number; readonly iface: string; readonly startsAt: number };

/**
 * How long a releasing node keeps answering, and a successor of a released
 * lease waits before it answers. It must cover the successor's watch hop,
 * its rank delay (a leaving node may still rank first in the successor's
 * view: 2 ranks of 200 ms with 3 nodes) and its acquire write, or the IP is
 * unanswered for the difference; longer only makes a hand-over take longer
 * (both sides answer nothing extra). One constant, not a flag: the two sides
 * of a hand-over must agree on it.
 */
export const HANDOVER_WINDOW_MS = 1_000;

export type IpEffect =
  /** Guarded write that changes nothing but proves the lease is still ours at the version seen. */
  | { readonly kind: 'confirm' }
  /** Create the lease, or take it over by a guarded update (after a fresh read shows its holder really stopped). */
  | { readonly kind: 'acquire'; readonly previousHolder: string | undefined }
  /** The lease vanished (deleted, or unlabelled by hand) while this node answers: take it back at once. */
  | { readonly kind: 'retake' }
  /** Write the lease with no holder, so the next candidate takes it at once. */
  | { readonly kind: 'release' }
  /** Delete a lease of ours for an IP that is no longer external. */
  | { readonly kind: 'delete-lease' }
  /** License the reader for the state's generation: defended holding, or undefended hand-over. */
  | { readonly kind: 'license'; readonly mode: 'hold' | 'hand-over' }
  /** Gratuitous burst and the NodeAssigned Event. */
  | { readonly kind: 'announce'; readonly how: string }
  /** Revoke the reader's license on iface now (and forget a yielded entry there). */
  | { readonly kind: 'silence'; readonly iface: string; readonly reason: string }
  /** Look at the IP again after ms. */
  | { readonly kind: 'wake'; readonly afterMs: number };

export type WriteEffect = Extract<IpEffect, { kind: 'confirm' | 'acquire' | 'retake' | 'release' | 'delete-lease' }>;

/** What else a transition depends on, read by the announcer at the moment of deciding. */
export interface IpContext {
  now: number;
  /** Bumped each time this speaker loses its health (a renewal deadline passed). */
  epoch: number;
  /** This speaker's liveness renewals are current. */
  healthy: boolean;
  outageMode: boolean;
  /** The interface this node would answer the IP's pool on, if it has it (with carrier). */
  iface: string | undefined;
  /** No lease for the IP in the cache (deleted, or unlabelled by hand). */
  leaseAbsent: boolean;
  /** A lease naming nobody: when this node's cache first saw it so (never before the release write started). */
  leaseFreeSince?: number;
  /** The last holder any lease of this IP named was this node (it still answers for a vanished lease). */
  lastHolderWasMe: boolean;
  /** The vanished lease's last holder is another live node: give it a rank's head start. */
  headStart: boolean;
  rankDelayMs: number;
  /** When the write this transition follows was started (afterWrite); the release window counts from it. */
  writeStartedAt?: number;
  /** The health epoch when that write was started (afterWrite); `epoch` and `healthy` are read after it. */
  writeEpoch?: number;
}

export interface Transition {
  next: IpState;
  effects: IpEffect[];
}

const IDLE: IpState = { kind: 'idle' };

function stay(state: IpState, ...effects: IpEffect[]): Transition {
  return { next: state, effects };
}

function silenced(state: IpState, reason: string): Transition {
  return {
    next: IDLE,
    effects: state.kind === 'idle' || state.kind === 'waiting' ? [] : [{ kind: 'silence', iface: state.iface, reason }],
  };
}

/** Whether the reader may be answering for the IP in this state. */
export function answering(state: IpState): state is Extract<IpState, { kind: 'holding' | 'releasing' }> {
  return state.kind === 'holding' || state.kind === 'releasing';
}

/** Releasing: keep answering until the window is over (the successor starts then) or its claim. */
function handingOver(state: Extract<IpState, { kind: 'releasing' }>, ctx: IpContext): Transition {
  const left = state.since + HANDOVER_WINDOW_MS - ctx.now;
  return left <= 0 ? silenced(state, 'hand-over window over') : stay(state, { kind: 'wake', afterMs: left });
}

/** Taking: the lease is ours; answer once the releasing node's window is over, if still healthy on that link. */
function taking(state: Extract<IpState, { kind: 'taking' }>, ctx: IpContext): Transition {
  const left = state.startsAt - ctx.now;
  if (left > 0) return stay(state, { kind: 'wake', afterMs: left });
  if (!ctx.healthy || ctx.iface !== state.iface || state.epoch !== ctx.epoch) {
    // Something changed while waiting: confirm the lease again before answering, as after a yield.
    return stay({ kind: 'yielded', gen: state.gen, iface: state.iface }, { kind: 'wake', afterMs: 0 });
  }
  return {
    next: { kind: 'holding', gen: state.gen, epoch: state.epoch, iface: state.iface, since: ctx.now },
    effects: [
      { kind: 'license', mode: 'hold' },
      { kind: 'announce', how: 'took over a hand-over' },
    ],
  };
}

type Rule<A extends IpDecision['action']> = (state: IpState, decision: Extract<IpDecision, { action: A }>, ctx: IpContext) => Transition;

const onHold: Rule<'hold'> = (state, _d, ctx) => {
  if (state.kind === 'holding') {
    if (!ctx.healthy) {
      // Fenced: someone may take over soon. Outage mode keeps answering, undefended (the reader yields to a claim).
      return ctx.outageMode ? stay(state) : silenced(state, 'liveness lease not renewed in time');
    }
    if (ctx.iface !== state.iface) return silenced(state, 'pool moved to another interface');
    // Confirmed before the last gap in renewals: confirm again before defending.
    return state.epoch === ctx.epoch ? stay(state) : stay(state, { kind: 'confirm' });
  }
  if (state.kind === 'releasing') return handingOver(state, ctx);
  if (state.kind === 'taking') return taking(state, ctx);
  if (!ctx.healthy || ctx.iface === undefined) return stay(state.kind === 'waiting' ? IDLE : state);
  return stay(state.kind === 'waiting' ? IDLE : state, { kind: 'confirm' });
};

const onRelease: Rule<'release'> = (state) => {
  if (state.kind === 'releasing') return stay(state);
  return stay(state, { kind: 'release' });
};

const onFollow: Rule<'follow'> = (state, d, ctx) => {
  // The successor's write reaches us before it answers (it waits for our window): keep answering until the window is over.
  if (state.kind === 'releasing') return handingOver(state, ctx);
  return silenced(state, `${d.holder} holds it`);
};

const onAcquire: Rule<'acquire'> = (state, d, ctx) => {
  if (state.kind === 'releasing') return handingOver(state, ctx);
  if (answering(state) || (state.kind === 'yielded' && ctx.lastHolderWasMe)) {
    // The lease vanished while we answer (or were about to answer again): take it back at once, still answering.
    if (ctx.leaseAbsent && ctx.lastHolderWasMe) return stay(state, { kind: 'retake' });
    return silenced(state, 'its lease is not ours');
  }
  if (ctx.iface === undefined) return stay(IDLE);
  const freeSince = state.kind === 'waiting' ? state.freeSince : Math.min(ctx.now, ctx.leaseFreeSince ?? ctx.now);
  const due = freeSince + (d.rank + (ctx.headStart ? 1 : 0)) * ctx.rankDelayMs;
  const waiting: IpState = { kind: 'waiting', freeSince };
  if (ctx.now < due) return stay(waiting, { kind: 'wake', afterMs: due - ctx.now });
  return stay(waiting, { kind: 'acquire', previousHolder: d.previousHolder });
};

const onIdle: Rule<'idle'> = (state, d, ctx) => {
  if (state.kind === 'releasing') return handingOver(state, ctx);
  // Unhealthy in outage mode with the lease gone (deleted during an API outage): nothing moved, keep answering.
  if (state.kind === 'holding' && d.reason === 'unhealthy' && ctx.outageMode && ctx.lastHolderWasMe) return stay(state);
  return silenced(state, d.reason === 'unhealthy' ? 'not renewing and the IP is not ours' : 'not eligible');
};

/** The transition table: what a decision means from each state. */
export function transition(state: IpState, decision: IpDecision, ctx: IpContext): Transition {
  switch (decision.action) {
    case 'hold':
      return onHold(state, decision, ctx);
    case 'release':
      return onRelease(state, decision, ctx);
    case 'follow':
      return onFollow(state, decision, ctx);
    case 'acquire':
      return onAcquire(state, decision, ctx);
    case 'idle':
      return onIdle(state, decision, ctx);
  }
}

export type WriteOutcome =
  /** The write went through at the version seen. */
  | 'won'
  /** Someone else wrote first (409), or a fresh read shows the lease is not ours. */
  | 'lost'
  /** Before a takeover, a fresh read showed the holder's liveness lease still moving. */
  | 'holder-alive';

/**
 * What a finished write means. nextGen is the generation a new holding gets
 * (the announcer keeps one counter per IP). Errors other than these outcomes
 * are thrown by the announcer and retried with backoff.
 */
export function afterWrite(state: IpState, effect: WriteEffect, outcome: WriteOutcome, ctx: IpContext, nextGen: number): Transition {
  if (outcome === 'holder-alive') return stay(IDLE, { kind: 'wake', afterMs: ctx.rankDelayMs });
  // A release that lost the race: a successor took the lease over first (it saw this node's liveness
  // lapse) and answers at once, without waiting for a window: stop now, or two MACs answer.
  if (outcome === 'lost')
    return silenced(state, effect.kind === 'release' ? 'lease taken before our release' : 'another speaker holds the lease');
  switch (effect.kind) {
    case 'confirm':
    case 'acquire': {
      if (ctx.iface === undefined) return stay(IDLE);
      // A lease someone released (it existed, naming nobody): its releaser answers until its window is over.
      if (effect.kind === 'acquire' && effect.previousHolder === undefined && !ctx.leaseAbsent && state.kind === 'waiting') {
        const startsAt = state.freeSince + HANDOVER_WINDOW_MS;
        if (startsAt > ctx.now) {
          // Proof from the epoch the write started in: taking() confirms again if the epoch has moved on by its start.
          const next: IpState = { kind: 'taking', gen: nextGen, epoch: ctx.writeEpoch ?? ctx.epoch, iface: ctx.iface, startsAt };
          return stay(next, { kind: 'wake', afterMs: startsAt - ctx.now });
        }
      }
      // The write proves the lease was ours when the API server applied it, some time while the write was under
      // way: proof from the epoch it started in. If this speaker lost its health meanwhile (a frozen process, a
      // stalled loop, a lapsed fence: the epoch moved on) or has not got it back, a standby may have taken the IP
      // since then. So nothing is announced: what is not answered yet waits for a confirmation, and what is still
      // answered keeps the older epoch and is not defended until one (onHold).
      const writeEpoch = ctx.writeEpoch ?? ctx.epoch;
      const stale = writeEpoch !== ctx.epoch || !ctx.healthy;
      const stillAnswered = state.kind === 'holding' && state.iface === ctx.iface;
      if (stale && !stillAnswered) return stay({ kind: 'yielded', gen: nextGen, iface: ctx.iface }, { kind: 'wake', afterMs: 0 });
      const how =
        effect.kind === 'confirm'
          ? 'confirmed'
          : effect.previousHolder === undefined
            ? 'acquired'
            : `took over from ${effect.previousHolder}`;
      // What the reader still answers needs no new burst, only a license: after a confirmation (a new epoch),
      // defended; after a stale proof, as the older epoch allows.
      const quiet = (effect.kind === 'confirm' || stale) && stillAnswered;
      const since = quiet && state.kind === 'holding' ? state.since : ctx.now;
      const holding: IpState = { kind: 'holding', gen: nextGen, epoch: writeEpoch, iface: ctx.iface, since };
      const effects: IpEffect[] = [{ kind: 'license', mode: 'hold' }];
      if (!quiet) effects.push({ kind: 'announce', how });
      return { next: holding, effects };
    }
    case 'retake':
      return stay(state);
    case 'release':
      if (state.kind === 'releasing') return stay(state);
      if (state.kind !== 'holding') return stay(IDLE);
      return handOver(state, ctx);
    case 'delete-lease':
      return stay(IDLE);
  }
}

function handOver(state: Extract<IpState, { kind: 'holding' }>, ctx: IpContext): Transition {
  return {
    // The window counts from before the write: the successor cannot have seen the lease free earlier.
    next: { kind: 'releasing', gen: state.gen, iface: state.iface, since: ctx.writeStartedAt ?? ctx.now },
    effects: [
      { kind: 'license', mode: 'hand-over' },
      { kind: 'wake', afterMs: Math.max(0, (ctx.writeStartedAt ?? ctx.now) + HANDOVER_WINDOW_MS - ctx.now) },
    ],
  };
}

/** The reader yielded gen (a claim, or an overrun that may have hidden one). */
export function afterYield(state: IpState, gen: number): Transition {
  if (!answering(state) || state.gen !== gen) return stay(state);
  // Releasing: that was the successor's claim. Holding: confirm before answering again.
  if (state.kind === 'releasing') return stay(IDLE);
  return stay({ kind: 'yielded', gen, iface: state.iface }, { kind: 'wake', afterMs: 0 });
}

/** The link under the IP went down (carrier lost, interface re-created): confirm again before answering. */
export function afterLinkDown(state: IpState, iface: string): Transition {
  if ((answering(state) || state.kind === 'yielded') && state.iface === iface) return silenced(state, 'link down');
  return stay(state);
}
