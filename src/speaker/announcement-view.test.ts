import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Announcement } from '../election/announcements.js';
import { AnnouncementView } from './announcement-view.js';

function announcement(ip: string, pool = 'pool-a'): Announcement {
  return { ip, pool, interfaceSpec: 'eth0', services: [], endpointNodes: undefined, follows: undefined };
}

/** A view over a mutable source, counting how often it is computed and what it reported. */
function fixture(initial: string[]) {
  const source = new Map(initial.map((ip) => [ip, announcement(ip)]));
  let computed = 0;
  const reported: string[][] = [];
  const view = new AnnouncementView(
    () => {
      computed++;
      return new Map(source);
    },
    (ips) => reported.push(ips),
  );
  return { source, view, reported, computed: () => computed };
}

const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('AnnouncementView', () => {
  it('computes once for a burst of changes and reports the IPs the burst touched, once', async () => {
    const f = fixture(['192.0.2.1', '192.0.2.2']);
    f.view.current();
    assert.equal(f.computed(), 1);
    // A relist delivering 1,000 Services calls changed() 1,000 times in one synchronous loop.
    for (let i = 0; i < 1_000; i++) {
      f.source.set(`198.51.100.${i % 250}`, announcement(`198.51.100.${i % 250}`));
      f.view.changed();
    }
    f.source.delete('192.0.2.2');
    f.view.changed();
    assert.equal(f.computed(), 1, 'nothing computed during the burst');
    await settled();
    assert.equal(f.computed(), 2, 'one computation after it');
    assert.equal(f.reported.length, 1);
    assert.deepEqual([...(f.reported[0] ?? [])].sort(), ['192.0.2.2', ...Array.from({ length: 250 }, (_, i) => `198.51.100.${i}`)].sort());
  });

  it('a read during a burst sees the caches as they are now, and the changes are still reported', async () => {
    const f = fixture(['192.0.2.1']);
    f.view.current();
    f.source.set('192.0.2.9', announcement('192.0.2.9'));
    f.view.changed();
    assert.deepEqual([...f.view.current().keys()], ['192.0.2.1', '192.0.2.9'], 'no stale read');
    assert.deepEqual(f.reported, [['192.0.2.9']], 'reported when the read settled it');
    await settled();
    assert.equal(f.computed(), 2, 'not computed again by the pending settle');
    assert.equal(f.reported.length, 1);
  });

  it('reports a changed pool, not an unchanged IP', async () => {
    const f = fixture(['192.0.2.1', '192.0.2.2']);
    f.view.current();
    f.source.set('192.0.2.2', announcement('192.0.2.2', 'pool-b'));
    f.view.changed();
    await settled();
    assert.deepEqual(f.reported, [['192.0.2.2']]);
  });

  it('after invalidate() it recomputes on the next read and reports nothing (the caller re-examines every IP)', async () => {
    const f = fixture(['192.0.2.1']);
    f.view.current();
    f.view.changed();
    f.source.set('192.0.2.5', announcement('192.0.2.5'));
    f.view.invalidate();
    await settled();
    assert.deepEqual(f.reported, []);
    assert.deepEqual([...f.view.current().keys()], ['192.0.2.1', '192.0.2.5']);
    assert.equal(f.computed(), 2);
  });
});
