import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIp } from '../net/ip.js';
import { service } from '../testing/ipam-fixtures.js';
import { loadBalancerRequest } from './service-request.js';
import { type Holder, sharingConflict } from './sharing.js';

describe('loadBalancerRequest', () => {
  it('reads the seed Service: pool layer2-eip, protocol layer2, one IPv4 address, port 80', () => {
    const r = loadBalancerRequest(
      service('layer2-svc', {
        annotations: { 'protocol.openelb.kubesphere.io/v1alpha1': 'layer2', 'eip.openelb.kubesphere.io/v1alpha2': 'layer2-eip' },
        selector: { app: 'layer2-openelb' },
      }),
    );
    assert.ok(r.ok);
    assert.deepEqual(r.request.pools, ['layer2-eip']);
    assert.deepEqual(r.request.families, [4]);
    assert.deepEqual(r.request.ports, [{ port: 80, protocol: 'TCP' }]);
    assert.equal(r.request.externalTrafficPolicyLocal, false);
  });

  it('takes a specific address from the OpenELB annotation or spec.loadBalancerIP, canonically', () => {
    const a = loadBalancerRequest(service('a', { annotations: { 'eip.openelb.kubesphere.io/v1alpha1': '192.0.2.7' } }));
    assert.ok(a.ok);
    assert.deepEqual(a.request.ips.map(formatIp), ['192.0.2.7']);
    const b = loadBalancerRequest(service('b', { loadBalancerIP: '2001:DB8:0::7', families: ['IPv6'] }));
    assert.ok(b.ok);
    assert.deepEqual(b.request.ips.map(formatIp), ['2001:db8::7']);
  });

  it('accepts the same address given both ways, refuses two different ones', () => {
    const same = loadBalancerRequest(
      service('a', { loadBalancerIP: '192.0.2.7', annotations: { 'eip.openelb.kubesphere.io/v1alpha1': '192.0.2.7' } }),
    );
    assert.ok(same.ok);
    const differ = loadBalancerRequest(
      service('b', { loadBalancerIP: '192.0.2.8', annotations: { 'eip.openelb.kubesphere.io/v1alpha1': '192.0.2.7' } }),
    );
    assert.ok(!differ.ok);
    assert.equal(differ.reason, 'ConflictingRequestedIPs');
  });

  it('refuses a malformed requested address and two of one family', () => {
    const bad = loadBalancerRequest(service('a', { annotations: { 'eip.openelb.kubesphere.io/v1alpha1': '192.0.2.300' } }));
    assert.ok(!bad.ok && bad.reason === 'InvalidRequestedIP');
    const two = loadBalancerRequest(service('b', { annotations: { 'eip.openelb.kubesphere.io/v1alpha1': '192.0.2.1,192.0.2.2' } }));
    assert.ok(!two.ok && two.reason === 'InvalidRequestedIP');
  });

  it('refuses BGP in the protocol annotation and accepts vip', () => {
    const bgp = loadBalancerRequest(service('a', { annotations: { 'protocol.openelb.kubesphere.io/v1alpha1': 'bgp' } }));
    assert.ok(!bgp.ok && bgp.reason === 'UnsupportedProtocol');
    assert.match(bgp.ok ? '' : bgp.message, /does not do BGP/);
    assert.ok(loadBalancerRequest(service('b', { annotations: { 'protocol.openelb.kubesphere.io/v1alpha1': 'vip' } })).ok);
  });

  it('follows ipFamilies and ipFamilyPolicy', () => {
    const single = loadBalancerRequest(service('a', { families: ['IPv6', 'IPv4'], policy: 'SingleStack' }));
    assert.ok(single.ok);
    assert.deepEqual(single.request.families, [6]);
    const prefer = loadBalancerRequest(service('b', { families: ['IPv4', 'IPv6'], policy: 'PreferDualStack' }));
    assert.ok(prefer.ok);
    assert.deepEqual([prefer.request.families, prefer.request.requireAllFamilies], [[4, 6], false]);
    const require = loadBalancerRequest(service('c', { families: ['IPv4', 'IPv6'], policy: 'RequireDualStack' }));
    assert.ok(require.ok);
    assert.deepEqual([require.request.families, require.request.requireAllFamilies], [[4, 6], true]);
  });

  it('reads comma-separated pools for dual stack', () => {
    const r = loadBalancerRequest(service('a', { annotations: { 'eip.openelb.kubesphere.io/v1alpha2': 'v4-pool, v6-pool' } }));
    assert.ok(r.ok);
    assert.deepEqual(r.request.pools, ['v4-pool', 'v6-pool']);
  });
});

describe('sharingConflict', () => {
  const holder = (key: string, over: Partial<Holder> = {}): Holder => ({
    key,
    createdAt: '',
    ports: [{ port: 80, protocol: 'TCP' }],
    externalTrafficPolicyLocal: false,
    selector: { app: key },
    ...over,
  });

  it('allows Cluster-policy Services on different ports', () => {
    assert.equal(sharingConflict(holder('a'), holder('b', { ports: [{ port: 443, protocol: 'TCP' }] })), undefined);
  });

  it('allows the same port number on different protocols', () => {
    assert.equal(sharingConflict(holder('a'), holder('b', { ports: [{ port: 80, protocol: 'UDP' }] })), undefined);
  });

  it('refuses a port both use', () => {
    assert.match(sharingConflict(holder('a'), holder('b')) ?? '', /port 80\/TCP is used by both/);
  });

  it('refuses Local policy with different selectors, allows it with the same one', () => {
    const local = holder('a', { externalTrafficPolicyLocal: true, selector: { app: 'x' } });
    assert.match(
      sharingConflict(local, holder('b', { ports: [{ port: 81, protocol: 'TCP' }], selector: { app: 'y' } })) ?? '',
      /same pods/,
    );
    assert.equal(
      sharingConflict(
        local,
        holder('b', { ports: [{ port: 81, protocol: 'TCP' }], selector: { app: 'x' }, externalTrafficPolicyLocal: true }),
      ),
      undefined,
    );
  });

  it('refuses Local policy without selectors (nothing tells which pods)', () => {
    const a = holder('a', { externalTrafficPolicyLocal: true, selector: undefined });
    assert.notEqual(sharingConflict(a, holder('b', { ports: [{ port: 81, protocol: 'TCP' }], selector: undefined })), undefined);
  });
});
