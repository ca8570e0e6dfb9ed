// Whether this process runs inside the lab namespace the launcher made.
import { statSync } from 'node:fs';
import { LabError } from './errors.js';
import { LAB_ENV, LAB_NETNS } from './owned-names.js';

export function insideLab(): boolean {
  if (process.env[LAB_ENV] !== LAB_NETNS) return false;
  try {
    return statSync('/proc/self/ns/net').ino === statSync(`/run/netns/${LAB_NETNS}`).ino;
  } catch {
    return false;
  }
}

export function assertInsideLab(): void {
  if (!insideLab()) {
    throw new LabError(
      'LAB_NOT_STARTED',
      `the test lab must run inside the ${LAB_NETNS} network namespace: start it through ` +
        '`node dist/dev/lab/launch.js -- <command>` (make test / make demo do)',
    );
  }
}
