import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { infoRecordName, POOLS_ANNOTATION } from '../k8s/lease-names.js';
import { silentLogger } from '../observability/logger.js';
import { FakeClock } from '../testing/fake-clock.js';
import { MemoryLeaseStore } from '../testing/memory-lease-store.js';
import { InfoRecord } from './info-record.js';

function setup() {
  const clock = new FakeClock();
  const store = new MemoryLeaseStore();
  const state = { pools: 'a' };
  const r = new InfoRecord({
    node: 'n1',
    store,
    clock,
    log: silentLogger(),
    handoverMs: 3_000,
    annotations: () => ({ [POOLS_ANNOTATION]: state.pools }),
  });
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await clock.advance(1);
  };
  return { clock, store, state, r, settle };
}

describe('InfoRecord', () => {
  it('is written when what it says changes, and only then', async () => {
    const { store, state, r, settle } = setup();
    r.sync();
    await settle();
    assert.equal(store.writes, 1);
    const written = store.peek(infoRecordName('n1'));
    assert.equal(written?.holder, 'n1');
    assert.deepEqual(written?.labels, {
      'app.kubernetes.io/managed-by': 'baton',
      'baton.dev/lease-kind': 'speaker-info',
      'baton.dev/audience': 'all',
    });
    for (let i = 0; i < 100; i++) r.sync();
    await settle();
    assert.equal(store.writes, 1, 'nothing changed: no write, however often asked');
    state.pools = 'a,b';
    r.sync();
    await settle();
    assert.equal(store.writes, 2);
    assert.equal(store.peek(infoRecordName('n1'))?.annotations?.[POOLS_ANNOTATION], 'a,b');
  });

  it('deleted or edited by hand, it is written again; released on SIGTERM it names nobody', async () => {
    const { store, r, settle } = setup();
    r.sync();
    await settle();
    const l = store.peek(infoRecordName('n1'));
    assert.ok(l !== undefined);
    await store.delete(l);
    r.seen(undefined);
    r.sync();
    await settle();
    assert.equal(store.peek(infoRecordName('n1'))?.holder, 'n1', 're-created');
    r.seen({ ...(store.peek(infoRecordName('n1')) as typeof l), annotations: {} });
    r.sync();
    await settle();
    assert.equal(store.peek(infoRecordName('n1'))?.annotations?.[POOLS_ANNOTATION], 'a', 'edited: written again');
    await r.release();
    assert.equal(store.peek(infoRecordName('n1'))?.holder, '');
    r.sync();
    await settle();
    assert.equal(store.peek(infoRecordName('n1'))?.holder, '', 'released for good');
  });

  it('a failed write is tried again after a backoff, not on every tick', async () => {
    const { clock, store, r, settle } = setup();
    store.unreachable = true;
    r.sync();
    await settle();
    for (let i = 0; i < 9; i++) {
      await clock.advance(100);
      r.sync();
    }
    store.unreachable = false;
    r.sync();
    await settle();
    assert.equal(store.peek(infoRecordName('n1')), undefined, 'still within the first second of backoff');
    await clock.advance(100);
    r.sync();
    await settle();
    assert.equal(store.peek(infoRecordName('n1'))?.holder, 'n1');
  });
});
