// Runs short commands (ip, nft, openssl, go) and returns their output, or
// throws with the command line and its stderr: a failed `ip` call must say
// which one failed.
import { execFile } from 'node:child_process';
import { LabError } from './errors.js';

export interface RunOptions {
  /** Kill the command after this many ms (default 120 s, long enough for any ip/nft call on a loaded machine). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolve instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;
// Output of a command we parse (ip -j, arping) stays far below this; a build log may not, so builds stream instead.
const MAX_BUFFER_BYTES = 64 * 1024 * 1024;

export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        env: options.env ?? process.env,
        cwd: options.cwd,
        maxBuffer: MAX_BUFFER_BYTES,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ stdout, stderr, exitCode: 0 });
          return;
        }
        const exitCode = typeof error.code === 'number' ? error.code : -1;
        if (options.allowFailure === true && exitCode >= 0 && error.killed !== true) {
          resolve({ stdout, stderr, exitCode });
          return;
        }
        const line = [cmd, ...args].join(' ');
        const reason =
          error.killed === true ? `timed out after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms` : `exit ${String(error.code)}`;
        reject(
          new LabError('LAB_COMMAND_FAILED', `${line}: ${reason}: ${stderr.trim() || stdout.trim()}`, {
            cause: error,
          }),
        );
      },
    );
  });
}

/** Runs a command inside a network namespace (`ip netns exec`). */
export function runInNetns(netns: string, cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run('ip', ['netns', 'exec', netns, cmd, ...args], options);
}

/** Polls check() until it returns a value other than undefined, or throws LAB_TIMEOUT naming what was awaited. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new LabError('LAB_TIMEOUT', `timed out after ${options.timeoutMs} ms waiting for ${what}${detail}`, {
        cause: lastError,
      });
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}
