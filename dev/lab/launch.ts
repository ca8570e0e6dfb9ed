// `node dist/dev/lab/launch.js -- <command> [args...]`
//
// Runs a command (the e2e suite, the demo) inside a fresh lab network
// namespace, and guarantees that everything of ours is gone afterwards:
//   1. take the machine-wide lock (one lab at a time: fixed names, fixed ports)
//   2. sweep what a killed earlier run left (only names we own)
//   3. create the lab namespace (loopback only) and run the command in it
//   4. on exit, Ctrl-C or SIGTERM: let the command tear down, then sweep again
// The exit code is the command's.
import { spawn } from 'node:child_process';
import { run } from './exec.js';
import { LAB_ENV, LAB_NETNS } from './owned-names.js';
import { acquireRunLock, sweepLeftovers } from './run-lock.js';

// Time the command gets to tear down after a signal before it is killed: a lab stops in a few seconds.
const TEARDOWN_GRACE_MS = 60_000;

const separator = process.argv.indexOf('--');
const command = separator === -1 ? [] : process.argv.slice(separator + 1);
if (command.length === 0) {
  console.error('usage: launch.js -- <command> [args...]');
  process.exit(2);
}

const log = (line: string): void => console.log(line);
const release = await acquireRunLock(log);
let exitCode = 1;
try {
  await sweepLeftovers(log);
  await run('ip', ['netns', 'add', LAB_NETNS]);
  await run('ip', ['-n', LAB_NETNS, 'link', 'set', 'lo', 'up']);
  exitCode = await new Promise<number>((resolve) => {
    const child = spawn('ip', ['netns', 'exec', LAB_NETNS, ...command], {
      stdio: 'inherit',
      env: { ...process.env, [LAB_ENV]: LAB_NETNS },
    });
    let killTimer: NodeJS.Timeout | undefined;
    const forward = (signal: NodeJS.Signals): void => {
      // Ctrl-C reaches the whole process group already; SIGTERM from CI may reach only us.
      child.kill(signal);
      killTimer ??= setTimeout(() => child.kill('SIGKILL'), TEARDOWN_GRACE_MS);
    };
    process.on('SIGINT', () => forward('SIGINT'));
    process.on('SIGTERM', () => forward('SIGTERM'));
    child.on('exit', (code, signal) => {
      if (killTimer !== undefined) clearTimeout(killTimer);
      resolve(code ?? (signal === null ? 1 : 128));
    });
  });
} catch (err) {
  console.error(err);
} finally {
  await sweepLeftovers(log, [LAB_NETNS]).catch((err: unknown) => console.error('[lab] final sweep failed:', err));
  await release();
}
process.exit(exitCode);
