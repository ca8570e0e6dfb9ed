import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { service } from '../testing/ipam-fixtures.js';
import { isManaged } from './service-class.js';

const CLASS = 'baton.dev/layer2';

describe('isManaged', () => {
  it('takes LoadBalancer Services with the OpenELB annotation and no class', () => {
    assert.equal(isManaged(service('a'), CLASS), true);
  });

  it('takes Services with Baton’s class, annotation or not', () => {
    assert.equal(isManaged(service('b', { openelb: false, loadBalancerClass: CLASS }), CLASS), true);
  });

  it('never touches a Service of another class, even annotated', () => {
    assert.equal(isManaged(service('c', { loadBalancerClass: 'metallb.io/metallb' }), CLASS), false);
  });

  it('ignores Services with neither, and non-LoadBalancer Services', () => {
    assert.equal(isManaged(service('d', { openelb: false }), CLASS), false);
    assert.equal(isManaged(service('e', { type: 'ClusterIP' }), CLASS), false);
    assert.equal(
      isManaged(service('f', { annotations: { 'lb.kubesphere.io/v1alpha1': 'porter' } }), CLASS),
      false,
      'the value must be openelb',
    );
  });
});
