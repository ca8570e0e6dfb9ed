import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeApiServer } from '../testing/fake-api-server.js';
import { ApiClient, type RequestOutcome } from './api-client.js';
import { accessForServer } from './kubeconfig.js';
import { KubeLeaseStore, type LeaseRecord, leasePath, leasesPath, microTime } from './lease-store.js';

const NS = 'baton-system';

function record(name: string, holder: string): LeaseRecord {
  const now = microTime(new Date(Date.UTC(2026, 0, 1, 12, 0, 0, 250)));
  return {
    name,
    holder,
    durationSeconds: 2,
    acquireTime: now,
    renewTime: now,
    transitions: 0,
    resourceVersion: undefined,
    labels: { 'app.kubernetes.io/managed-by': 'baton' },
    annotations: { 'baton.dev/ip': '192.0.2.200' },
  };
}

describe('KubeLeaseStore', () => {
  let server: FakeApiServer;
  let client: ApiClient;
  const outcomes: RequestOutcome[] = [];

  before(async () => {
    server = await FakeApiServer.start();
    client = new ApiClient(accessForServer(server.url), { onRequest: (o) => outcomes.push(o) });
  });

  after(async () => {
    client.close();
    await server.close();
  });

  it('spells the Lease paths in one place', () => {
    assert.equal(leasesPath(NS), '/apis/coordination.k8s.io/v1/namespaces/baton-system/leases');
    assert.equal(leasePath(NS, 'baton-ip-192-0-2-200'), '/apis/coordination.k8s.io/v1/namespaces/baton-system/leases/baton-ip-192-0-2-200');
  });

  it('round-trips a record through create, get and update, as a coordination.k8s.io/v1 Lease on the wire', async () => {
    const store = new KubeLeaseStore(client, NS);
    const created = await store.create({ ...record('round-trip', 'node-1'), resourceVersion: '999' });
    assert.notEqual(created.resourceVersion, '999', 'a create ignores the version it is given');
    assert.deepEqual({ ...created, resourceVersion: undefined }, record('round-trip', 'node-1'));

    const wire = server.object(leasesPath(NS), 'round-trip');
    assert.equal(wire?.['kind'], 'Lease');
    assert.deepEqual(wire?.['spec'], {
      holderIdentity: 'node-1',
      leaseDurationSeconds: 2,
      acquireTime: '2026-01-01T12:00:00.250000Z',
      renewTime: '2026-01-01T12:00:00.250000Z',
      leaseTransitions: 0,
    });

    assert.deepEqual(await store.get('round-trip'), created);
    const updated = await store.update({ ...created, holder: 'node-2', transitions: 1 });
    assert.equal(updated.holder, 'node-2');
    assert.equal(updated.transitions, 1);
    assert.notEqual(updated.resourceVersion, created.resourceVersion);
    assert.deepEqual(await store.get('round-trip'), updated);
  });

  it('refuses a second create with K8S_ALREADY_EXISTS and a stale update with K8S_CONFLICT', async () => {
    const store = new KubeLeaseStore(client, NS);
    const first = await store.create(record('contended', 'node-1'));
    await assert.rejects(store.create(record('contended', 'node-2')), { code: 'K8S_ALREADY_EXISTS' });
    await store.update({ ...first, holder: 'node-2' });
    await assert.rejects(store.update({ ...first, holder: 'node-3' }), { code: 'K8S_CONFLICT', status: 409 });
    assert.equal((await store.get('contended'))?.holder, 'node-2', 'the stale write changed nothing');
  });

  it('answers undefined for a lease that does not exist', async () => {
    assert.equal(await new KubeLeaseStore(client, NS).get('never-created'), undefined);
  });

  it('deletes only at the version it read (a precondition), and says K8S_NOT_FOUND for a missing lease', async () => {
    const store = new KubeLeaseStore(client, NS);
    const first = await store.create(record('to-delete', 'node-1'));
    const moved = await store.update({ ...first, holder: 'node-2' });
    await assert.rejects(store.delete(first), { code: 'K8S_CONFLICT' });
    assert.notEqual(await store.get('to-delete'), undefined, 'a lease someone just took is not removed');
    await store.delete(moved);
    assert.equal(await store.get('to-delete'), undefined);
    await assert.rejects(store.delete(moved), { code: 'K8S_NOT_FOUND' });
  });

  it("sends its requests on its lane: 'leases' by default, 'liveness' when asked", async () => {
    outcomes.length = 0;
    await new KubeLeaseStore(client, NS).get('lane-a');
    await new KubeLeaseStore(client, NS, 1_000, 'liveness').create(record('lane-b', 'node-1'));
    assert.deepEqual(
      outcomes.map((o) => [o.verb, o.lane, o.status]),
      [
        ['get', 'leases', 404],
        ['create', 'liveness', 201],
      ],
    );
  });
});
