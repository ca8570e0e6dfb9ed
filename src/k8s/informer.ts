// A cache of one kind of object kept current by list+watch: a reflector in
// the manner of client-go's, written over ApiClient because the client
// library's ListWatch cannot be relied on for this: it stops for good on
// any error, and a watch request that hangs before the API server answers
// (seen right after an API server restart) can neither time out nor be
// aborted. Here every request is bounded:
//   - each watch asks the server to end it after timeoutSeconds (then it is
//     simply re-opened from the last resourceVersion, nothing missed);
//   - a watch is abandoned if silent for longer than that (or, for kinds
//     that change steadily, for idleTimeoutMs), from the moment it is sent;
//   - failures are retried with capped exponential backoff with equal
//     jitter (./backoff.ts says why), resuming from the last
//     resourceVersion, relisting when the server says it is gone (410);
//   - a watch that the server ends normally right after opening it, before
//     any event (a proxy answering 200 then EOF), counts as a failure, as
//     client-go's "very short watch" does, so it is retried with backoff
//     instead of in a hot loop.
// Lists go on the client's 'default' lane, watches on its 'watch' lane.
//
// Cached objects are frozen: they are shared by every reader, and a
// reconciler that mutated one would corrupt what the others see.
import type { IncomingMessage } from 'node:http';
import type { Clock, TimerHandle } from '../clock.js';
import { errorCode, hasCode } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { ApiClient } from './api-client.js';
import { ApiError, errorFromStatus, type WireStatus } from './api-error.js';
import { Backoff } from './backoff.js';
import { InformerError } from './informer-error.js';

export interface InformerHandlers<T> {
  add?: (obj: T) => void;
  update?: (obj: T) => void;
  delete?: (obj: T) => void;
}

/** Any object with metadata; timestamps stay strings, as on the wire. */
export type WireObject = { metadata?: { name?: string; namespace?: string; resourceVersion?: string } };

export interface InformerOptions {
  /** Short name for logs and metrics: "leases", "services". */
  name: string;
  client: ApiClient;
  /** Collection path, e.g. leasesPath('baton-system'). */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  clock: Clock;
  log: Logger;
  /** First and longest backoff step (defaults 200 ms and 10 s: quick after a blip, bounded during an outage). */
  backoff?: { initialMs: number; maxMs: number };
  /** Uniform in [0, 1) for the backoff's jitter (default Math.random); tests pin it. */
  random?: () => number;
  /** Called when the cache is current again after a failure: whatever happened meanwhile was not seen live. */
  onResumed?: () => void;
  /** Called once when the cache stops being current (a failure after a working watch). */
  onBroken?: () => void;
  /** Called after each failed attempt with the pause before the next one (for metrics; the warning is logged anyway). */
  onRetry?: (retry: { delayMs: number; err: unknown }) => void;
  /**
   * Give up on a watch that brings nothing for this long. Only for kinds that
   * change steadily (speaker leases renew every fraction of a second): a
   * silent watch there is a stalled connection.
   */
  idleTimeoutMs?: number;
  /** The server ends each watch after this long; it is then re-opened (default 300 s). */
  watchTimeoutSeconds?: number;
}

export interface InformerStats {
  /** Times the list+watch was retried after a failure. */
  restarts: number;
  errors: number;
  relists: number;
}

// Defaults of options.backoff: a blip is retried within a fraction of a second, an outage about every 10 s per informer.
const DEFAULT_BACKOFF = { initialMs: 200, maxMs: 10_000 };
// kube-apiserver's own default for a watch's timeoutSeconds is 30-60 min; 5 min keeps a forgotten connection short-lived.
const DEFAULT_WATCH_TIMEOUT_S = 300;
// A watch the server should have ended by timeoutSeconds is taken for dead this much later (clock skew, a slow proxy).
const WATCH_END_GRACE_MS = 30_000;
// A watch that ended within this long of opening, with no event, did not work (client-go's reflector uses 1 s too).
const MIN_WATCH_MS = 1_000;

type WatchEvent<T> = { type: string; object: T & WireStatus };

export class Informer<T extends WireObject> {
  private readonly options: InformerOptions;
  private readonly store = new Map<string, T>();
  private readonly handlers: Array<InformerHandlers<T>> = [];
  private resourceVersion = '';
  private stopped = true;
  private hasSynced = false;
  private broken = false;
  private syncWaiters: Array<() => void> = [];
  /** Aborts the watch in progress (stop()). */
  private abortWatch: AbortController | undefined;
  /** Ends the backoff pause in progress early (stop()). */
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly counters: InformerStats = { restarts: 0, errors: 0, relists: 0 };

  constructor(opts: InformerOptions) {
    this.options = opts;
  }

  on(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  /** Starts listing and watching. Resolves once the first full list is in the cache; keeps retrying until then. */
  start(): Promise<void> {
    if (this.stopped) {
      this.stopped = false;
      this.loop = this.run();
    }
    return this.waitForSync();
  }

  /** Stops: abandons the open watch or pause; resolves once the list/watch loop has ended (callers may ignore it). */
  stop(): Promise<void> {
    this.stopped = true;
    this.abortWatch?.abort(new InformerError('INFORMER_STOPPED', `informer ${this.options.name} stopped`));
    this.wake?.();
    return this.loop ?? Promise.resolve();
  }

  get synced(): boolean {
    return this.hasSynced;
  }

  get stats(): Readonly<InformerStats> {
    return { ...this.counters };
  }

  get(name: string, namespace?: string): T | undefined {
    return this.store.get(key(namespace, name));
  }

  list(namespace?: string): readonly T[] {
    const all = [...this.store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  waitForSync(): Promise<void> {
    if (this.hasSynced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    const backoff = new Backoff({ ...(this.options.backoff ?? DEFAULT_BACKOFF), random: this.options.random });
    while (!this.stopped) {
      let relisted = false;
      let worked = false;
      try {
        if (this.resourceVersion === '') {
          await this.relist();
          relisted = true;
          this.current();
        }
        await this.watch(() => {
          worked = true;
          backoff.reset();
          this.current();
        });
        // The server ended a watch that worked (its timeoutSeconds): re-open from the last resourceVersion at once.
      } catch (err) {
        if (this.stopped) break;
        if (hasCode(err, 'K8S_GONE')) {
          this.resourceVersion = '';
          // Expected after a long watch or a reconnect: the server no longer has our version. Relist at once; but a
          // version from a list made just now that is already gone means the server is in trouble: back off.
          if (!relisted || worked) {
            this.options.log.info({ informer: this.options.name }, 'resourceVersion too old; relisting');
            continue;
          }
        }
        this.counters.errors++;
        this.counters.restarts++;
        if (!this.broken && this.hasSynced) {
          this.broken = true;
          this.options.onBroken?.();
        }
        const delayMs = backoff.next();
        this.options.onRetry?.({ delayMs, err });
        this.options.log.warn(
          { informer: this.options.name, err, code: errorCode(err), retryInMs: Math.round(delayMs) },
          'list/watch failed; retrying',
        );
        await this.pause(delayMs);
      }
    }
  }

  /** Waits ms on the clock, or until stop(). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.options.clock.setTimeout(() => done(), ms);
      const done = (): void => {
        this.options.clock.clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
    });
  }

  /** The cache is current: after the first list, synced; after a failure, resumed. */
  private current(): void {
    if (!this.hasSynced) {
      this.hasSynced = true;
      this.options.log.debug({ informer: this.options.name, objects: this.store.size }, 'informer synced');
      for (const w of this.syncWaiters.splice(0)) w();
    } else if (this.broken) {
      this.broken = false;
      this.options.log.info({ informer: this.options.name }, 'watching again');
      this.options.onResumed?.();
    }
  }

  private async relist(): Promise<void> {
    this.counters.relists++;
    const list = await this.options.client.list<{ metadata?: { resourceVersion?: string }; items: T[] }>(this.options.path, {
      labelSelector: this.options.labelSelector,
      fieldSelector: this.options.fieldSelector,
    });
    const seen = new Set<string>();
    for (const item of list.items) {
      const k = keyOf(item);
      seen.add(k);
      this.upsert(k, item);
    }
    for (const [k, old] of this.store) {
      if (!seen.has(k)) {
        this.store.delete(k);
        this.emit('delete', old);
      }
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
  }

  private upsert(k: string, obj: T): void {
    deepFreeze(obj);
    const old = this.store.get(k);
    if (old !== undefined && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    this.store.set(k, obj);
    this.emit(old === undefined ? 'add' : 'update', obj);
  }

  private emit(kind: keyof InformerHandlers<T>, obj: T): void {
    for (const h of this.handlers) {
      try {
        h[kind]?.(obj);
      } catch (err) {
        this.options.log.error({ informer: this.options.name, err }, 'informer handler threw');
      }
    }
  }

  /**
   * One watch request. Calls worked() once it has delivered an event or
   * stayed open MIN_WATCH_MS; resolves when the server ends a watch that
   * worked, rejects on any failure (a watch ended before it worked included).
   */
  private async watch(worked: () => void): Promise<void> {
    const { clock } = this.options;
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? DEFAULT_WATCH_TIMEOUT_S;
    // Silence longer than this means the connection is dead, whatever TCP thinks.
    const silenceMs = this.options.idleTimeoutMs ?? timeoutSeconds * 1000 + WATCH_END_GRACE_MS;
    const abort = new AbortController();
    this.abortWatch = abort;
    let silence: TimerHandle | undefined;
    let proving: TimerHandle | undefined;
    const heard = (): void => {
      if (silence !== undefined) clock.clearTimeout(silence);
      silence = clock.setTimeout(
        () => abort.abort(new InformerError('INFORMER_WATCH_IDLE', `watch ${this.options.path}: silent for ${silenceMs} ms`)),
        silenceMs,
      );
    };
    let proven = false;
    const prove = (): void => {
      if (proven) return;
      proven = true;
      if (proving !== undefined) clock.clearTimeout(proving);
      worked();
    };
    try {
      // A stop() that came during the relist before this watch found nothing to abort yet.
      if (this.stopped) throw new InformerError('INFORMER_STOPPED', `informer ${this.options.name} stopped`);
      heard();
      const res = await this.options.client.watch({
        path: this.options.path,
        query: {
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: 'true',
          timeoutSeconds: String(timeoutSeconds),
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
        },
        signal: abort.signal,
      });
      const openedAt = clock.now();
      proving = clock.setTimeout(prove, MIN_WATCH_MS);
      await this.consume(res, abort.signal, heard, prove);
      if (!proven) {
        throw new InformerError(
          'INFORMER_WATCH_TOO_SHORT',
          `watch ${this.options.path}: the server ended it ${Math.round(clock.now() - openedAt)} ms after opening, before any event`,
        );
      }
    } finally {
      if (silence !== undefined) clock.clearTimeout(silence);
      if (proving !== undefined) clock.clearTimeout(proving);
      this.abortWatch = undefined;
    }
  }

  /** Reads newline-delimited watch events until the stream ends (resolves) or fails (rejects). */
  private consume(res: IncomingMessage, signal: AbortSignal, heard: () => void, delivered: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fail = (err: unknown): void => {
        reject(err);
        res.destroy();
      };
      if (signal.aborted) {
        fail(signal.reason);
        return;
      }
      signal.addEventListener('abort', () => fail(signal.reason), { once: true });
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        heard();
        buffer += chunk;
        for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line.trim() === '') continue;
          try {
            this.onEvent(parseEvent<T>(line, this.options.path));
          } catch (err) {
            fail(err);
            return;
          }
          delivered();
        }
      });
      res.on('end', () => resolve());
      const broke = (cause?: Error): ApiError =>
        new ApiError(
          'K8S_CONNECTION_FAILED',
          0,
          `watch ${this.options.path}: ${cause?.message ?? 'connection closed mid-stream'}`,
          undefined,
          {
            cause,
          },
        );
      res.on('error', (err) => fail(signal.aborted ? signal.reason : broke(err)));
      res.on('close', () => {
        if (!res.complete) fail(signal.aborted ? signal.reason : broke());
      });
    });
  }

  private onEvent(ev: WatchEvent<T>): void {
    const obj = ev.object;
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.upsert(keyOf(obj), obj);
        break;
      case 'DELETED': {
        const k = keyOf(obj);
        const old = this.store.get(k);
        this.store.delete(k);
        deepFreeze(obj);
        if (old !== undefined) this.emit('delete', obj);
        break;
      }
      case 'BOOKMARK':
        break;
      case 'ERROR':
        // The object is a Status: 410 means our resourceVersion is too old (K8S_GONE, relist), anything else a failure.
        throw errorFromStatus(obj, `watch ${this.options.path}`);
      default:
        return;
    }
    const rv = obj.metadata?.resourceVersion;
    if (rv !== undefined && rv !== '') this.resourceVersion = rv;
  }
}

function parseEvent<T>(line: string, path: string): WatchEvent<T> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new InformerError('INFORMER_BAD_EVENT', `watch ${path}: a line is not JSON`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || !('type' in value) || typeof value.type !== 'string' || !('object' in value)) {
    throw new InformerError('INFORMER_BAD_EVENT', `watch ${path}: a line is not a watch event`);
  }
  if (typeof value.object !== 'object' || value.object === null) {
    throw new InformerError('INFORMER_BAD_EVENT', `watch ${path}: a ${value.type} event has no object`);
  }
  return value as WatchEvent<T>;
}

function key(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}

function keyOf(obj: WireObject): string {
  return key(obj.metadata?.namespace, obj.metadata?.name ?? '');
}

/** Freezes an object and everything it holds, so a cached object cannot be changed by a reader. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
