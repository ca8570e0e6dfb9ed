import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { resourceOf } from './api-resource.js';

describe('resourceOf', () => {
  it('names the resource of core and grouped paths, namespaced or not, without object names', () => {
    assert.equal(resourceOf('/apis/coordination.k8s.io/v1/namespaces/baton-system/leases/baton-ip-192-0-2-200'), 'leases');
    assert.equal(resourceOf('/apis/coordination.k8s.io/v1/namespaces/baton-system/leases'), 'leases');
    assert.equal(resourceOf('/api/v1/namespaces/default/events'), 'events');
    assert.equal(resourceOf('/api/v1/nodes/node-1'), 'nodes');
    assert.equal(resourceOf('/api/v1/namespaces/demo/services/web/status'), 'services/status');
    assert.equal(resourceOf('/apis/network.kubesphere.io/v1alpha2/eips/pool/status'), 'eips/status');
    assert.equal(resourceOf('/apis/discovery.k8s.io/v1/endpointslices?labelSelector=a%3Db'), 'endpointslices');
    assert.equal(resourceOf('/api/v1/namespaces'), 'namespaces');
    assert.equal(resourceOf('/api/v1/namespaces/demo'), 'namespaces');
  });

  it('calls what is not an API resource path "other"', () => {
    for (const p of ['/', '/healthz', '/version', '/api', '/api/v1', '/apis/coordination.k8s.io/v1', ''])
      assert.equal(resourceOf(p), 'other', p);
  });

  it('never carries a namespace or object name into the label, whatever they are', () => {
    const segment = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/);
    fc.assert(
      fc.property(segment, segment, (ns, name) => {
        assert.equal(resourceOf(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${name}`), 'leases');
        assert.equal(resourceOf(`/api/v1/namespaces/${ns}/services/${name}/status`), 'services/status');
      }),
    );
  });
});
