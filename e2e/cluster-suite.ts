// The end-to-end suite on real nodes: one process, one lab whose nodes run
// containerd, a kubelet and kube-proxy each (dev/lab/real-nodes.ts), Baton's
// image (built by `make image` from the Dockerfile) imported into every
// node. What only a real cluster can test runs here: the chart installed as
// a user installs it, pods scheduled, probed, rolled and drained by
// Kubernetes itself, and chaos with real node crashes. The speaker's
// fine-grained fault tests run in the other suite (suite.ts), where the lab
// plays the kubelet and owns every Node condition.
import { after, before } from 'node:test';
import { imageArchivePath } from '../dev/image/build-image.js';
import { startLab, stopLab, TEST_USERS } from '../dev/lab/current.js';
import './real-nodes.e2e.js';

import './chart.e2e.js';
import './chaos.e2e.js';

// A cold first run builds the toolchain (the build step before the suite normally did it already).
const LAB_START_TIMEOUT_MS = 60 * 60_000;

before(
  async () => {
    await startLab({ suite: 'cluster', users: TEST_USERS, realNodes: { images: [imageArchivePath()] } });
  },
  { timeout: LAB_START_TIMEOUT_MS },
);

after(async () => {
  await stopLab();
});
