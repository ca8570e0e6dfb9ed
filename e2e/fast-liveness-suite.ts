// The speaker's end-to-end cases again, with the fast liveness design
// (heartbeats off, the liveness Lease renewed twice a second): not the
// default since the slow Lease met the scale targets, but a chart value
// away (speaker.heartbeats: false, speaker.liveness: fast), for clusters
// where UDP between nodes is blocked or that have two nodes. Run by
// `make e2e` with BATON_E2E_LIVENESS=fast after the main suite, which runs
// the shipped design; the heartbeat-specific cases (heartbeats.e2e.ts)
// choose their own design and are not repeated.
import { after, before } from 'node:test';
import { startLab, stopLab } from '../dev/lab/current.js';
import { E2E_LIVENESS } from './support/baton-process.js';
import './speaker.e2e.js';
import './speaker-faults.e2e.js';
import './ipv6.e2e.js';

// A cold first run builds the toolchain (the build step before the suite normally did it already).
const LAB_START_TIMEOUT_MS = 60 * 60_000;

before(
  async () => {
    if (E2E_LIVENESS !== 'fast') throw new Error(`run with BATON_E2E_LIVENESS=fast (got ${E2E_LIVENESS}): see the Makefile's e2e target`);
    await startLab({ suite: 'fast-liveness' });
  },
  { timeout: LAB_START_TIMEOUT_MS },
);

after(async () => {
  await stopLab();
});
