// Kubernetes Events on the objects users look at (`kubectl describe svc`,
// `kubectl describe eip`). Writes happen in the background so a reconcile
// never waits on them; repeats of the same event on the same object within
// a window are dropped, as the API server's own event correlator would
// fold them, so a Service waiting for a pool does not emit a write per retry.
//
// Events are the least important thing Baton writes, so they are bounded:
// a few in flight at once, on the client's 'default' lane (never the lanes
// of lease renewals and IP-lease writes), and a bounded queue behind them
// that drops its oldest entry when full. A mass takeover (one NodeAssigned
// per Service) or a slow API server therefore costs some Events, never a
// renewal, and never unbounded memory.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { ApiClient } from './api-client.js';
import { microTime } from './lease-store.js';
import type { ObjectMeta } from './types.js';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  metadata: Pick<ObjectMeta, 'name' | 'namespace' | 'uid' | 'resourceVersion'>;
}

export type EventType = 'Normal' | 'Warning';

export interface EventSink {
  record(target: EventTarget, type: EventType, reason: string, message: string): void;
}

// Repeats inside this window are dropped: long enough to silence retry storms, short enough that a lasting problem is re-announced.
const DEDUPE_WINDOW_MS = 10 * 60_000;
// Kubernetes limits an Event message to 1 KiB on display; longer text is cut with a marker.
const MAX_MESSAGE_LENGTH = 1024;
// Dedupe entries kept before expired ones are swept: bounds memory when many distinct events come in one window.
const MAX_DEDUPE_ENTRIES = 10_000;
// Event creates in flight at once: enough to keep up with the IPAM benchmark's burst (one IPAllocated per Service,
// a few ms each), a small share of the default lane's sockets so relists and status writes always find one.
export const EVENT_CONCURRENCY = 4;
// Events waiting behind those: one per Service for 1,000 Services (the IPAM benchmark's burst), about 1 KiB each.
// Beyond it the oldest is dropped: a newer Event says more about the present than an older one.
export const MAX_QUEUED_EVENTS = 1_000;

export interface EventRecorderOptions {
  /** Default EVENT_CONCURRENCY. */
  concurrency?: number;
  /** Default MAX_QUEUED_EVENTS. */
  maxQueued?: number;
}

interface QueuedEvent {
  namespace: string;
  body: unknown;
  reason: string;
  object: string;
}

export class EventRecorder implements EventSink {
  private readonly recent = new Map<string, number>();
  private readonly queue: QueuedEvent[] = [];
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private active = 0;
  private droppedTotal = 0;
  /** Drops since the queue last ran empty: the burst being reported. */
  private droppedInBurst = 0;
  private drainWaiters: Array<() => void> = [];

  constructor(
    private readonly client: ApiClient,
    private readonly component: string,
    private readonly host: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    options: EventRecorderOptions = {},
  ) {
    this.concurrency = options.concurrency ?? EVENT_CONCURRENCY;
    this.maxQueued = options.maxQueued ?? MAX_QUEUED_EVENTS;
  }

  record(target: EventTarget, type: EventType, reason: string, message: string): void {
    const dedupeKey = `${target.metadata.uid ?? target.metadata.name}|${type}|${reason}|${message}`;
    const now = this.clock.now();
    const last = this.recent.get(dedupeKey);
    if (last !== undefined && now - last < DEDUPE_WINDOW_MS) return;
    this.recent.set(dedupeKey, now);
    if (this.recent.size > MAX_DEDUPE_ENTRIES) this.prune(now);
    // Events of cluster-scoped objects (Eips) live in "default", as kubectl expects.
    const namespace = target.metadata.namespace ?? 'default';
    const stamp = this.clock.wallNow();
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${target.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: {
        apiVersion: target.apiVersion,
        kind: target.kind,
        name: target.metadata.name,
        ...(target.metadata.namespace !== undefined ? { namespace: target.metadata.namespace } : {}),
        ...(target.metadata.uid !== undefined ? { uid: target.metadata.uid } : {}),
      },
      type,
      reason,
      message: message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 3)}...` : message,
      source: { component: this.component, host: this.host },
      reportingComponent: this.component,
      reportingInstance: this.host,
      firstTimestamp: stamp.toISOString().replace(/\.\d+Z$/, 'Z'),
      lastTimestamp: stamp.toISOString().replace(/\.\d+Z$/, 'Z'),
      eventTime: microTime(stamp),
      action: reason,
      count: 1,
    };
    this.enqueue({ namespace, body, reason, object: target.metadata.name });
  }

  /** Events not yet written, queued or in flight (for orderly shutdown). */
  get inFlight(): number {
    return this.queue.length + this.active;
  }

  /** Events dropped because the queue was full, since start. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Resolves once nothing is queued or in flight. */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private enqueue(ev: QueuedEvent): void {
    this.queue.push(ev);
    if (this.queue.length > this.maxQueued) {
      const lost = this.queue.shift();
      this.droppedTotal++;
      if (this.droppedInBurst++ === 0) {
        this.log.warn(
          { reason: lost?.reason, object: lost?.object, maxQueued: this.maxQueued },
          'event queue full; dropping the oldest (further drops are counted until it empties)',
        );
      }
    }
    this.pump();
  }

  private pump(): void {
    while (this.active < this.concurrency) {
      const ev = this.queue.shift();
      if (ev === undefined) break;
      this.active++;
      this.client
        .request({ verb: 'create', path: `/api/v1/namespaces/${ev.namespace}/events`, body: ev.body, lane: 'default' })
        .catch((err: unknown) => this.log.warn({ err, reason: ev.reason, object: ev.object }, 'could not record event'))
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
    if (this.queue.length === 0 && this.droppedInBurst > 0) {
      this.log.info({ dropped: this.droppedInBurst }, 'event queue caught up after dropping events');
      this.droppedInBurst = 0;
    }
    if (this.inFlight === 0) for (const w of this.drainWaiters.splice(0)) w();
  }

  private prune(now: number): void {
    for (const [k, t] of this.recent) if (now - t >= DEDUPE_WINDOW_MS) this.recent.delete(k);
  }
}
