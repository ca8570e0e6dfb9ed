import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Node } from '../k8s/types.js';
import { PoolSet } from '../ipam/pool-set.js';
import { poolFromEip } from '../ipam/pool.js';
import { eip, service } from '../ipam/test-fixtures.js';
import { announcements, readyEndpointNodes } from './announcements.js';
import { EXCLUDE_LABEL, ineligibility } from './eligibility.js';

function node(name: string, conditions: Array<[string, string]> = [['Ready', 'True']], labels: Record<string, string> = {}): Node {
  return { metadata: { name, labels }, status: { conditions: conditions.map(([type, status]) => ({ type, status })) } };
}

const base = { live: true, pools: new Set(['pool']), pool: 'pool', endpointNodes: undefined };

describe('ineligibility', () => {
  it('accepts a live, Ready node with the pool’s interface', () => {
    assert.equal(ineligibility('n1', { ...base, node: node('n1') }), undefined);
  });

  it('names each reason a node may not announce', () => {
    assert.equal(ineligibility('n1', { ...base, node: node('n1'), live: false }), 'not-live');
    assert.equal(ineligibility('n1', { ...base, node: undefined }), 'no-node');
    assert.equal(ineligibility('n1', { ...base, node: node('n1', [['Ready', 'False']]) }), 'not-ready');
    assert.equal(ineligibility('n1', { ...base, node: node('n1', [['Ready', 'Unknown']]) }), 'not-ready');
    assert.equal(ineligibility('n1', { ...base, node: node('n1', []) }), 'not-ready', 'no Ready condition at all');
    assert.equal(ineligibility('n1', { ...base, node: node('n1', [['Ready', 'True'], ['NetworkUnavailable', 'True']]) }), 'network-unavailable');
    assert.equal(ineligibility('n1', { ...base, node: node('n1', [['Ready', 'True']], { [EXCLUDE_LABEL]: '' }) }), 'excluded', 'the label counts whatever its value');
    assert.equal(ineligibility('n1', { ...base, node: node('n1'), pools: new Set(['other']) }), 'no-interface');
    assert.equal(ineligibility('n1', { ...base, node: node('n1'), endpointNodes: new Set(['n2']) }), 'no-endpoints');
    assert.equal(ineligibility('n2', { ...base, node: node('n2'), endpointNodes: new Set(['n2']) }), undefined);
  });
});

function slice(ns: string, svc: string, endpoints: Array<{ node: string; ready?: boolean }>): EndpointSlice {
  return {
    metadata: { name: `${svc}-abc`, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    endpoints: endpoints.map((e) => ({ addresses: ['198.51.100.9'], nodeName: e.node, ...(e.ready !== undefined ? { conditions: { ready: e.ready } } : {}) })),
  };
}

describe('announcements', () => {
  const pools = PoolSet.evaluate([
    poolFromEip(eip('l2', { address: '192.0.2.200-192.0.2.250' })),
    poolFromEip(eip('v6', { address: '2001:db8::/120' })),
  ]);

  it('lists every IPv4 address of managed Services in ready pools, with the pool’s interface', () => {
    const a = announcements([service('web', { ingress: ['192.0.2.200'] }), service('foreign', { ingress: ['192.0.2.201'], loadBalancerClass: 'x/y' })], pools, [], 'baton.dev/layer2');
    assert.deepEqual([...a.keys()], ['192.0.2.200']);
    assert.equal(a.get('192.0.2.200')?.interfaceSpec, 'eth0');
    assert.equal(a.get('192.0.2.200')?.endpointNodes, undefined, 'Cluster policy: any node');
  });

  it('leaves out addresses in no ready pool, IPv6 (no NDP yet) and Services being deleted', () => {
    const deleting = service('gone', { ingress: ['192.0.2.202'] });
    const a = announcements(
      [service('outside', { ingress: ['192.0.2.9'] }), service('six', { ingress: ['2001:db8::5'] }), { ...deleting, metadata: { ...deleting.metadata, deletionTimestamp: 'now' } }],
      pools,
      [],
      'baton.dev/layer2',
    );
    assert.equal(a.size, 0);
  });

  it('restricts Local Services to nodes with a ready endpoint, intersected across Services sharing the IP', () => {
    const slices = [slice('default', 'a', [{ node: 'n1' }, { node: 'n2' }, { node: 'n3', ready: false }]), slice('default', 'b', [{ node: 'n2' }, { node: 'n3' }])];
    const a = announcements(
      [service('a', { ingress: ['192.0.2.210'], etp: 'Local' }), service('b', { ingress: ['192.0.2.210'], etp: 'Local', ports: [{ port: 81 }] })],
      pools,
      slices,
      'baton.dev/layer2',
    );
    assert.deepEqual([...(a.get('192.0.2.210')?.endpointNodes ?? [])], ['n2']);
    assert.equal(a.get('192.0.2.210')?.services.length, 2);
  });

  it('reads ready endpoints per Service from EndpointSlices', () => {
    const m = readyEndpointNodes([slice('ns', 'svc', [{ node: 'n1' }, { node: 'n2', ready: false }])]);
    assert.deepEqual([...(m.get('ns/svc') ?? [])], ['n1']);
  });
});
