// The lab of this test process, started once by the suite's root
// `before` hook and shared by every scenario. An interrupted run (Ctrl-C,
// CI timeout's SIGTERM) still tears it down before exiting.
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LabError } from './errors.js';
import { Lab, type LabOptions } from './lab.js';

let current: Lab | undefined;
let stopping: Promise<void> | undefined;
let logsDir = resolve('reports', 'e2e-last-run');

/** Where the last run's logs are kept (git-ignored), for a post-mortem of a failed CI run; one folder per suite. */
export function logsDirOf(suite: string): string {
  return resolve('reports', suite === 'suite' ? 'e2e-last-run' : `e2e-last-run-${suite}`);
}

/** Static-token users every scenario may use; each has a kubeconfig and no rights until a test grants some. */
export const TEST_USERS = ['tester-1', 'tester-2', 'tester-3'] as const;

export async function startLab(options: LabOptions & { suite?: string } = {}): Promise<Lab> {
  if (current !== undefined) return current;
  logsDir = logsDirOf(options.suite ?? 'suite');
  installSignalHandlers();
  current = await Lab.start({ users: TEST_USERS, ...options, keepLogsIn: logsDir, log: (l) => console.log(l) });
  return current;
}

export function lab(): Lab {
  if (current === undefined)
    throw new LabError('LAB_NOT_STARTED', 'the test lab is not started (the e2e suite starts it in its root before hook)');
  return current;
}

export async function stopLab(): Promise<void> {
  if (current === undefined) return;
  stopping ??= (async () => {
    await rm(logsDir, { recursive: true, force: true });
    await current?.stop(logsDir);
    current = undefined;
  })();
  await stopping;
}

let handlersInstalled = false;

function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      console.log(`[lab] ${signal}: tearing down before exit`);
      void stopLab().finally(() => process.exit(code));
    });
  }
}
