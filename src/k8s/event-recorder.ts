// Kubernetes Events on the objects users look at (`kubectl describe svc`,
// `kubectl describe eip`). Writes happen in the background so a reconcile
// never waits on them; repeats of the same event on the same object within
// a window are dropped, as the API server's own event correlator would
// fold them, so a Service waiting for a pool does not emit a write per retry.
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

export class EventRecorder implements EventSink {
  private readonly recent = new Map<string, number>();
  private pending = 0;

  constructor(
    private readonly client: ApiClient,
    private readonly component: string,
    private readonly host: string,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  record(target: EventTarget, type: EventType, reason: string, message: string): void {
    const dedupeKey = `${target.metadata.uid ?? target.metadata.name}|${type}|${reason}|${message}`;
    const now = this.clock.now();
    const last = this.recent.get(dedupeKey);
    if (last !== undefined && now - last < DEDUPE_WINDOW_MS) return;
    this.recent.set(dedupeKey, now);
    if (this.recent.size > 10_000) this.prune(now);
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
    this.pending++;
    this.client
      .create(`/api/v1/namespaces/${namespace}/events`, body)
      .catch((err: unknown) => this.log.warn({ err, reason, object: target.metadata.name }, 'could not record event'))
      .finally(() => this.pending--);
  }

  /** Events not yet written (for orderly shutdown). */
  get inFlight(): number {
    return this.pending;
  }

  private prune(now: number): void {
    for (const [k, t] of this.recent) if (now - t >= DEDUPE_WINDOW_MS) this.recent.delete(k);
  }
}
