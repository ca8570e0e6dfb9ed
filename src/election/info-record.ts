// A speaker's change-only info record, for the slow liveness mode
// (docs/heartbeats.md, step 3): what its peers need of it (the pools it can
// serve, its interfaces, where it takes heartbeats, its boot id), written
// when that changes and not otherwise, so every speaker can watch every
// info record at no steady cost. It names its speaker as holder while the
// speaker runs, and nobody once it left (SIGTERM), so peers stop counting on
// it at once. Deleted or edited by hand, it is written again as soon as the
// watch shows it. It says nothing of liveness: a crashed speaker's record
// stays as it was; heartbeats and the slow liveness Lease tell.
import type { Clock } from '../clock.js';
import { errorCode } from '../errors.js';
import { HANDOVER_ANNOTATION, infoRecordName, leaseLabels } from '../k8s/lease-names.js';
import { type LeaseRecord, type LeaseStore, microTime } from '../k8s/lease-store.js';
import type { Logger } from '../observability/logger.js';

// The API requires a positive leaseDurationSeconds; a change-only record never expires: an hour, for people.
const INFO_DURATION_SECONDS = 3_600;
// A failed write is tried again after 1 s, doubling to 10 s: an outage is not hammered, a blip costs a second.
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 10_000;

export interface InfoRecordOptions {
  node: string;
  store: LeaseStore;
  clock: Clock;
  log: Logger;
  /** What the record should say now. */
  annotations(): Record<string, string>;
  /** How long after its release this speaker may still answer for its IPs (its hand-over timeout). */
  handoverMs: number;
  /** After each successful write (counted by the caller). */
  onWritten?(): void;
}

export class InfoRecord {
  private record: LeaseRecord | undefined;
  /** The annotations written last, as a stable string. */
  private written: string | undefined;
  private writing = false;
  private released = false;
  private failures = 0;
  private notBefore = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: InfoRecordOptions) {}

  get name(): string {
    return infoRecordName(this.o.node);
  }

  /** Writes the record if what it should say changed (cheap to call often: compares, and writes one at a time). */
  sync(): void {
    if (this.released || this.writing || this.o.clock.now() < this.notBefore) return;
    const annotations = this.o.annotations();
    if (stable(annotations) === this.written) return;
    this.writing = true;
    void this.write(annotations).finally(() => {
      this.writing = false;
    });
  }

  /** The watch shows our record (undefined: deleted): if it is not what we wrote (edited, deleted), write it again. */
  seen(record: LeaseRecord | undefined): void {
    if (this.released) return;
    if (record === undefined || record.holder !== this.o.node || stable(record.annotations ?? {}) !== this.written) {
      this.written = undefined;
      this.record = record;
    }
  }

  /** SIGTERM: the record names nobody, so peers stop counting on this speaker at once, and says how long it hands its IPs over. */
  async release(): Promise<void> {
    this.released = true;
    const current = this.record ?? (await this.o.store.get(this.name).catch(() => undefined));
    if (current === undefined) return;
    await this.o.store
      .update({
        ...current,
        holder: '',
        renewTime: microTime(this.o.clock.wallNow()),
        annotations: { ...current.annotations, [HANDOVER_ANNOTATION]: String(this.o.handoverMs) },
      })
      .catch((err: unknown) => this.o.log.warn({ err }, 'could not release the info record'));
  }

  private async write(annotations: Record<string, string>): Promise<void> {
    const wall = microTime(this.o.clock.wallNow());
    const desired = {
      holder: this.o.node,
      durationSeconds: INFO_DURATION_SECONDS,
      renewTime: wall,
      labels: leaseLabels('speaker-info'),
      annotations,
    };
    try {
      if (this.record === undefined) {
        const current = await this.o.store.get(this.name);
        this.record =
          current === undefined
            ? await this.o.store.create({ name: this.name, acquireTime: wall, transitions: 0, resourceVersion: undefined, ...desired })
            : await this.o.store.update({ ...current, ...desired, acquireTime: wall });
      } else {
        this.record = await this.o.store.update({ ...this.record, ...desired });
      }
      this.written = stable(annotations);
      this.failures = 0;
      this.o.onWritten?.();
    } catch (err) {
      // 409 or 404: someone else wrote or deleted it; read it afresh next time.
      const code = errorCode(err);
      if (code === 'K8S_CONFLICT' || code === 'K8S_NOT_FOUND' || code === 'K8S_ALREADY_EXISTS') this.record = undefined;
      this.failures++;
      this.notBefore = this.o.clock.now() + Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (this.failures - 1));
      this.o.log.debug({ err, code }, 'info record write failed');
    }
  }
}

function stable(a: Record<string, string>): string {
  return JSON.stringify(Object.entries(a).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}
