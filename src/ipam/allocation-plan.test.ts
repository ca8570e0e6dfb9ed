import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Eip, Service } from '../k8s/types.js';
import { formatIp, parseIp } from '../net/ip.js';
import { poolFromEip } from '../pools/pool.js';
import { PoolSet } from '../pools/pool-set.js';
import { eip, service } from '../testing/ipam-fixtures.js';
import { AddressTable } from './address-table.js';
import { holderOf, type Plan, planAddresses } from './allocation-plan.js';
import { type LoadBalancerRequest, loadBalancerRequest } from './service-request.js';
import { sharingConflict } from './sharing.js';

function request(svc: Service): LoadBalancerRequest {
  const r = loadBalancerRequest(svc);
  assert.ok(r.ok, 'request parses');
  return r.request;
}

class World {
  table = new AddressTable();
  eips: Eip[] = [];
  labels: Record<string, Record<string, string>> = {};

  pools(): PoolSet {
    return PoolSet.evaluate(this.eips.map(poolFromEip), (n) => this.table.countIn(n));
  }

  plan(svc: Service): Plan {
    const req = request(svc);
    return planAddresses(req, { pools: this.pools(), table: this.table, namespaceLabels: this.labels[req.namespace] ?? {} });
  }

  /** Plans and applies, as the reconciler does: release what is no longer planned, assign what is. */
  apply(svc: Service): string[] {
    const req = request(svc);
    const plan = this.plan(svc);
    if (!plan.ok) throw Object.assign(new Error(plan.message), { reason: plan.reason });
    const keep = new Set(plan.addresses.map((a) => formatIp(a.ip)));
    for (const held of this.table.allocationsOf(req.key)) if (!keep.has(held.text)) this.table.releaseOne(req.key, held.text);
    for (const a of plan.addresses) this.table.assign(a.ip, a.pool, holderOf(req));
    return plan.addresses.map((a) => formatIp(a.ip));
  }

  failure(svc: Service): string {
    const plan = this.plan(svc);
    assert.ok(!plan.ok, 'plan fails');
    return plan.reason;
  }
}

describe('planAddresses', () => {
  it('waits for a named pool that does not exist, then allocates from it once it does (the seed Service)', () => {
    const w = new World();
    w.eips.push(eip('eip-sample-pool', { address: '192.168.0.91-192.168.0.100' }, { default: true }));
    const seed = service('layer2-svc', { annotations: { 'eip.openelb.kubesphere.io/v1alpha2': 'layer2-eip' } });
    assert.equal(w.failure(seed), 'PoolNotFound', 'never silently takes the default pool instead');
    w.eips.push(eip('layer2-eip', { address: '192.0.2.200-192.0.2.210' }));
    assert.deepEqual(w.apply(seed), ['192.0.2.200']);
  });

  it('hands out the lowest free address and reuses a released one', () => {
    const w = new World();
    w.eips.push(eip('pool', { address: '192.0.2.0/29' }, { default: true }));
    const a = service('a');
    const b = service('b');
    const c = service('c');
    assert.deepEqual(w.apply(a), ['192.0.2.1'], 'network address skipped');
    assert.deepEqual(w.apply(b), ['192.0.2.2']);
    w.table.releaseService('default/a');
    assert.deepEqual(w.apply(c), ['192.0.2.1']);
  });

  it('reports an exhausted pool, then gives the next freed address', () => {
    const w = new World();
    w.eips.push(eip('tiny', { address: '192.0.2.10-192.0.2.11' }, { default: true }));
    w.apply(service('a'));
    w.apply(service('b'));
    const waiting = service('c');
    assert.equal(w.failure(waiting), 'PoolExhausted');
    w.table.releaseService('default/b');
    assert.deepEqual(w.apply(waiting), ['192.0.2.11']);
  });

  it('keeps existing addresses of a disabled pool but gives no new ones', () => {
    const w = new World();
    w.eips.push(eip('pool', { address: '192.0.2.10-192.0.2.20' }, { default: true }));
    const a = service('a');
    w.apply(a);
    w.eips[0] = { ...w.eips[0]!, spec: { ...w.eips[0]!.spec, disable: true } };
    assert.deepEqual(w.apply(a), ['192.0.2.10'], 'kept');
    assert.equal(w.failure(service('b')), 'PoolDisabled');
  });

  it('gives a requested address from the right pool and refuses one outside every pool', () => {
    const w = new World();
    w.eips.push(eip('pool', { address: '192.0.2.10-192.0.2.20' }));
    assert.deepEqual(w.apply(service('a', { annotations: { 'eip.openelb.kubesphere.io/v1alpha1': '192.0.2.15' } })), ['192.0.2.15']);
    assert.equal(w.failure(service('b', { loadBalancerIP: '192.0.2.99' })), 'IPOutsidePool');
    assert.equal(
      w.failure(
        service('c', {
          annotations: { 'eip.openelb.kubesphere.io/v1alpha1': '192.0.2.16', 'eip.openelb.kubesphere.io/v1alpha2': 'other' },
        }),
      ),
      'IPOutsidePool',
      'the address must be in the named pool',
    );
  });

  it('shares a requested address only when ports and policy allow', () => {
    const w = new World();
    w.eips.push(eip('pool', { address: '192.0.2.10-192.0.2.20' }));
    const ip = { 'eip.openelb.kubesphere.io/v1alpha1': '192.0.2.12' };
    w.apply(service('web', { annotations: ip, ports: [{ port: 80 }] }));
    assert.deepEqual(
      w.apply(service('dns', { annotations: ip, ports: [{ port: 53, protocol: 'UDP' }] })),
      ['192.0.2.12'],
      'different ports share',
    );
    assert.equal(w.failure(service('clash', { annotations: ip, ports: [{ port: 80 }] })), 'IPInUse');
    assert.equal(w.failure(service('local', { annotations: ip, ports: [{ port: 8443 }], etp: 'Local' })), 'IPInUse');
    assert.equal(w.table.usedIn('pool')['192.0.2.12'], 'default/dns;default/web');
  });

  it('never picks a held address automatically, even a shareable one', () => {
    const w = new World();
    w.eips.push(eip('pool', { address: '192.0.2.10-192.0.2.11' }, { default: true }));
    w.apply(service('a', { annotations: { 'eip.openelb.kubesphere.io/v1alpha1': '192.0.2.10' } }));
    assert.deepEqual(w.apply(service('b', { ports: [{ port: 9999 }] })), ['192.0.2.11']);
  });

  it('prefers namespace-bound pools and falls back to the default; without either it says so', () => {
    const w = new World();
    w.eips.push(eip('default', { address: '192.0.2.10-192.0.2.19' }, { default: true }));
    w.eips.push(eip('team', { address: '192.0.2.20-192.0.2.20', namespaces: ['team'] }));
    assert.deepEqual(w.apply(service('a', { namespace: 'team' })), ['192.0.2.20']);
    assert.deepEqual(w.apply(service('b', { namespace: 'team' })), ['192.0.2.10'], 'bound pool full: the default');
    const lonely = new World();
    lonely.eips.push(eip('unbound', { address: '192.0.2.10-192.0.2.19' }));
    assert.equal(lonely.failure(service('c')), 'NoEligiblePool');
  });

  it('gives dual-stack Services one address per family, and all-or-nothing for RequireDualStack', () => {
    const w = new World();
    w.eips.push(eip('v4', { address: '192.0.2.10-192.0.2.19' }, { default: true }));
    const prefer = service('p', { families: ['IPv4', 'IPv6'], policy: 'PreferDualStack' });
    const plan = w.plan(prefer);
    assert.ok(plan.ok);
    assert.deepEqual(
      plan.addresses.map((a) => formatIp(a.ip)),
      ['192.0.2.10'],
    );
    assert.equal(plan.skipped[0]?.reason, 'NoEligiblePool', 'the IPv6 half is reported');
    const require = service('r', { families: ['IPv4', 'IPv6'], policy: 'RequireDualStack' });
    assert.equal(w.failure(require), 'NoEligiblePool');
    w.eips.push(eip('v6', { address: '2001:db8::10-2001:db8::1f' }, { default: true }));
    assert.deepEqual(w.apply(require), ['192.0.2.10', '2001:db8::10']);
  });

  it('keeps a Service’s address when a newer pool becomes the namespace favourite (sticky)', () => {
    const w = new World();
    w.eips.push(eip('default', { address: '192.0.2.10-192.0.2.19' }, { default: true }));
    const a = service('a', { namespace: 'team' });
    w.apply(a);
    w.eips.push(eip('team', { address: '192.0.2.20-192.0.2.29', namespaces: ['team'] }));
    assert.deepEqual(w.apply(a), ['192.0.2.10']);
  });

  it('moves a Service when it names another pool, and keeps the old address if the move fails', () => {
    const w = new World();
    w.eips.push(eip('one', { address: '192.0.2.10-192.0.2.19' }, { default: true }));
    w.eips.push(eip('two', { address: '192.0.2.20-192.0.2.29' }));
    const a = service('a');
    w.apply(a);
    const moved = {
      ...a,
      metadata: { ...a.metadata, annotations: { ...a.metadata.annotations, 'eip.openelb.kubesphere.io/v1alpha2': 'two' } },
    };
    assert.deepEqual(w.apply(moved), ['192.0.2.20']);
    assert.equal(w.table.countIn('one'), 0, 'the old address is free');
    const broken = {
      ...a,
      metadata: { ...a.metadata, annotations: { ...a.metadata.annotations, 'eip.openelb.kubesphere.io/v1alpha2': 'three' } },
    };
    assert.equal(w.failure(broken), 'PoolNotFound');
    assert.deepEqual(
      w.table.allocationsOf('default/a').map((x) => x.text),
      ['192.0.2.20'],
      'nothing lost while the request is wrong',
    );
  });

  it('never gives one address to two Services that may not share it (property)', () => {
    type Op = { kind: 'create'; svc: number; ip: number | undefined; port: number; local: boolean } | { kind: 'delete'; svc: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant('create' as const),
        svc: fc.nat(15),
        ip: fc.option(fc.nat(5), { nil: undefined }),
        port: fc.constantFrom(80, 443, 53),
        local: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('delete' as const), svc: fc.nat(15) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const w = new World();
        w.eips.push(eip('pool', { address: '192.0.2.10-192.0.2.15' }, { default: true }));
        for (const o of ops) {
          const key = `default/s${o.svc}`;
          if (o.kind === 'delete') {
            w.table.releaseService(key);
            continue;
          }
          if (w.table.allocationsOf(key).length > 0) continue;
          const svc = service(`s${o.svc}`, {
            ports: [{ port: o.port }],
            etp: o.local ? 'Local' : 'Cluster',
            ...(o.ip !== undefined ? { annotations: { 'eip.openelb.kubesphere.io/v1alpha1': `192.0.2.${10 + o.ip}` } } : {}),
          });
          try {
            w.apply(svc);
          } catch {
            // refused: waits, holds nothing
          }
        }
        for (let i = 10; i <= 15; i++) {
          const holders = w.table.holdersOf(parseIp(`192.0.2.${i}`)!);
          for (let x = 0; x < holders.length; x++) {
            for (let y = x + 1; y < holders.length; y++) {
              assert.equal(
                sharingConflict(holders[x]!, holders[y]!),
                undefined,
                `192.0.2.${i} shared by incompatible ${holders[x]!.key} and ${holders[y]!.key}`,
              );
            }
          }
        }
        assert.ok(w.table.countIn('pool') <= 6);
      }),
      { numRuns: 300 },
    );
  });
});
