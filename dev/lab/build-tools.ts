// `node dist/dev/lab/build-tools.js`: builds (or finds) the control plane
// and helm in the machine's cache and prints their versions. The test
// command runs it first, so the long first build shows its progress on its
// own instead of inside a test's timeout.
import { ensureToolchain } from './toolchain.js';

const started = Date.now();
const tools = await ensureToolchain((line) => console.log(line));
console.log(
  `[toolchain] ready in ${((Date.now() - started) / 1000).toFixed(1)} s: kubernetes ${tools.versions.kubernetes}, etcd ${tools.versions.etcd}, helm ${tools.versions.helm}`,
);
