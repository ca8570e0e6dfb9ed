// One cgroup (v1) root per real lab node, under which its kubelet puts
// every pod (cgroupRoot): two kubelets on one machine must not manage, and
// garbage-collect, the same /kubepods. The kubelet refuses a root that does
// not exist, so it is made in every hierarchy first (cpuset's with the
// parent's CPUs and memory nodes, or no task could join it). Pods' processes
// live there, outside the lab's own cgroup, so a node's crash and the lab's
// teardown find and kill them here, and remove the tree afterwards.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from './exec.js';
import { OWNED_PREFIX } from './owned-names.js';

export const CGROUP_FS = '/sys/fs/cgroup';
/** The hierarchy whose cgroup.procs lists a tree's processes (every task is in every v1 hierarchy). */
const LISTING_HIERARCHY = 'pids';

/** The v1 hierarchies mounted here (cgroup2's "unified" is left alone: the kubelet runs in v1 mode). */
export async function v1Hierarchies(): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(CGROUP_FS)) {
    if (name === 'unified') continue;
    const s = await stat(join(CGROUP_FS, name)).catch(() => undefined);
    if (s?.isDirectory() === true && existsSync(join(CGROUP_FS, name, 'cgroup.procs'))) out.push(name);
  }
  return out;
}

export async function createCgroupRoot(root: string): Promise<void> {
  assertOwned(root);
  for (const h of await v1Hierarchies()) {
    const dir = join(CGROUP_FS, h, root);
    await mkdir(dir, { recursive: true });
    if (h === 'cpuset' || h.split(',').includes('cpuset')) {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        if ((await readFile(join(dir, f), 'utf8')).trim() === '')
          await writeFile(join(dir, f), await readFile(join(CGROUP_FS, h, f), 'utf8'));
      }
    }
  }
}

/** Every process in the tree (all its descendants' cgroup.procs). */
export async function processesIn(root: string): Promise<number[]> {
  const top = join(CGROUP_FS, LISTING_HIERARCHY, root);
  if (!existsSync(top)) return [];
  const pids: number[] = [];
  const walk = async (dir: string): Promise<void> => {
    const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const l of procs.split('\n')) if (/^\d+$/.test(l)) pids.push(Number(l));
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) await walk(join(dir, e.name));
  };
  await walk(top);
  return pids;
}

/** SIGKILLs every process of the tree until none is left (a fork racing the kill is caught by the next pass). */
export async function killProcessesIn(root: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    `every process of cgroup ${root} to die`,
    async () => {
      const pids = await processesIn(root);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      return pids.length === 0 ? true : undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

/** Removes the tree, deepest first, in every hierarchy. Its processes must be gone (killProcessesIn). */
export async function removeCgroupRoot(root: string): Promise<void> {
  assertOwned(root);
  for (const h of await v1Hierarchies()) {
    const top = join(CGROUP_FS, h, root);
    if (existsSync(top)) await removeTree(top);
  }
}

async function removeTree(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) await removeTree(join(dir, e.name));
  // A cgroup whose last task just exited can stay busy for a moment while the kernel releases it.
  await waitFor(
    `cgroup ${dir} to be removable`,
    async () => {
      try {
        await rmdir(dir);
        return true;
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') return true;
        throw err;
      }
    },
    { timeoutMs: 5_000, intervalMs: 50 },
  );
}

/** Cgroup roots of ours at the top of any hierarchy (for the sweep after a killed run). */
export async function ownedCgroupRoots(): Promise<string[]> {
  const out = new Set<string>();
  for (const h of await v1Hierarchies())
    for (const name of await readdir(join(CGROUP_FS, h)).catch(() => [])) if (name.startsWith(OWNED_PREFIX)) out.add(name);
  return [...out];
}

function assertOwned(root: string): void {
  if (!root.startsWith(OWNED_PREFIX) || root.includes('/')) throw new Error(`not a lab cgroup root: ${root}`);
}
