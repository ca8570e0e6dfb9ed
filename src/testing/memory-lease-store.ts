// An in-memory LeaseStore with the API server's concurrency rule (an update
// must carry the current resourceVersion), for unit tests of election logic.
// It can be told to fail, to play an unreachable API server.
import { ApiError } from '../k8s/api-error.js';
import type { LeaseRecord, LeaseStore } from '../k8s/lease-store.js';

export class MemoryLeaseStore implements LeaseStore {
  private readonly leases = new Map<string, LeaseRecord>();
  private version = 0;
  /** While true every call fails as a dropped connection would. */
  unreachable = false;
  writes = 0;

  async get(name: string): Promise<LeaseRecord | undefined> {
    this.check();
    const l = this.leases.get(name);
    return l === undefined ? undefined : { ...l };
  }

  async create(record: LeaseRecord): Promise<LeaseRecord> {
    this.check();
    if (this.leases.has(record.name)) throw new ApiError('K8S_ALREADY_EXISTS', 409, `lease ${record.name} exists`, 'AlreadyExists');
    return this.store(record);
  }

  async update(record: LeaseRecord): Promise<LeaseRecord> {
    this.check();
    const current = this.leases.get(record.name);
    if (current === undefined) throw new ApiError('K8S_NOT_FOUND', 404, `lease ${record.name} not found`, 'NotFound');
    if (record.resourceVersion !== current.resourceVersion)
      throw new ApiError('K8S_CONFLICT', 409, `lease ${record.name} was modified`, 'Conflict');
    return this.store(record);
  }

  async delete(record: LeaseRecord): Promise<void> {
    this.check();
    const current = this.leases.get(record.name);
    if (current === undefined) throw new ApiError('K8S_NOT_FOUND', 404, `lease ${record.name} not found`, 'NotFound');
    if (record.resourceVersion !== undefined && record.resourceVersion !== current.resourceVersion) {
      throw new ApiError('K8S_CONFLICT', 409, `lease ${record.name} was modified`, 'Conflict');
    }
    this.writes++;
    this.leases.delete(record.name);
  }

  /** Every lease as stored now (what a fresh list would return). */
  all(): LeaseRecord[] {
    return [...this.leases.values()].map((l) => ({ ...l }));
  }

  peek(name: string): LeaseRecord | undefined {
    return this.leases.get(name);
  }

  private store(record: LeaseRecord): LeaseRecord {
    this.writes++;
    const saved = { ...record, resourceVersion: String(++this.version) };
    this.leases.set(record.name, saved);
    return { ...saved };
  }

  private check(): void {
    if (this.unreachable) throw new ApiError('K8S_CONNECTION_FAILED', 0, 'connect ECONNREFUSED (simulated)');
  }
}
