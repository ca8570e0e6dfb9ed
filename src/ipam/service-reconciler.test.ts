import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../observability/logger.js';
import { FakeClock } from '../testing/fake-clock.js';
import { FakeCluster } from '../testing/fake-cluster.js';
import { eip, service } from '../testing/ipam-fixtures.js';
import { EipReconciler } from './eip-reconciler.js';
import { ServiceReconciler } from './service-reconciler.js';

function setup() {
  const c = new FakeCluster();
  const services = new ServiceReconciler({
    services: c.serviceCache(),
    namespaceLabels: (ns) => c.labels.get(ns) ?? {},
    state: c.state,
    writes: c.serviceWrites(),
    events: c.eventSink(),
    fence: c.fence,
    metrics: c.metrics,
    log: silentLogger(),
    loadBalancerClass: 'baton.dev/layer2',
    clock: new FakeClock(),
  });
  const eips = new EipReconciler({
    eips: c.eipCache(),
    state: c.state,
    writes: c.eipWrites(),
    events: c.eventSink(),
    fence: c.fence,
    metrics: c.metrics,
    clock: new FakeClock(),
    log: silentLogger(),
  });
  return { c, services, eips };
}

describe('ServiceReconciler', () => {
  it('allocates, writes finalizer then status, and records an Event', async () => {
    const { c, services } = setup();
    c.addEip(eip('pool', { address: '192.0.2.10-192.0.2.12' }, { default: true }));
    c.addService(service('web'));
    await services.reconcile('default/web');
    const svc = c.service('default/web');
    assert.deepEqual(svc.status?.loadBalancer?.ingress, [{ ip: '192.0.2.10', ipMode: 'VIP' }]);
    assert.deepEqual(svc.metadata.finalizers, ['finalizer.lb.kubesphere.io/v1alpha1']);
    assert.deepEqual(c.writes, ['service default/web finalizers', 'service default/web status']);
    assert.deepEqual(
      c.events.map((e) => `${e.type} ${e.reason} ${e.message}`),
      ['Normal IPAllocated allocated 192.0.2.10 from Eip pool'],
    );
    assert.deepEqual(c.woken.poolUsage, ['pool']);
  });

  it('is idempotent: a second run on the same state writes nothing', async () => {
    const { c, services } = setup();
    c.addEip(eip('pool', { address: '192.0.2.10-192.0.2.12' }, { default: true }));
    c.addService(service('web'));
    await services.reconcile('default/web');
    const writes = c.writes.length;
    await services.reconcile('default/web');
    await services.reconcile('default/web');
    assert.equal(c.writes.length, writes);
    assert.equal(c.events.length, 1);
  });

  it('waits without writing while the cache still shows a version it replaced itself', async () => {
    const { c, services } = setup();
    c.addEip(eip('pool', { address: '192.0.2.10-192.0.2.12' }, { default: true }));
    const original = c.addService(service('web'));
    await services.reconcile('default/web');
    const fresh = c.service('default/web');
    c.services.set('default/web', original); // the informer has not delivered our writes yet
    const writes = c.writes.length;
    await services.reconcile('default/web');
    assert.equal(c.writes.length, writes, 'no write that would only earn a 409');
    c.services.set('default/web', fresh);
    await services.reconcile('default/web');
    assert.equal(c.writes.length, writes, 'caught up: nothing to do');
  });

  it('rolls back its reservation when the status write fails, so the address is not lost', async () => {
    const { c, services } = setup();
    c.addEip(eip('pool', { address: '192.0.2.10-192.0.2.10' }, { default: true }));
    c.addService(service('a'));
    c.addService(service('b'));
    c.failNextWrite = true;
    await assert.rejects(services.reconcile('default/a'), { code: 'K8S_CONNECTION_FAILED' });
    assert.equal(c.state.table.countIn('pool'), 0, 'reservation undone');
    await services.reconcile('default/b');
    assert.deepEqual(
      c.service('default/b').status?.loadBalancer?.ingress?.map((i) => i.ip),
      ['192.0.2.10'],
    );
  });

  it('refuses to write when not the leader, and reserves nothing', async () => {
    const { c, services } = setup();
    c.addEip(eip('pool', { address: '192.0.2.10-192.0.2.12' }, { default: true }));
    c.addService(service('web'));
    c.leader = false;
    await assert.rejects(services.reconcile('default/web'), { code: 'NOT_LEADER' });
    assert.equal(c.writes.length, 0);
    assert.equal(c.state.table.countIn('pool'), 0);
  });

  it('marks a Service pending with a Warning when its pool is missing, and wakes it when an address frees', async () => {
    const { c, services } = setup();
    c.addEip(eip('tiny', { address: '192.0.2.10-192.0.2.10' }, { default: true }));
    c.addService(service('first'));
    c.addService(service('second'));
    await services.reconcile('default/first');
    const result = await services.reconcile('default/second');
    assert.equal(result.requeueAfterMs, 60_000, 'a slow safety re-check');
    assert.equal(c.events.at(-1)?.reason, 'PoolExhausted');
    assert.equal(c.events.at(-1)?.type, 'Warning');
    assert.equal(c.state.pendingCount(), 1);
    c.woken.services.length = 0;
    const first = c.service('default/first');
    c.services.set('default/first', { ...first, metadata: { ...first.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } });
    await services.reconcile('default/first');
    assert.deepEqual(c.woken.services, ['default/second'], 'the waiting Service is woken');
    assert.deepEqual(c.service('default/first').metadata.finalizers, [], 'finalizer removed once released');
    await services.reconcile('default/second');
    assert.deepEqual(
      c.service('default/second').status?.loadBalancer?.ingress?.map((i) => i.ip),
      ['192.0.2.10'],
    );
  });

  it('wakes waiting Services oldest first', async () => {
    const { c, services } = setup();
    c.addEip(eip('tiny', { address: '192.0.2.10-192.0.2.10' }, { default: true }));
    for (const n of ['holder', 'old', 'mid', 'young']) c.addService(service(n));
    for (const n of ['holder', 'young', 'old', 'mid']) await services.reconcile(`default/${n}`);
    c.woken.services.length = 0;
    c.services.delete('default/holder');
    await services.reconcile('default/holder');
    assert.deepEqual(c.woken.services, ['default/old', 'default/mid', 'default/young']);
  });

  it('keeps the address when the request becomes invalid, with a Warning naming the problem', async () => {
    const { c, services } = setup();
    c.addEip(eip('pool', { address: '192.0.2.10-192.0.2.12' }, { default: true }));
    const svc = c.addService(service('web'));
    await services.reconcile('default/web');
    const now = c.service('default/web');
    c.services.set('default/web', {
      ...now,
      metadata: {
        ...now.metadata,
        resourceVersion: c.nextRv(),
        annotations: { ...svc.metadata.annotations, 'protocol.openelb.kubesphere.io/v1alpha1': 'bgp' },
      },
    });
    await services.reconcile('default/web');
    assert.equal(c.events.at(-1)?.reason, 'UnsupportedProtocol');
    assert.deepEqual(
      c.service('default/web').status?.loadBalancer?.ingress?.map((i) => i.ip),
      ['192.0.2.10'],
    );
    assert.equal(c.state.table.countIn('pool'), 1);
  });

  it('releases, clears status and drops the finalizer when a Service stops being a LoadBalancer', async () => {
    const { c, services } = setup();
    c.addEip(eip('pool', { address: '192.0.2.10-192.0.2.12' }, { default: true }));
    c.addService(service('web'));
    await services.reconcile('default/web');
    const now = c.service('default/web');
    c.services.set('default/web', {
      ...now,
      metadata: { ...now.metadata, resourceVersion: c.nextRv() },
      spec: { ...now.spec, type: 'ClusterIP' },
    });
    await services.reconcile('default/web');
    const after = c.service('default/web');
    assert.equal(after.status?.loadBalancer?.ingress, undefined);
    assert.deepEqual(after.metadata.finalizers, []);
    assert.equal(c.events.at(-1)?.reason, 'IPReleased');
    assert.equal(c.state.table.countIn('pool'), 0);
  });

  it('never touches a Service of another class', async () => {
    const { c, services } = setup();
    c.addEip(eip('pool', { address: '192.0.2.10-192.0.2.12' }, { default: true }));
    c.addService(service('foreign', { loadBalancerClass: 'example.com/lb' }));
    await services.reconcile('default/foreign');
    assert.deepEqual([c.writes, c.events], [[], []]);
  });
});

describe('IpamState.rebuild', () => {
  it('takes back what Service status says, oldest first, and leaves the younger of two clashing claims to be re-planned', async () => {
    const { c, services } = setup();
    c.addEip(eip('pool', { address: '192.0.2.10-192.0.2.20' }, { default: true }));
    const old = c.addService(service('old', { ingress: ['192.0.2.15'] }));
    const young = c.addService(service('young', { ingress: ['192.0.2.15'] }));
    c.addService(service('shared', { ingress: ['192.0.2.16'], ports: [{ port: 80 }] }));
    c.addService(service('sharer', { ingress: ['192.0.2.16'], ports: [{ port: 443 }] }));
    c.addService(service('foreign', { ingress: ['192.0.2.17'], loadBalancerClass: 'example.com/lb' }));
    const result = c.state.rebuild([...c.services.values()], 'baton.dev/layer2');
    assert.deepEqual(result, { adopted: 3, conflicts: 1 });
    assert.deepEqual(c.state.table.usedIn('pool'), { '192.0.2.15': 'default/old', '192.0.2.16': 'default/shared;default/sharer' });
    void old;
    await services.reconcile(`default/${young.metadata.name}`);
    assert.deepEqual(
      c.service('default/young').status?.loadBalancer?.ingress?.map((i) => i.ip),
      ['192.0.2.10'],
      'the younger claimant gets a free address',
    );
    await services.reconcile('default/old');
    assert.deepEqual(
      c.service('default/old').status?.loadBalancer?.ingress?.map((i) => i.ip),
      ['192.0.2.15'],
      'the older keeps its own',
    );
  });

  it('adopts an address in no pool (e.g. from OpenELB) and never hands it out again', async () => {
    const { c, services } = setup();
    c.addEip(eip('pool', { address: '192.0.2.10-192.0.2.20' }, { default: true }));
    c.addService(service('legacy', { ingress: ['203.0.113.77'] }));
    c.state.rebuild([...c.services.values()], 'baton.dev/layer2');
    await services.reconcile('default/legacy');
    assert.deepEqual(
      c.service('default/legacy').status?.loadBalancer?.ingress?.map((i) => i.ip),
      ['203.0.113.77'],
    );
    assert.equal(c.writes.filter((w) => w.endsWith('status')).length, 0, 'the address is not changed');
  });
});

describe('EipReconciler', () => {
  it('adds the finalizer and writes OpenELB-format status with conditions', async () => {
    const { c, services, eips } = setup();
    c.addEip(eip('pool', { address: '192.0.2.10-192.0.2.19' }, { default: true }));
    c.addService(service('web'));
    await services.reconcile('default/web');
    await eips.reconcile('pool');
    const e = c.eips.get('pool');
    assert.deepEqual(e?.metadata.finalizers, ['finalizer.ipam.kubesphere.io/v1alpha1']);
    assert.deepEqual(
      { ...e?.status, conditions: e?.status?.conditions?.map((x) => `${x.type}=${x.status}/${x.reason}`) },
      {
        occupied: false,
        usage: 1,
        poolSize: 10,
        used: { '192.0.2.10': 'default/web' },
        firstIP: '192.0.2.10',
        lastIP: '192.0.2.19',
        v4: true,
        ready: true,
        conditions: ['Ready=True/Accepted', 'Allocatable=True/Allocatable', 'Default=True/DefaultPool'],
      },
    );
    const writes = c.writes.length;
    await eips.reconcile('pool');
    assert.equal(c.writes.length, writes, 'unchanged status is not rewritten');
  });

  it('keeps a deleted pool while it is in use, naming the users, and releases it when they are gone', async () => {
    const { c, services, eips } = setup();
    c.addEip(eip('pool', { address: '192.0.2.10-192.0.2.19' }));
    c.addService(service('web', { annotations: { 'eip.openelb.kubesphere.io/v1alpha2': 'pool' } }));
    await services.reconcile('default/web');
    await eips.reconcile('pool');
    const live = c.eips.get('pool')!;
    c.eips.set('pool', { ...live, metadata: { ...live.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } });
    c.state.poolsChanged();
    await eips.reconcile('pool');
    const waiting = c.eips.get('pool')!;
    assert.deepEqual(waiting.metadata.finalizers, ['finalizer.ipam.kubesphere.io/v1alpha1']);
    assert.match(waiting.status?.conditions?.find((x) => x.type === 'Deleting')?.message ?? '', /in use by default\/web/);
    assert.equal(c.events.at(-1)?.reason, 'InUse');
    c.services.delete('default/web');
    await services.reconcile('default/web');
    await eips.reconcile('pool');
    assert.deepEqual(c.eips.get('pool')?.metadata.finalizers, []);
  });

  it('announces a refused pool once with a Warning carrying the reason', async () => {
    const { c, eips } = setup();
    c.addEip(eip('bgp', { address: '192.0.2.0/28', protocol: 'bgp' }));
    await eips.reconcile('bgp');
    await eips.reconcile('bgp');
    const warnings = c.events.filter((e) => e.type === 'Warning');
    assert.deepEqual(
      warnings.map((w) => w.reason),
      ['UnsupportedProtocol'],
    );
    assert.equal(c.eips.get('bgp')?.status?.ready, false);
  });
});
