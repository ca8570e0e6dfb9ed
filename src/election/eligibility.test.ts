import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node } from '../k8s/types.js';
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
    assert.equal(
      ineligibility('n1', {
        ...base,
        node: node('n1', [
          ['Ready', 'True'],
          ['NetworkUnavailable', 'True'],
        ]),
      }),
      'network-unavailable',
    );
    assert.equal(
      ineligibility('n1', { ...base, node: node('n1', [['Ready', 'True']], { [EXCLUDE_LABEL]: '' }) }),
      'excluded',
      'the label counts whatever its value',
    );
    assert.equal(ineligibility('n1', { ...base, node: node('n1'), pools: new Set(['other']) }), 'no-interface');
    assert.equal(ineligibility('n1', { ...base, node: node('n1'), endpointNodes: new Set(['n2']) }), 'no-endpoints');
    assert.equal(ineligibility('n2', { ...base, node: node('n2'), endpointNodes: new Set(['n2']) }), undefined);
  });
});
