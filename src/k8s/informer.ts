// A cache of one kind of object kept current by list+watch: a reflector in
// the manner of client-go's, written over node:https because the client
// library's ListWatch cannot be relied on for this: it stops for good on
// any error, and a watch request that hangs before the API server answers
// (seen right after an API server restart) can neither time out nor be
// aborted. Here every request is bounded:
//   - each watch asks the server to end it after timeoutSeconds (then it is
//     simply re-opened from the last resourceVersion, nothing missed);
//   - the socket is abandoned if silent for longer than that (or, for kinds
//     that change steadily, for idleTimeoutMs);
//   - failures are retried with capped exponential backoff, resuming from
//     the last resourceVersion, relisting when the server says it is gone.
// Authentication and TLS come from the client library's KubeConfig.
//
// Cached objects are frozen: they are shared by every reader, and a
// reconciler that mutated one would corrupt what the others see.
import type { ClientRequest } from 'node:http';
import { type RequestOptions, request } from 'node:https';
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import type { ApiClient } from './api-client.js';

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
  /** Collection path, e.g. /apis/coordination.k8s.io/v1/namespaces/baton-system/leases */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  clock: Clock;
  log: Logger;
  /** First and longest pause before a retry (defaults 200 ms and 10 s: quick after a blip, bounded during an outage). */
  backoff?: { initialMs: number; maxMs: number };
  /** Called when the cache is current again after a failure: whatever happened meanwhile was not seen live. */
  onResumed?: () => void;
  /** Called once when the cache stops being current (a failure after a working watch). */
  onBroken?: () => void;
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

class GoneError extends Error {}

export class Informer<T extends WireObject> {
  private readonly o: InformerOptions;
  private readonly store = new Map<string, T>();
  private readonly handlers: Array<InformerHandlers<T>> = [];
  private resourceVersion = '';
  private stopped = true;
  private hasSynced = false;
  private broken = false;
  private syncWaiters: Array<() => void> = [];
  private current: ClientRequest | undefined;
  private loop: Promise<void> | undefined;
  private readonly counters: InformerStats = { restarts: 0, errors: 0, relists: 0 };

  constructor(opts: InformerOptions) {
    this.o = opts;
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

  /** Stops watching; resolves once the list/watch loop has ended (callers may ignore it). */
  stop(): Promise<void> {
    this.stopped = true;
    this.current?.destroy();
    return this.loop ?? Promise.resolve();
  }

  get synced(): boolean {
    return this.hasSynced;
  }

  /** The cache is current: synced and no failure since the last working watch. */
  get healthy(): boolean {
    return this.hasSynced && !this.broken;
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
    const initialMs = this.o.backoff?.initialMs ?? 200;
    const maxMs = this.o.backoff?.maxMs ?? 10_000;
    let backoffMs = initialMs;
    while (!this.stopped) {
      try {
        if (this.resourceVersion === '') await this.relist();
        await this.watch(() => {
          backoffMs = initialMs;
          this.recovered();
        });
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof GoneError) {
          this.o.log.info({ informer: this.o.name }, 'resourceVersion too old; relisting');
          this.resourceVersion = '';
          continue;
        }
        this.counters.errors++;
        this.counters.restarts++;
        if (!this.broken && this.hasSynced) {
          this.broken = true;
          this.o.onBroken?.();
        }
        this.o.log.warn({ informer: this.o.name, err, retryInMs: backoffMs }, 'list/watch failed; retrying');
        await this.o.clock.sleep(backoffMs);
        backoffMs = Math.min(maxMs, backoffMs * 2);
      }
    }
  }

  private recovered(): void {
    if (!this.hasSynced) {
      this.hasSynced = true;
      this.o.log.debug({ informer: this.o.name, objects: this.store.size }, 'informer synced');
      for (const w of this.syncWaiters.splice(0)) w();
    } else if (this.broken) {
      this.broken = false;
      this.o.log.info({ informer: this.o.name }, 'watching again');
      this.o.onResumed?.();
    }
  }

  private async relist(): Promise<void> {
    this.counters.relists++;
    const list = await this.o.client.list<{ metadata?: { resourceVersion?: string }; items: T[] }>(this.o.path, {
      labelSelector: this.o.labelSelector,
      fieldSelector: this.o.fieldSelector,
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
        this.o.log.error({ informer: this.o.name, err }, 'informer handler threw');
      }
    }
  }

  /** One watch request; resolves when the server ends it normally, rejects on any failure. */
  private async watch(onOpen: () => void): Promise<void> {
    const timeoutSeconds = this.o.watchTimeoutSeconds ?? 300;
    const url = new URL(this.o.path, this.o.client.server);
    url.searchParams.set('watch', 'true');
    url.searchParams.set('resourceVersion', this.resourceVersion);
    url.searchParams.set('allowWatchBookmarks', 'true');
    url.searchParams.set('timeoutSeconds', String(timeoutSeconds));
    if (this.o.labelSelector !== undefined) url.searchParams.set('labelSelector', this.o.labelSelector);
    if (this.o.fieldSelector !== undefined) url.searchParams.set('fieldSelector', this.o.fieldSelector);
    const opts: RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
    await this.o.client.kubeConfig.applyToHTTPSOptions(opts);
    // Silence longer than this means the connection is dead, whatever TCP thinks.
    const silenceMs = this.o.idleTimeoutMs ?? (timeoutSeconds + 30) * 1000;

    await new Promise<void>((resolve, reject) => {
      const req = request(url, { ...opts, timeout: silenceMs }, (res) => {
        if (res.statusCode === 410) {
          res.resume();
          reject(new GoneError('410 Gone'));
          return;
        }
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`watch ${this.o.path}: HTTP ${String(res.statusCode)}`));
          return;
        }
        onOpen();
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (line.trim() === '') continue;
            try {
              this.onEvent(JSON.parse(line) as { type: string; object: T & { code?: number } });
            } catch (err) {
              req.destroy(err instanceof Error ? err : new Error(String(err)));
              return;
            }
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`watch ${this.o.path}: silent for ${silenceMs} ms`)));
      req.on('error', (err) => reject(err));
      this.current = req;
      req.end();
    }).finally(() => {
      this.current = undefined;
    });
  }

  private onEvent(ev: { type: string; object: T & { code?: number; message?: string } }): void {
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
        if (obj.code === 410) throw new GoneError(obj.message ?? '410 Gone');
        throw new Error(`watch error: ${obj.message ?? JSON.stringify(obj)}`);
      default:
        return;
    }
    const rv = obj.metadata?.resourceVersion;
    if (rv !== undefined && rv !== '') this.resourceVersion = rv;
  }
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
