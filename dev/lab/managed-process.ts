// A long-running child (etcd, kube-apiserver, a speaker, tcpdump) that the
// lab owns. Output goes to a log file so a failing test can point at it;
// `setpriv --pdeathsig KILL` makes the kernel kill the child if the test
// process itself dies without running its teardown (kill -9, OOM).
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { LabError } from './errors.js';

export interface SpawnOptions {
  /** File that receives stdout and stderr. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** Called with every chunk of output, e.g. to wait for a "listening" line. */
  onOutput?: (chunk: string) => void;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Every process spawned here that has not exited yet (see ManagedProcess.stopAll). */
const live = new Set<ManagedProcess>();

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  private readonly child: ChildProcess;
  private exitInfo: ExitInfo | undefined;
  private readonly exited: Promise<ExitInfo>;

  private constructor(name: string, child: ChildProcess, log: WriteStream, logFile: string, onOutput?: (chunk: string) => void) {
    this.name = name;
    this.child = child;
    this.logFile = logFile;
    const forward = (chunk: Buffer): void => {
      log.write(chunk);
      onOutput?.(chunk.toString('utf8'));
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      child.on('error', (err) => {
        log.write(`\n[lab] spawn error: ${err.message}\n`);
        this.exitInfo = { code: -1, signal: null };
        resolve(this.exitInfo);
      });
    });
    void this.exited.then(() => log.end());
  }

  static spawn(name: string, cmd: string, args: readonly string[], options: SpawnOptions): ManagedProcess {
    const guarded = ['setpriv', '--pdeathsig', 'KILL', '--', cmd, ...args];
    const argv = options.netns === undefined ? guarded : ['ip', 'netns', 'exec', options.netns, ...guarded];
    const log = createWriteStream(options.logFile, { flags: 'a' });
    log.write(`[lab] ${new Date().toISOString()} start: ${argv.join(' ')}\n`);
    const [bin, ...rest] = argv as [string, ...string[]];
    const child = spawn(bin, rest, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new ManagedProcess(name, child, log, options.logFile, options.onOutput);
    live.add(proc);
    void proc.exited.then(() => live.delete(proc));
    return proc;
  }

  /**
   * Stops every process still running (the lab's teardown): one a test or a
   * half-done set-up left behind would keep the test runner's event loop
   * alive through its pipes, and the suite would never exit.
   */
  static async stopAll(graceMs = 3_000): Promise<string[]> {
    const left = [...live];
    await Promise.all(left.map((p) => p.stop('SIGTERM', graceMs)));
    return left.map((p) => p.name);
  }

  /** The PID of the command itself: `ip netns exec` and setpriv both exec, so no wrapper stays between. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * The kernel's scheduling state of the process (`/proc/<pid>/stat`): R
   * running, S sleeping, T stopped by a signal (SIGSTOP)...; undefined once
   * it is gone. Proves a freeze really froze it.
   */
  schedulingState(): string | undefined {
    return this.running && this.child.pid !== undefined ? schedulingState(this.child.pid) : undefined;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  get exit(): ExitInfo | undefined {
    return this.exitInfo;
  }

  waitForExit(): Promise<ExitInfo> {
    return this.exited;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /**
   * Sends sig and waits for the exit; escalates to SIGKILL after graceMs so
   * a stuck process never hangs teardown.
   */
  async stop(sig: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<ExitInfo> {
    if (!this.running) return this.exitInfo as ExitInfo;
    this.signal(sig);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Throws LAB_PROCESS_EXITED if the process has already ended: used while waiting for readiness. */
  assertRunning(): void {
    if (this.exitInfo !== undefined) {
      throw new LabError(
        'LAB_PROCESS_EXITED',
        `${this.name} exited (code ${String(this.exitInfo.code)}, signal ${String(this.exitInfo.signal)}); see ${this.logFile}`,
      );
    }
  }
}

/** The kernel's scheduling state of a process (R, S, D, T for stopped...), or undefined if there is none. */
export function schedulingState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ...: comm may hold spaces and parentheses, so read after the last ')'.
    const end = stat.lastIndexOf(')');
    return stat.slice(end + 2, end + 3);
  } catch {
    return undefined;
  }
}
