import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type InterfaceProbe, parseRouteTable, resolveInterface, routeInterface } from './interface-resolver.js';

// As /proc/net/route shows a node with eth0 on 192.0.2.0/24, eth1 on 198.51.100.0/24 and a default route via eth0.
const ROUTES = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0
eth0	000200C0	00000000	0001	0	0	0	00FFFFFF	0	0	0
eth1	006433C6	00000000	0001	0	0	0	00FFFFFF	0	0	0
eth2	006433C6	00000000	0001	0	0	100	00FFFFFF	0	0	0
down	007100CB	00000000	0000	0	0	0	00FFFFFF	0	0	0
`;

describe('route lookup', () => {
  it('reads /proc/net/route', () => {
    const routes = parseRouteTable(ROUTES);
    assert.equal(routes.length, 4, 'routes without RTF_UP are left out');
    assert.deepEqual(routes[1], { iface: 'eth0', destination: 0xc0000200, mask: 0xffffff00, metric: 0 });
  });

  it('picks the longest prefix, then the lowest metric, then the default route', () => {
    const routes = parseRouteTable(ROUTES);
    assert.equal(routeInterface(routes, '192.0.2.77'), 'eth0');
    assert.equal(routeInterface(routes, '198.51.100.9'), 'eth1', 'metric 0 beats 100');
    assert.equal(routeInterface(routes, '203.0.113.5'), 'eth0', 'default route');
    assert.equal(routeInterface([], '203.0.113.5'), undefined);
  });
});

describe('resolveInterface', () => {
  const probe = (present: Record<string, boolean>): InterfaceProbe => ({
    exists: (n) => n in present,
    hasCarrier: (n) => present[n] === true,
    routes: () => parseRouteTable(ROUTES),
    identity: (n) => (n in present ? { ifindex: 2, mac: '02:ba:70:00:00:0b' } : undefined),
  });

  it('takes a named interface that exists and has carrier', () => {
    assert.equal(resolveInterface('eth0', probe({ eth0: true })), 'eth0');
    assert.equal(resolveInterface('eth0', probe({ eth0: false })), undefined, 'no carrier: cable out');
    assert.equal(resolveInterface('bond0', probe({ eth0: true })), undefined, 'not on this node');
  });

  it('resolves can_reach:<ip> through the routing table', () => {
    assert.equal(resolveInterface('can_reach:198.51.100.1', probe({ eth0: true, eth1: true })), 'eth1');
    assert.equal(resolveInterface('can_reach:198.51.100.1', probe({ eth0: true })), undefined);
    assert.equal(resolveInterface('can_reach:not-an-ip', probe({ eth0: true })), undefined);
  });
});
