import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Eip } from '../k8s/types.js';
import { type IpAddress, parseIp } from '../net/ip.js';
import { eip } from '../testing/ipam-fixtures.js';
import { PublishedPools, publishedReady } from './published-pools.js';

function verdict(e: Eip, status: 'True' | 'False'): Eip {
  return {
    ...e,
    status: {
      conditions: [
        {
          type: 'Ready',
          status,
          reason: status === 'True' ? 'Accepted' : 'Overlap',
          message: '',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    },
  };
}
const ip = (s: string): IpAddress => parseIp(s) as IpAddress;

describe('PublishedPools: the speaker reads the controller’s verdict', () => {
  it('finds the ready pool holding an address, with its interface', () => {
    const pools = PublishedPools.fromEips([verdict(eip('a', { address: '192.0.2.0/28', interface: 'eth1' }), 'True')]);
    assert.equal(pools.poolFor(ip('192.0.2.5'))?.name, 'a');
    assert.equal(pools.poolFor(ip('192.0.2.5'))?.interface, 'eth1');
    assert.equal(pools.poolFor(ip('192.0.2.20')), undefined);
  });

  it('ignores pools judged not ready, and pools with no verdict yet', () => {
    const pools = PublishedPools.fromEips([
      verdict(eip('bad', { address: '192.0.2.0/28' }), 'False'),
      eip('new', { address: '198.51.100.0/28' }),
    ]);
    assert.equal(pools.poolFor(ip('192.0.2.5')), undefined);
    assert.equal(pools.poolFor(ip('198.51.100.5')), undefined);
    assert.equal(publishedReady(eip('new', { address: '198.51.100.0/28' })), false);
  });

  it('reads status.ready where the CRD has no conditions (OpenELB’s own CRD, kept in a migration)', () => {
    const openelb: Eip = { ...eip('old', { address: '192.0.2.0/28' }), status: { ready: true } };
    assert.equal(PublishedPools.fromEips([openelb]).poolFor(ip('192.0.2.5'))?.name, 'old');
    assert.equal(publishedReady({ ...openelb, status: { ready: false } }), false);
  });

  it('while two ready verdicts overlap (the controller between updates), the older pool wins, as in the controller', () => {
    const older = verdict(eip('older', { address: '192.0.2.0/28' }), 'True');
    const newer = verdict(eip('newer', { address: '192.0.2.0/29' }), 'True');
    assert.equal(PublishedPools.fromEips([newer, older]).poolFor(ip('192.0.2.3'))?.name, 'older');
  });
});
