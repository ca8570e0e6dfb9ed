import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { audienceOf } from '../k8s/lease-names.js';
import { SPEAKER_DEFAULTS } from './config.js';
import { expectedLoad } from './expected-load.js';

const BASE = { ...SPEAKER_DEFAULTS, nodeName: 'node-1' };

describe('expectedLoad', () => {
  it('fast liveness: a renewal per interval, every Baton Lease watched, every speaker’s renewals delivered', () => {
    const l = expectedLoad({ ...BASE, liveness: 'fast' });
    assert.equal(l.writesPerSecond, 2);
    assert.deepEqual(
      l.watches.map((w) => [w.name, w.labelSelector]),
      [
        ['leases', 'app.kubernetes.io/managed-by=baton'],
        ['services', undefined],
        ['eips', undefined],
        ['endpointslices', undefined],
        ['nodes', undefined],
      ],
    );
    assert.equal(l.watches[0]?.path, '/apis/coordination.k8s.io/v1/namespaces/baton-system/leases');
    assert.deepEqual([3, 100, 1_000].map(l.leaseEventsPerSecond), [6, 200, 2_000]);
    assert.equal(l.readsPerSecond(10), 0);
    assert.equal(expectedLoad({ ...BASE, liveness: 'fast', renewIntervalMs: 250 }).writesPerSecond, 4, 'follows the flag');
  });

  it('slow liveness: 0.1 writes/s and 0.1 events/s whatever the size of the cluster; reads only for holders nobody hears', () => {
    const l = expectedLoad({ ...BASE, liveness: 'slow' });
    assert.equal(l.writesPerSecond, 0.1);
    assert.equal(l.watches[0]?.labelSelector, `app.kubernetes.io/managed-by=baton,baton.dev/audience in (all,${audienceOf('node-1')})`);
    assert.deepEqual([3, 100, 1_000].map(l.leaseEventsPerSecond), [0.1, 0.1, 0.1]);
    assert.equal(l.readsPerSecond(0), 0);
    assert.equal(l.readsPerSecond(2), 0.4, 'two holders it cannot hear, each read every 5 s');
    assert.equal(expectedLoad({ ...BASE, liveness: 'slow', renewIntervalMs: 250 }).writesPerSecond, 0.1, 'the fast timings do not apply');
  });

  it('gives each node its own audience, none of which is "all"', () => {
    assert.notEqual(audienceOf('node-1'), audienceOf('node-2'));
    assert.notEqual(audienceOf('all'), 'all');
    assert.match(audienceOf('a'.repeat(253)), /^n-[0-9a-f]{16}$/, 'a label value, whatever the node name');
  });
});
