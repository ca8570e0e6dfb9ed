import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '../errors.js';
import { assertPacketSockets } from './packet-permission.js';

const refusing = (code: string) => (): never => {
  throw Object.assign(new Error(`socket(AF_PACKET): ${code}`), { code });
};

describe('assertPacketSockets', () => {
  it('turns a refused packet socket into PACKET_SOCKET_DENIED naming the interface and the capability to grant', () => {
    for (const code of ['EPERM', 'EACCES']) {
      assert.throws(
        () => assertPacketSockets(['eth0'], refusing(code)),
        (err: unknown) =>
          hasCode(err, 'PACKET_SOCKET_DENIED') &&
          /CAP_NET_RAW/.test((err as Error).message) &&
          (err as Error).message.includes(code) &&
          (err as Error).message.includes('eth0'),
      );
    }
  });

  it('tries the next interface when one is not usable, and says which one worked', () => {
    const tried: string[] = [];
    let closed = 0;
    const got = assertPacketSockets(['gone0', 'eth1'], (i) => {
      tried.push(i);
      if (i === 'gone0') throw Object.assign(new Error('ENODEV'), { code: 'ENODEV' });
      return { close: () => void closed++ };
    });
    assert.equal(got, 'eth1');
    assert.deepEqual(tried, ['gone0', 'eth1']);
    assert.equal(closed, 1, 'the checking socket is closed again');
  });

  it('has nothing to check without an Ethernet interface', () => {
    assert.equal(assertPacketSockets([], refusing('EPERM')), undefined);
    assert.equal(assertPacketSockets(['gone0'], refusing('ENODEV')), undefined);
  });
});
