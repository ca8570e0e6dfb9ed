// Run after the suite process has exited: proves its teardown left nothing
// behind. A separate process, so it sees the machine as the next run will.
//   node --test dist/e2e/after-suite.js

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MADE_MOUNT_POINTS } from '../dev/lab/host-masks.js';
import { listOwnedNetworkObjects } from '../dev/lab/lan.js';
import { ownedCgroupRoots } from '../dev/lab/node-cgroups.js';
import { LOCK_FILE, ownedProcesses, ownedRunDirs } from '../dev/lab/run-lock.js';

describe('after the e2e suite', () => {
  it('leaves no network namespace, bridge or veth of ours', async () => {
    assert.deepEqual(await listOwnedNetworkObjects(), { namespaces: [], links: [] });
  });

  it('leaves no process of ours running', async () => {
    assert.deepEqual(await ownedProcesses(), []);
  });

  it('leaves no cgroup of its real nodes, and no mount point it had to make', async () => {
    assert.deepEqual(await ownedCgroupRoots(), []);
    assert.equal(existsSync(MADE_MOUNT_POINTS), false, 'every mount point the lab made was removed (its record with them)');
  });

  it('leaves no temporary folder and no lock', async () => {
    assert.deepEqual(await ownedRunDirs(), []);
    assert.equal(existsSync(LOCK_FILE), false, `${LOCK_FILE} is gone`);
  });
});
