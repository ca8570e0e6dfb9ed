import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Eip, EndpointSlice } from '../k8s/types.js';
import { PublishedPools } from '../pools/published-pools.js';
import { eip, service } from '../testing/ipam-fixtures.js';
import { announcements, readyEndpointNodes } from './announcements.js';

/** An Eip as the controller leaves it once it judged the pool ready (or not). */
function ready(e: Eip): Eip {
  return {
    ...e,
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'Accepted', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    },
  };
}
function notReady(e: Eip): Eip {
  return {
    ...e,
    status: {
      conditions: [{ type: 'Ready', status: 'False', reason: 'Overlap', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    },
  };
}

function slice(ns: string, svc: string, endpoints: Array<{ node: string; ready?: boolean }>): EndpointSlice {
  return {
    metadata: { name: `${svc}-abc`, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    endpoints: endpoints.map((e) => ({
      addresses: ['198.51.100.9'],
      nodeName: e.node,
      ...(e.ready !== undefined ? { conditions: { ready: e.ready } } : {}),
    })),
  };
}

describe('announcements', () => {
  const pools = PublishedPools.fromEips([
    ready(eip('l2', { address: '192.0.2.200-192.0.2.250' })),
    ready(eip('v6', { address: '2001:db8::/120' })),
  ]);

  it('lists every IPv4 address of managed Services in ready pools, with the pool’s interface', () => {
    const a = announcements(
      [service('web', { ingress: ['192.0.2.200'] }), service('foreign', { ingress: ['192.0.2.201'], loadBalancerClass: 'x/y' })],
      pools,
      [],
      'baton.dev/layer2',
    );
    assert.deepEqual([...a.keys()], ['192.0.2.200']);
    assert.equal(a.get('192.0.2.200')?.interfaceSpec, 'eth0');
    assert.equal(a.get('192.0.2.200')?.endpointNodes, undefined, 'Cluster policy: any node');
  });

  it('leaves out addresses in no published-ready pool and Services being deleted', () => {
    const deleting = service('gone', { ingress: ['192.0.2.202'] });
    const a = announcements(
      [
        service('outside', { ingress: ['192.0.2.9'] }),
        service('six', { ingress: ['2001:db8:1::5'] }),
        { ...deleting, metadata: { ...deleting.metadata, deletionTimestamp: 'now' } },
      ],
      pools,
      [],
      'baton.dev/layer2',
    );
    assert.equal(a.size, 0);
  });

  it('restricts Local Services to nodes with a ready endpoint, intersected across Services sharing the IP', () => {
    const slices = [
      slice('default', 'a', [{ node: 'n1' }, { node: 'n2' }, { node: 'n3', ready: false }]),
      slice('default', 'b', [{ node: 'n2' }, { node: 'n3' }]),
    ];
    const a = announcements(
      [
        service('a', { ingress: ['192.0.2.210'], etp: 'Local' }),
        service('b', { ingress: ['192.0.2.210'], etp: 'Local', ports: [{ port: 81 }] }),
      ],
      pools,
      slices,
      'baton.dev/layer2',
    );
    assert.deepEqual([...(a.get('192.0.2.210')?.endpointNodes ?? [])], ['n2']);
    assert.equal(a.get('192.0.2.210')?.services.length, 2);
  });

  it('announces IPv6 addresses on their own, and the IPv6 address of a dual-stack Service following its IPv4 one', () => {
    const a = announcements(
      [service('six', { ingress: ['2001:db8::5'] }), service('dual', { ingress: ['192.0.2.220', '2001:DB8::7'] })],
      pools,
      [],
      'baton.dev/layer2',
    );
    assert.equal(a.get('2001:db8::5')?.follows, undefined, 'IPv6 only: its own election');
    assert.equal(a.get('2001:db8::7')?.follows, '192.0.2.220', 'dual stack: one owner for both');
    assert.equal(a.get('192.0.2.220')?.follows, undefined);
  });

  it('a shared IPv6 address follows the smallest IPv4 address of its Services, whatever their order', () => {
    const services = [
      service('b', { ingress: ['192.0.2.230', '2001:db8::9'] }),
      service('a', { ingress: ['192.0.2.210', '2001:db8::9'], ports: [{ port: 81 }] }),
    ];
    assert.equal(announcements(services, pools, [], 'baton.dev/layer2').get('2001:db8::9')?.follows, '192.0.2.210');
    assert.equal(announcements([...services].reverse(), pools, [], 'baton.dev/layer2').get('2001:db8::9')?.follows, '192.0.2.210');
  });

  it('announces nothing of a pool the controller has not (yet) published as ready', () => {
    const judged = PublishedPools.fromEips([
      eip('fresh', { address: '192.0.2.200-192.0.2.250' }),
      notReady(eip('overlapping', { address: '192.0.2.220/30' })),
    ]);
    const a = announcements(
      [service('web', { ingress: ['192.0.2.200'] }), service('other', { ingress: ['192.0.2.221'] })],
      judged,
      [],
      'baton.dev/layer2',
    );
    assert.equal(a.size, 0);
  });

  it('reads ready endpoints per Service from EndpointSlices', () => {
    const m = readyEndpointNodes([slice('ns', 'svc', [{ node: 'n1' }, { node: 'n2', ready: false }])]);
    assert.deepEqual([...(m.get('ns/svc') ?? [])], ['n1']);
  });
});
