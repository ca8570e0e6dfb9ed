// The slow liveness mode's view of its peers (slow-peers.ts), its
// Lease-speed fallback (lease-poller.ts) and the check before a takeover
// (slow-takeover.ts), against an in-memory API server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BOOT_ANNOTATION,
  DURATION_ANNOTATION,
  HANDOVER_ANNOTATION,
  HEARTBEAT_ANNOTATION,
  infoRecordName,
  POOLS_ANNOTATION,
  SILENCE_ANNOTATION,
  speakerLeaseName,
} from '../k8s/lease-names.js';
import type { LeaseRecord } from '../k8s/lease-store.js';
import { silentLogger } from '../observability/logger.js';
import { FakeClock } from '../testing/fake-clock.js';
import { MemoryLeaseStore } from '../testing/memory-lease-store.js';
import { LeasePoller } from './lease-poller.js';
import { SlowPeers } from './slow-peers.js';
import { slowHolderStopped } from './slow-takeover.js';

const DURATION = 20_000;

function info(node: string, boot: string, extra: Record<string, string> = {}, holder = node): LeaseRecord {
  return {
    name: infoRecordName(node),
    holder,
    durationSeconds: 3_600,
    acquireTime: undefined,
    renewTime: undefined,
    transitions: 0,
    resourceVersion: `i-${node}-${boot}`,
    annotations: { [BOOT_ANNOTATION]: boot, [POOLS_ANNOTATION]: 'pool', [HEARTBEAT_ANNOTATION]: '192.0.2.11:7474', ...extra },
  };
}

function setup() {
  const clock = new FakeClock(0);
  const store = new MemoryLeaseStore();
  const state = {
    witnessed: new Map<string, string>(),
    heard: new Set<string>(),
    targets: [] as string[],
    blind: false,
    changes: [] as string[],
  };
  const poller = new LeasePoller({
    clock,
    log: silentLogger(),
    store,
    intervalMs: 5_000,
    defaultDurationMs: DURATION,
    targets: () => state.targets,
    onChange: (n) => state.changes.push(n),
  });
  const peers = new SlowPeers(
    clock,
    poller,
    (n) => state.witnessed.get(n),
    (n) => state.heard.has(n),
  );
  const stopped = slowHolderStopped({
    store,
    poller,
    log: silentLogger(),
    witnessedSilent: (n) => state.witnessed.get(n),
    blind: () => state.blind,
    holdsIps: (n) => peers.holdsIps(n),
  });
  /** The holder's own renewal (as its renewer writes the slow liveness Lease). */
  const renew = async (node: string, boot: string, silence: 'open' | 'closed' = 'open'): Promise<void> => {
    const current = await store.get(speakerLeaseName(node));
    const desired = {
      name: speakerLeaseName(node),
      holder: node,
      durationSeconds: 20,
      acquireTime: undefined,
      renewTime: String(clock.now()),
      transitions: 0,
      annotations: { [DURATION_ANNOTATION]: String(DURATION), [BOOT_ANNOTATION]: boot, [SILENCE_ANNOTATION]: silence },
    };
    if (current === undefined) await store.create({ ...desired, resourceVersion: undefined });
    else await store.update({ ...desired, resourceVersion: current.resourceVersion });
  };
  return { clock, store, state, poller, peers, stopped, renew };
}

describe('SlowPeers', () => {
  it('a node is a candidate from its info record, with its pools and endpoint, until it leaves', () => {
    const { peers } = setup();
    assert.deepEqual(peers.observe(info('n1', 'b1')), { node: 'n1', changed: true });
    assert.deepEqual(peers.observe(info('n1', 'b1')), { node: 'n1', changed: false }, 'the same again: nothing changed');
    assert.equal(peers.observe({ ...info('n1', 'b1'), name: 'baton-ip-192-0-2-200' }), undefined, 'not an info record');
    assert.deepEqual(peers.liveNodes(), ['n1']);
    assert.deepEqual([...peers.pools('n1')], ['pool']);
    assert.equal(peers.heartbeatEndpoint('n1'), '192.0.2.11:7474');
    assert.deepEqual(peers.observe(info('n1', 'b1', {}, '')), { node: 'n1', changed: true });
    assert.equal(peers.live('n1'), false, 'released on SIGTERM');
    assert.equal(peers.heartbeatEndpoint('n1'), undefined);
  });

  it('a witnessed silence makes a node dead at once, blind or not', () => {
    const { peers, state } = setup();
    peers.observe(info('n1', 'b1'));
    state.witnessed.set('n1', 'b1');
    assert.equal(peers.live('n1'), false);
    peers.setBlind(true);
    assert.equal(peers.live('n1'), true, 'blind: nobody is dead');
  });

  it('live since the first sight of its current boot: a restart is a new start', async () => {
    const { peers, clock } = setup();
    peers.observe(info('n1', 'b1'));
    await clock.advance(5_000);
    peers.observe({ ...info('n1', 'b1'), resourceVersion: 'later' });
    assert.equal(peers.liveSince('n1'), 0);
    assert.deepEqual(peers.observe(info('n1', 'b2')), { node: 'n1', changed: true });
    assert.equal(peers.liveSince('n1'), 5_000);
  });
});

describe('LeasePoller and the check before a takeover', () => {
  it('judges a holder nobody hears by its Lease: dead after the same version was seen for its duration', async () => {
    const { clock, state, poller, peers, stopped, renew } = setup();
    peers.observe(info('n1', 'b1'));
    await renew('n1', 'b1');
    state.targets = ['n1'];
    poller.start();
    await clock.advance(5_000);
    assert.equal(peers.live('n1'), true, 'first sight at 5 s');
    assert.equal(await stopped('n1'), false);
    await renew('n1', 'b1');
    await clock.advance(5_000);
    assert.deepEqual(state.changes, ['n1', 'n1'], 'first sight, then a renewal');
    // The holder stops renewing at 5 s; the poll at 10 s saw that version first.
    await clock.advance(DURATION - 1);
    assert.equal(peers.live('n1'), true);
    assert.equal(await stopped('n1'), false);
    await clock.advance(1);
    assert.equal(peers.live('n1'), false, 'the same version for its whole duration');
    assert.equal(await stopped('n1'), true, 'the fresh read shows that very version: it stopped');
    poller.stop();
  });

  it('an observation counts only while the holder is judged by its Lease: heard again, its age says nothing', async () => {
    const { clock, state, poller, peers, renew } = setup();
    peers.observe(info('n1', 'b1'));
    await renew('n1', 'b1');
    state.targets = ['n1'];
    await poller.round();
    await clock.advance(DURATION);
    assert.equal(peers.live('n1'), false);
    state.heard.add('n1');
    assert.equal(peers.live('n1'), true, 'a fresh beat on record');
    state.heard.clear();
    state.targets = [];
    await poller.round();
    assert.equal(peers.live('n1'), true, 'no longer a holder this node stands by for: nobody reads its Lease, it is no evidence');
  });

  it('takes over on a witnessed silence only if the Lease says open and shows the silent boot, before and after the read', async () => {
    const { state, stopped, renew, poller } = setup();
    await renew('n1', 'b1');
    assert.equal(await stopped('n1'), false, 'no witness: the Lease rule, and a first sight');
    state.witnessed.set('n1', 'b1');
    assert.equal(await stopped('n1'), true, 'open, the same boot: the silence path');
    await renew('n1', 'b1', 'closed');
    assert.equal(await stopped('n1'), false, 'closed: only the Lease expiry may move its IPs');
    await renew('n1', 'b2');
    assert.equal(await stopped('n1'), false, 'a new process wrote its boot: the silence was its predecessor’s');
    await renew('n1', 'b1');
    state.blind = true;
    assert.equal(await stopped('n1'), false, 'blind: nothing moves');
    assert.ok(poller.version('n1') !== undefined, 'every read is an observation');
  });

  it('a leaving speaker (info record and Lease released on SIGTERM) keeps its IP Leases for the hand-over time it says', async () => {
    const { clock, store, peers, stopped, renew } = setup();
    peers.observe(info('n1', 'b1'));
    await renew('n1', 'b1');
    await clock.advance(100);
    peers.observe(info('n1', 'b1', { [HANDOVER_ANNOTATION]: '2000' }, ''));
    const l = (await store.get(speakerLeaseName('n1'))) as LeaseRecord;
    await store.update({ ...l, holder: '' });
    assert.equal(peers.live('n1'), false, 'no candidate for anything new');
    assert.equal(peers.holdsIps('n1'), true, 'but its IPs are still its to hand over');
    assert.equal(peers.expiresAt('n1'), 2_100, 'looked at again when its hand-over time is over');
    assert.equal(await stopped('n1'), false, 'no takeover meanwhile');
    await clock.advance(2_000);
    assert.equal(peers.holdsIps('n1'), false);
    assert.equal(await stopped('n1'), true, 'over: it stopped answering by itself');
  });

  it('a Lease released (SIGTERM) of a speaker this node never saw leave stops it at once; a Lease deleted by hand is a version like any', async () => {
    const { clock, store, stopped, renew } = setup();
    await renew('n1', 'b1');
    const l = (await store.get(speakerLeaseName('n1'))) as LeaseRecord;
    await store.delete(l);
    assert.equal(await stopped('n1'), false, 'gone: first sight of "absent"');
    await clock.advance(DURATION);
    assert.equal(await stopped('n1'), true, 'absent for the whole duration');
    await renew('n1', 'b1');
    const again = (await store.get(speakerLeaseName('n1'))) as LeaseRecord;
    await store.update({ ...again, holder: '' });
    assert.equal(await stopped('n1'), true, 'released');
  });
});
