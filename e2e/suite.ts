// The end-to-end suite where the lab plays the kubelet: one process, one lab
// (control plane + LAN, no kubelets: tests own Node objects and their
// conditions, and start speakers and controllers as processes in the node
// namespaces, so faults can be injected with a precision real pods do not
// give), every scenario file imported below. What needs real nodes (the
// chart, real pods, chaos) is in cluster-suite.ts. Run it inside the lab namespace with
//   node dist/dev/lab/launch.js -- node --test-reporter=spec dist/e2e/suite.js
// (as `make e2e` does). Scenarios run one after another: some restart the
// API server or cut links, which would disturb a scenario running beside them.
// Each describe block sets its own timeout.
import { after, before } from 'node:test';
import { startLab, stopLab } from '../dev/lab/current.js';
import './lab.e2e.js';
import './layer2.e2e.js';
import './ipam.e2e.js';
import './ipam-ha.e2e.js';
import './speaker.e2e.js';
import './speaker-faults.e2e.js';
import './ipv6.e2e.js';
import './heartbeats.e2e.js';

// A cold first run builds Kubernetes from source (about 15 min on 2 cores); the build step before the suite normally did it already.
const LAB_START_TIMEOUT_MS = 60 * 60_000;

before(
  async () => {
    await startLab();
  },
  { timeout: LAB_START_TIMEOUT_MS },
);

after(async () => {
  await stopLab();
});
