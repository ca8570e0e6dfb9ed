// One lab per machine at a time: the LAN's names and the control plane's
// ports are fixed. The lock file holds the owner's PID; a lock whose owner
// is dead is stale, and what that owner left behind is swept before the new
// run starts.
import { open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCode } from '../../src/errors.js';
import { LabError } from './errors.js';
import { removeMadeMountPoints } from './host-masks.js';
import { listOwnedNetworkObjects, removeNetworkObjects } from './lan.js';
import { killProcessesIn, ownedCgroupRoots, removeCgroupRoot } from './node-cgroups.js';
import { RUN_DIR_PREFIX } from './owned-names.js';

export const LOCK_FILE = join(tmpdir(), 'baton-lab.lock');

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return hasCode(err, 'EPERM');
  }
}

/**
 * Takes the machine-wide lock, waiting up to waitMs for a live owner to
 * finish. Returns a release function.
 */
export async function acquireRunLock(log: (line: string) => void, waitMs = 30 * 60_000): Promise<() => Promise<void>> {
  const deadline = Date.now() + waitMs;
  let announced = false;
  for (;;) {
    try {
      const fh = await open(LOCK_FILE, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return async () => {
        const owner = await readFile(LOCK_FILE, 'utf8').catch(() => '');
        if (owner.trim() === String(process.pid)) await rm(LOCK_FILE, { force: true });
      };
    } catch (err) {
      if (!hasCode(err, 'EEXIST')) throw err;
    }
    const owner = Number((await readFile(LOCK_FILE, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(owner) || owner <= 0 || !alive(owner)) {
      log(`[lab] removing stale lock of dead run ${String(owner)}`);
      await rm(LOCK_FILE, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new LabError('LAB_LOCKED', `another test lab (pid ${owner}) is running on this machine; lock ${LOCK_FILE}`);
    }
    if (!announced) {
      log(`[lab] waiting for the lab of pid ${owner} to finish`);
      announced = true;
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** Processes whose command line names one of our run folders (etcd's data dir, the API server's certificates...). */
export async function ownedProcesses(): Promise<Array<{ pid: number; cmdline: string }>> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(`/${RUN_DIR_PREFIX}`)) out.push({ pid, cmdline: cmdline.replaceAll('\0', ' ').trim() });
  }
  return out;
}

/** Run folders of ours under the temp dir. */
export async function ownedRunDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((n) => n.startsWith(RUN_DIR_PREFIX)).map((n) => join(tmpdir(), n));
}

/**
 * Removes what an earlier, killed run left: its processes, namespaces, links
 * and folders. Only names we own. `expected` names are removed without being
 * reported as leftovers (the launcher's own lab namespace after a run).
 */
export async function sweepLeftovers(log: (line: string) => void, expected: readonly string[] = []): Promise<void> {
  const procs = await ownedProcesses();
  for (const p of procs) {
    log(`[lab] sweeping leftover process ${p.pid}: ${p.cmdline.slice(0, 120)}`);
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  // Pods of real nodes live in cgroups of ours, outside every run folder's command lines.
  for (const root of await ownedCgroupRoots()) {
    log(`[lab] sweeping leftover pods of cgroup ${root}`);
    await killProcessesIn(root);
  }
  const net = await listOwnedNetworkObjects();
  if (net.namespaces.length + net.links.length > 0) {
    const unexpected = [...net.namespaces, ...net.links].filter((n) => !expected.includes(n));
    if (unexpected.length > 0) log(`[lab] sweeping leftover namespaces/links: ${unexpected.join(' ')}`);
    await removeNetworkObjects(net.namespaces, net.links);
  }
  for (const dir of await ownedRunDirs()) {
    log(`[lab] sweeping leftover folder ${dir}`);
    await rm(dir, { recursive: true, force: true });
  }
  for (const root of await ownedCgroupRoots()) await removeCgroupRoot(root);
  await removeMadeMountPoints(log);
}
