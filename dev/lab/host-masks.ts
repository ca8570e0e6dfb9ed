// What keeps real lab nodes off the machine's own settings and folders.
// The kubelet, containerd and the CNI plugins write a few places that no
// flag moves: VM-wide kernel tunables (the kubelet sets vm.overcommit_memory,
// kernel.panic and kernel.panic_on_oops unless they already have its
// values), containerd's shim sockets under /run/containerd, libcni's result
// cache under /var/lib/cni, the kubelet's /var/log/containers links. The lab
// runs in a mount namespace of its own (launch.ts: `ip netns exec`), so it
// covers each of them there: a file holding the wanted value bind-mounted
// over each tunable, a tmpfs over each folder. The machine never sees a
// change; a missing folder is made as an empty mount point and removed
// again at teardown (and by the sweep after a killed run).
import { existsSync } from 'node:fs';
import { mkdir, readFile, readlink, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from './errors.js';
import { run } from './exec.js';

/** The kubelet's desired values (container_manager_linux.go setupKernelTunables), where they differ from a stock kernel's. */
export const KUBELET_TUNABLES: Readonly<Record<string, string>> = {
  'vm/overcommit_memory': '1',
  'vm/panic_on_oom': '0',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
  'kernel/keys/root_maxkeys': '1000000',
  'kernel/keys/root_maxbytes': '25000000',
};

/** Folders the node software writes at fixed paths. */
export const FIXED_FOLDERS = ['/run/containerd', '/var/lib/cni', '/var/log/containers'] as const;

/** Records which mount points the lab made, so teardown (or the next run's sweep) removes exactly those. */
export const MADE_MOUNT_POINTS = '/run/baton-lab-mount-points';

/**
 * True when this process is in a mount namespace of its own, not its
 * parent's (the launcher's, which is the machine's): masks made here stay
 * here. PID 1's namespace cannot be read on this machine (its init is not
 * dumpable), so the parent stands for the machine.
 */
export async function inPrivateMountNamespace(): Promise<boolean> {
  const [mine, parent] = await Promise.all([readlink('/proc/self/ns/mnt'), readlink(`/proc/${process.ppid}/ns/mnt`)]);
  return mine !== parent;
}

/** The machine's mount namespace, as the launcher (this suite's parent) has it: to look past the lab's masks. */
export function machineMountNamespace(): string {
  return `/proc/${process.ppid}/ns/mnt`;
}

/** A cgroup file system the machine has mounted: where, its type, and its options (the subsystems). */
export interface CgroupMount {
  mountPoint: string;
  fsType: 'tmpfs' | 'cgroup' | 'cgroup2';
  options: string[];
}

/** The cgroup mounts under /sys/fs/cgroup of a mountinfo text, parents first. */
export function cgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    const mountPoint = left?.split(' ')[4];
    const [fsType, , superOptions] = (right ?? '').split(' ');
    if (mountPoint === undefined || !(mountPoint === '/sys/fs/cgroup' || mountPoint.startsWith('/sys/fs/cgroup/'))) continue;
    if (fsType !== 'tmpfs' && fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    out.push({ mountPoint, fsType, options: (superOptions ?? '').split(',').filter((o) => o !== 'rw' && o !== 'ro' && o !== '') });
  }
  return out.sort((a, b) => a.mountPoint.length - b.mountPoint.length);
}

/**
 * `ip netns exec` gave the lab a fresh /sys (so /sys/class/net shows the
 * lab's links), and with it an empty /sys/fs/cgroup: the kubelet and runc
 * need the machine's cgroup hierarchies. Mounting a v1 hierarchy with the
 * same subsystems attaches the existing one, so this is the machine's
 * cgroup tree, seen again from here.
 */
async function mountCgroups(): Promise<void> {
  if (existsSync('/sys/fs/cgroup/pids/cgroup.procs')) return;
  const mounts = cgroupMounts(await readFile(`/proc/${process.ppid}/mountinfo`, 'utf8'));
  if (mounts.length === 0) throw new LabError('LAB_NOT_STARTED', 'the machine has no cgroup file system under /sys/fs/cgroup');
  for (const m of mounts) {
    await mkdir(m.mountPoint, { recursive: true });
    if (m.fsType === 'tmpfs') await run('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'cgroup_root', m.mountPoint]);
    else if (m.fsType === 'cgroup2') await run('mount', ['-t', 'cgroup2', 'cgroup2', m.mountPoint]);
    else {
      // A named hierarchy without subsystems (name=systemd) must say "none", or every free subsystem would be asked for.
      const named = m.options.some((o) => o.startsWith('name='));
      const subsystems = m.options.filter((o) => !o.startsWith('name=') && o !== 'none');
      const options = named && subsystems.length === 0 ? ['none', ...m.options] : m.options;
      await run('mount', ['-t', 'cgroup', '-o', options.join(','), 'cgroup', m.mountPoint]);
    }
  }
}

/** Covers the tunables and folders in this (the lab's) mount namespace. Idempotent within a run. */
export async function maskHostPaths(workDir: string): Promise<void> {
  if (!(await inPrivateMountNamespace()))
    throw new LabError('LAB_NOT_STARTED', 'real nodes need the lab mount namespace (run through dev/lab/launch.ts)');
  await mountCgroups();
  const dir = join(workDir, 'host-masks');
  await mkdir(dir, { recursive: true });
  for (const [path, value] of Object.entries(KUBELET_TUNABLES)) {
    const target = `/proc/sys/${path}`;
    if ((await readFile(target, 'utf8')).trim() === value) continue;
    const file = join(dir, path.replaceAll('/', '.'));
    await writeFile(file, `${value}\n`);
    await run('mount', ['--bind', file, target]);
  }
  const made: string[] = [];
  for (const folder of FIXED_FOLDERS) {
    if (!existsSync(folder)) {
      await mkdir(folder, { recursive: true });
      made.push(folder);
    }
    if (!(await isMountPoint(folder))) await run('mount', ['-t', 'tmpfs', '-o', 'mode=0755,size=64m', 'baton-lab', folder]);
  }
  if (made.length > 0) await writeFile(MADE_MOUNT_POINTS, `${made.join('\n')}\n`, { flag: 'a' });
}

async function isMountPoint(path: string): Promise<boolean> {
  return (await run('mountpoint', ['-q', path], { allowFailure: true })).exitCode === 0;
}

/**
 * Removes the empty folders the lab made as mount points (from the
 * machine's namespace, after the lab's namespace is gone, so they are
 * plain empty folders again). Never removes a folder that has content.
 */
export async function removeMadeMountPoints(log: (line: string) => void): Promise<void> {
  const listed = await readFile(MADE_MOUNT_POINTS, 'utf8').catch(() => '');
  const left: string[] = [];
  for (const folder of new Set(listed.split('\n').filter((l) => l !== ''))) {
    try {
      await rmdir(folder);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') {
        log(`[lab] could not remove mount point ${folder}: ${(err as Error).message}`);
        left.push(folder);
      }
    }
  }
  if (left.length > 0) await writeFile(MADE_MOUNT_POINTS, `${left.join('\n')}\n`);
  else await rm(MADE_MOUNT_POINTS, { force: true });
}
