// A simulated API server for the speaker simulation: Leases with the real
// server's concurrency rules (resourceVersion preconditions, AlreadyExists,
// create-on-update), a label-selected watch per speaker (each with its own
// selector, as the slow liveness mode narrows it) that can lag or stall,
// writes and delivered watch events counted per speaker, and per-speaker faults: cut off entirely, writes hanging (an etcd
// pause, a 429 storm), writes denied (an admission policy). Every answer and
// every watch event reaches a speaker through its ProcessClock, so a frozen
// speaker gets them late and a dead one never.
import { ApiError } from '../k8s/api-error.js';
import type { InformerHandlers } from '../k8s/informer.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../k8s/lease-names.js';
import { type LeaseRecord, type LeaseStore, recordToLease } from '../k8s/lease-store.js';
import type { Lease } from '../k8s/types.js';
import type { Cache } from '../speaker/speaker.js';
import type { FakeClock } from './fake-clock.js';
import type { ProcessClock } from './sim-clock.js';

type WatchEventType = 'add' | 'update' | 'delete';

/** A cache fed by a simulated watch: events arrive through the owner's clock, after a delay, unless stalled. */
export class SimCache<T extends { metadata: { name: string; namespace?: string } }> implements Cache<T> {
  private readonly objects = new Map<string, T>();
  private readonly handlers: Array<InformerHandlers<T>> = [];
  private readonly held: Array<[WatchEventType, T]> = [];
  stalled = false;
  delayMs = 0;
  /** Watch events delivered to the owner (the initial list not counted): what the API server sends it. */
  delivered = 0;

  constructor(
    private readonly clock: ProcessClock,
    initial: readonly T[] = [],
  ) {
    for (const o of initial) this.objects.set(keyOf(o), o);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.objects.get(namespace === undefined || namespace === '' ? name : `${namespace}/${name}`);
  }

  list(): readonly T[] {
    return [...this.objects.values()];
  }

  on(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  /** The first list: every object is added, as the informer's initial list adds them. */
  async start(): Promise<void> {
    for (const o of [...this.objects.values()]) {
      this.clock.run(() => {
        for (const h of this.handlers) h.add?.(o);
      });
    }
  }

  async stop(): Promise<void> {}

  /** The server sends an event; it reaches the cache after delayMs, through the owner's clock. */
  push(type: WatchEventType, obj: T): void {
    if (this.stalled) {
      this.held.push([type, obj]);
      return;
    }
    if (this.delayMs > 0) this.clock.setTimeout(() => this.deliver(type, obj), this.delayMs);
    else this.clock.run(() => this.deliver(type, obj));
  }

  /** A stalled watch comes back: what it missed arrives now, in order (as a relist would bring it). */
  unstall(): void {
    this.stalled = false;
    for (const [type, obj] of this.held.splice(0)) this.push(type, obj);
  }

  private deliver(type: WatchEventType, obj: T): void {
    this.delivered++;
    const k = keyOf(obj);
    if (type === 'delete') this.objects.delete(k);
    else this.objects.set(k, obj);
    for (const h of this.handlers) h[type]?.(obj);
  }
}

function keyOf(o: { metadata: { name: string; namespace?: string } }): string {
  return o.metadata.namespace === undefined || o.metadata.namespace === '' ? o.metadata.name : `${o.metadata.namespace}/${o.metadata.name}`;
}

/** What a speaker's API access suffers from. */
export interface ApiFaults {
  /** Cut off: every request hangs until its deadline. */
  down: boolean;
  /** Writes hang until their deadline (etcd paused, writes throttled); reads work. */
  writesHang: boolean;
  /** An admission policy: the write is refused at once with this error. */
  deny?: (verb: 'create' | 'update' | 'delete', record: LeaseRecord) => ApiError | undefined;
}

/** Which Leases a watch selects, as its label selector would. */
export type LeaseSelector = (labels: Readonly<Record<string, string>> | undefined) => boolean;

/** The speakers' selector of the fast mode: every Baton Lease (app.kubernetes.io/managed-by=baton). */
export const ALL_BATON_LEASES: LeaseSelector = (labels) => labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;

export class SimApiServer {
  private readonly leases = new Map<string, LeaseRecord>();
  private readonly watchers = new Map<SimCache<Lease>, LeaseSelector>();
  private version = 0;
  writes = 0;
  /** Every change of a lease's holder, with its time: who owned an IP at any moment. */
  readonly history: Array<{ t: number; seq: number; name: string; holder: string }> = [];

  constructor(
    readonly clock: FakeClock,
    /** The simulation's shared order of events (see WireFrame.seq). */
    private readonly nextSeq: () => number,
    readonly namespace = 'baton-system',
    /** One request's round trip on a healthy LAN. */
    readonly latencyMs = 2,
  ) {}

  /**
   * A speaker's view: a LeaseStore that answers through its clock, with its faults, each request bounded by
   * timeoutMs; every write it sends counts in counts.writes (whatever its outcome), every read in counts.reads.
   */
  viewFor(
    clock: ProcessClock,
    faults: ApiFaults,
    timeoutMs: number,
    counts: { writes: number; reads: number } = { writes: 0, reads: 0 },
  ): LeaseStore {
    const call = <R>(write: boolean, op: () => R): Promise<R> =>
      new Promise<R>((resolve, reject) => {
        if (write) counts.writes++;
        else counts.reads++;
        if (faults.down || (write && faults.writesHang)) {
          clock.setTimeout(() => reject(new ApiError('K8S_TIMEOUT', 0, `no answer in ${timeoutMs} ms (simulated)`)), timeoutMs);
          return;
        }
        let result: { ok: true; value: R } | { ok: false; err: unknown };
        try {
          result = { ok: true, value: op() };
        } catch (err) {
          result = { ok: false, err };
        }
        clock.setTimeout(() => (result.ok ? resolve(result.value) : reject(result.err)), this.latencyMs);
      });
    const denied = (verb: 'create' | 'update' | 'delete', r: LeaseRecord): void => {
      const err = faults.deny?.(verb, r);
      if (err !== undefined) throw err;
    };
    return {
      get: (name) => call(false, () => this.peekCopy(name)),
      create: (r) =>
        call(true, () => {
          denied('create', r);
          return this.create(r);
        }),
      update: (r) =>
        call(true, () => {
          denied('update', r);
          return this.update(r);
        }),
      delete: (r) =>
        call(true, () => {
          denied('delete', r);
          this.remove(r);
        }),
    };
  }

  /** A label-selected lease watch for one speaker (by default app.kubernetes.io/managed-by=baton). */
  watchFor(clock: ProcessClock, select: LeaseSelector = ALL_BATON_LEASES): SimCache<Lease> {
    const w = new SimCache<Lease>(
      clock,
      [...this.leases.values()].filter((r) => select(r.labels)).map((r) => this.wire(r)),
    );
    this.watchers.set(w, select);
    return w;
  }

  unwatch(w: SimCache<Lease>): void {
    this.watchers.delete(w);
  }

  all(): LeaseRecord[] {
    return [...this.leases.values()].map((l) => ({ ...l }));
  }

  peek(name: string): LeaseRecord | undefined {
    return this.leases.get(name);
  }

  /** An edit by hand (kubectl label, kubectl edit): applied as the server would, watchers told. */
  edit(name: string, change: (r: LeaseRecord) => LeaseRecord): void {
    const current = this.leases.get(name);
    if (current === undefined) throw new Error(`no lease ${name}`);
    this.store(change({ ...current }), current);
  }

  /** kubectl delete lease. */
  deleteByHand(name: string): void {
    const current = this.leases.get(name);
    if (current === undefined) return;
    this.remove({ ...current, resourceVersion: undefined });
  }

  /** The holder the lease named just before event seq ('' for none). */
  holderAt(name: string, seq: number): string {
    let holder = '';
    for (const h of this.history) {
      if (h.seq > seq) break;
      if (h.name === name) holder = h.holder;
    }
    return holder;
  }

  private peekCopy(name: string): LeaseRecord | undefined {
    const l = this.leases.get(name);
    return l === undefined ? undefined : { ...l };
  }

  private create(r: LeaseRecord): LeaseRecord {
    if (this.leases.has(r.name)) throw new ApiError('K8S_ALREADY_EXISTS', 409, `lease ${r.name} exists`, 'AlreadyExists');
    return this.store(r, undefined);
  }

  private update(r: LeaseRecord): LeaseRecord {
    const current = this.leases.get(r.name);
    // Leases allow create on update (upstream lease strategy); a precondition on a missing object fails.
    if (current === undefined) {
      if (r.resourceVersion !== undefined) throw new ApiError('K8S_NOT_FOUND', 404, `lease ${r.name} not found`, 'NotFound');
      return this.store(r, undefined);
    }
    if (r.resourceVersion !== current.resourceVersion) throw new ApiError('K8S_CONFLICT', 409, `lease ${r.name} was modified`, 'Conflict');
    return this.store(r, current);
  }

  private remove(r: LeaseRecord): void {
    const current = this.leases.get(r.name);
    if (current === undefined) throw new ApiError('K8S_NOT_FOUND', 404, `lease ${r.name} not found`, 'NotFound');
    if (r.resourceVersion !== undefined && r.resourceVersion !== current.resourceVersion) {
      throw new ApiError('K8S_CONFLICT', 409, `lease ${r.name} was modified`, 'Conflict');
    }
    this.writes++;
    this.version++;
    this.leases.delete(r.name);
    this.history.push({ t: this.clock.now(), seq: this.nextSeq(), name: r.name, holder: '' });
    const obj = this.wire(current);
    for (const [w, select] of this.watchers) if (select(current.labels)) w.push('delete', obj);
  }

  private store(r: LeaseRecord, before: LeaseRecord | undefined): LeaseRecord {
    this.writes++;
    const saved = { ...r, resourceVersion: String(++this.version) };
    this.leases.set(r.name, saved);
    if (before?.holder !== saved.holder)
      this.history.push({ t: this.clock.now(), seq: this.nextSeq(), name: r.name, holder: saved.holder });
    const obj = this.wire(saved);
    for (const [w, select] of this.watchers) {
      const was = before !== undefined && select(before.labels);
      const is = select(saved.labels);
      // A watch with a label selector sees an object that stops matching as deleted, one that starts matching as added.
      if (is) w.push(was ? 'update' : 'add', obj);
      else if (was) w.push('delete', obj);
    }
    return { ...saved };
  }

  private wire(r: LeaseRecord): Lease {
    return Object.freeze(recordToLease(this.namespace, r)) as Lease;
  }
}
