// Leases (coordination.k8s.io/v1) as plain records, read and written with
// optimistic concurrency: an update carries the resourceVersion it read, and
// the API server refuses it with 409 (ApiError K8S_CONFLICT) if anyone wrote
// in between. That refusal is what makes exactly one contender win.
import { hasCode } from '../errors.js';
import type { ApiClient, ApiLane } from './api-client.js';
import type { Lease } from './types.js';

/** The Lease collection of a namespace. */
export function leasesPath(namespace: string): string {
  return `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
}

/** One Lease. */
export function leasePath(namespace: string, name: string): string {
  return `${leasesPath(namespace)}/${name}`;
}

export interface LeaseRecord {
  name: string;
  holder: string;
  durationSeconds: number;
  acquireTime: string | undefined;
  renewTime: string | undefined;
  transitions: number;
  /** The version this record was read at; required for update. */
  resourceVersion: string | undefined;
  labels?: Readonly<Record<string, string>>;
  annotations?: Readonly<Record<string, string>>;
}

export interface LeaseStore {
  get(name: string): Promise<LeaseRecord | undefined>;
  create(record: LeaseRecord): Promise<LeaseRecord>;
  update(record: LeaseRecord): Promise<LeaseRecord>;
  /** Deletes if it is still at record.resourceVersion (a precondition, so a lease someone just took is not removed). */
  delete(record: LeaseRecord): Promise<void>;
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function leaseToRecord(lease: Lease): LeaseRecord {
  return {
    name: lease.metadata.name,
    holder: lease.spec?.holderIdentity ?? '',
    durationSeconds: lease.spec?.leaseDurationSeconds ?? 0,
    acquireTime: lease.spec?.acquireTime,
    renewTime: lease.spec?.renewTime,
    transitions: lease.spec?.leaseTransitions ?? 0,
    resourceVersion: lease.metadata.resourceVersion,
    ...(lease.metadata.labels !== undefined ? { labels: lease.metadata.labels } : {}),
    ...(lease.metadata.annotations !== undefined ? { annotations: lease.metadata.annotations } : {}),
  };
}

export function recordToLease(namespace: string, record: LeaseRecord): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: record.name,
      namespace,
      ...(record.resourceVersion !== undefined ? { resourceVersion: record.resourceVersion } : {}),
      ...(record.labels !== undefined ? { labels: record.labels } : {}),
      ...(record.annotations !== undefined ? { annotations: record.annotations } : {}),
    },
    spec: {
      holderIdentity: record.holder,
      leaseDurationSeconds: record.durationSeconds,
      ...(record.acquireTime !== undefined ? { acquireTime: record.acquireTime } : {}),
      ...(record.renewTime !== undefined ? { renewTime: record.renewTime } : {}),
      leaseTransitions: record.transitions,
    },
  };
}

export class KubeLeaseStore implements LeaseStore {
  /**
   * timeoutMs bounds each request, queueing included: a renewal that hangs
   * must fail in time for the holder to act on it. lane picks the client's
   * connection pool: 'leases' for IP leases (the default), 'liveness' for
   * the store that renews only this speaker's own liveness Lease.
   */
  constructor(
    private readonly client: ApiClient,
    readonly namespace: string,
    private readonly timeoutMs?: number,
    private readonly lane: ApiLane = 'leases',
  ) {}

  collectionPath(): string {
    return leasesPath(this.namespace);
  }

  async get(name: string): Promise<LeaseRecord | undefined> {
    try {
      return leaseToRecord(await this.client.request<Lease>({ verb: 'get', path: leasePath(this.namespace, name), ...this.bounds() }));
    } catch (err) {
      if (hasCode(err, 'K8S_NOT_FOUND')) return undefined;
      throw err;
    }
  }

  async create(record: LeaseRecord): Promise<LeaseRecord> {
    const { resourceVersion: _ignored, ...fresh } = record;
    return leaseToRecord(
      await this.client.request<Lease>({
        verb: 'create',
        path: this.collectionPath(),
        body: recordToLease(this.namespace, { ...fresh, resourceVersion: undefined }),
        ...this.bounds(),
      }),
    );
  }

  async update(record: LeaseRecord): Promise<LeaseRecord> {
    return leaseToRecord(
      await this.client.request<Lease>({
        verb: 'update',
        path: leasePath(this.namespace, record.name),
        body: recordToLease(this.namespace, record),
        ...this.bounds(),
      }),
    );
  }

  async delete(record: LeaseRecord): Promise<void> {
    await this.client.request({
      verb: 'delete',
      path: leasePath(this.namespace, record.name),
      body: {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        ...(record.resourceVersion !== undefined ? { preconditions: { resourceVersion: record.resourceVersion } } : {}),
      },
      ...this.bounds(),
    });
  }

  private bounds(): { lane: ApiLane; timeoutMs: number | undefined } {
    return { lane: this.lane, timeoutMs: this.timeoutMs };
  }
}
