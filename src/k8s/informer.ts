// A cache of one kind of object kept current by list+watch, built on the
// client library's ListWatch. ListWatch stops for good on any error other
// than 410 Gone (a refused connection while the API server restarts, a
// reset stream); this wrapper restarts it with capped exponential backoff,
// resuming from the last resourceVersion so no change is missed, and
// relisting when the server says that version is gone.
//
// Cached objects are frozen: they are shared by every reader, and a
// reconciler that mutated one would corrupt what the others see.
import { ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { ApiClient } from './api-client.js';

export interface InformerHandlers<T> {
  add?: (obj: T) => void;
  update?: (obj: T) => void;
  delete?: (obj: T) => void;
}

export interface InformerOptions {
  /** Short name for logs and metrics: "leases", "services". */
  name: string;
  client: ApiClient;
  /** Collection path, e.g. /apis/coordination.k8s.io/v1/namespaces/baton-system/leases */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  clock: Clock;
  log: Logger;
  /** First and longest pause before a restart (defaults 200 ms and 10 s: quick after a blip, bounded during an outage). */
  backoff?: { initialMs: number; maxMs: number };
}

export interface InformerStats {
  /** Times the list+watch was restarted after an error. */
  restarts: number;
  errors: number;
}

/** Any object with metadata; timestamps stay strings, as on the wire (see api-client.ts). */
export type WireObject = { metadata?: { name?: string; namespace?: string; resourceVersion?: string } };

export class Informer<T extends WireObject> {
  private readonly opts: InformerOptions;
  // The library types its cache with parsed Dates; the objects are wire JSON, hence the casts at this boundary.
  private readonly listWatch: ListWatch<KubernetesObject>;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private backoffMs: number;
  private restartTimer: TimerHandle | undefined;
  private stopped = true;
  private hasSynced = false;
  private syncWaiters: Array<() => void> = [];
  private readonly counters: InformerStats = { restarts: 0, errors: 0 };

  constructor(opts: InformerOptions) {
    this.opts = opts;
    this.initialBackoffMs = opts.backoff?.initialMs ?? 200;
    this.maxBackoffMs = opts.backoff?.maxMs ?? 10_000;
    this.backoffMs = this.initialBackoffMs;
    const listFn = (): Promise<KubernetesListObject<KubernetesObject>> =>
      opts.client.list<KubernetesListObject<KubernetesObject>>(opts.path, { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector });
    this.listWatch = new ListWatch<KubernetesObject>(opts.path, new Watch(opts.client.kubeConfig), listFn, false, opts.labelSelector, opts.fieldSelector);
    // Registered first, so every handler after it sees a frozen object.
    this.listWatch.on('add', deepFreeze);
    this.listWatch.on('update', deepFreeze);
    this.listWatch.on('delete', deepFreeze);
    this.listWatch.on('error', (err: unknown) => this.onError(err));
  }

  on(handlers: InformerHandlers<T>): void {
    const { add, update, delete: del } = handlers;
    if (add !== undefined) this.listWatch.on('add', (o) => add(o as unknown as T));
    if (update !== undefined) this.listWatch.on('update', (o) => update(o as unknown as T));
    if (del !== undefined) this.listWatch.on('delete', (o) => del(o as unknown as T));
  }

  /** Starts listing and watching. Resolves once the first full list is in the cache; keeps retrying until then. */
  async start(): Promise<void> {
    if (!this.stopped) return this.waitForSync();
    this.stopped = false;
    void this.connect();
    return this.waitForSync();
  }

  stop(): void {
    this.stopped = true;
    if (this.restartTimer !== undefined) this.opts.clock.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    void this.listWatch.stop();
  }

  get synced(): boolean {
    return this.hasSynced;
  }

  get stats(): Readonly<InformerStats> {
    return { ...this.counters };
  }

  get(name: string, namespace?: string): T | undefined {
    return this.listWatch.get(name, namespace) as unknown as T | undefined;
  }

  list(namespace?: string): readonly T[] {
    return this.listWatch.list(namespace) as unknown as readonly T[];
  }

  waitForSync(): Promise<void> {
    if (this.hasSynced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  private async connect(): Promise<void> {
    const errorsBefore = this.counters.errors;
    await this.listWatch.start();
    // start() returns once the list is cached and the watch request is open, or after reporting an error.
    if (this.stopped || this.counters.errors !== errorsBefore) return;
    this.backoffMs = this.initialBackoffMs;
    if (!this.hasSynced) {
      this.hasSynced = true;
      this.opts.log.debug({ informer: this.opts.name, objects: this.list().length }, 'informer synced');
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private onError(err: unknown): void {
    this.counters.errors++;
    if (this.stopped) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.maxBackoffMs, this.backoffMs * 2);
    this.opts.log.warn({ informer: this.opts.name, err, retryInMs: delay }, 'list/watch failed; restarting');
    if (this.restartTimer !== undefined) this.opts.clock.clearTimeout(this.restartTimer);
    this.restartTimer = this.opts.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.counters.restarts++;
      void this.connect();
    }, delay);
  }
}

/** Freezes an object and everything it holds, so a cached object cannot be changed by a reader. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
