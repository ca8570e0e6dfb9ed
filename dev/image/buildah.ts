// The few buildah calls the image build and its check make, and the host
// hygiene around them: buildah needs root here, every working container is
// removed again, and no build may leave network state in the host namespace
// (without --network=host or none, `buildah run` sets up the default
// "podman" network, CNI's or netavark's: a cni-podman0 or podman0 bridge in
// 10.88.0.0/16 and iptables tables, which this machine must never carry).
import { existsSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hasCode } from '../../src/errors.js';
import { LabError } from '../lab/errors.js';
import { type RunOptions, type RunResult, run } from '../lab/exec.js';
import { alive } from '../lab/run-lock.js';

/** runc, found as Debian installs it (/usr/sbin) or elsewhere on PATH. */
function runcPath(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];
  return dirs
    .filter((d) => d !== '')
    .map((d) => join(d, 'runc'))
    .find((p) => existsSync(p));
}

/**
 * buildah's environment: its OCI runtime is runc. Its first choice, crun,
 * refuses this machine's hybrid cgroup v1 ("cgroups in hybrid mode not
 * supported"). BUILDAH_RUNTIME set by the caller wins.
 */
export function buildahEnv(): NodeJS.ProcessEnv {
  const runtime = process.env['BUILDAH_RUNTIME'] ?? runcPath();
  return runtime === undefined ? process.env : { ...process.env, BUILDAH_RUNTIME: runtime };
}

export function buildah(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run('buildah', args, { timeoutMs: 10 * 60_000, env: buildahEnv(), ...options });
}

/** Fails unless buildah can be used: it and runc are installed (`make setup`) and we are root. */
export async function requireBuildah(): Promise<string> {
  const version = await run('buildah', ['--version'], { allowFailure: true }).catch(() => undefined);
  if (version === undefined || version.exitCode !== 0) {
    throw new LabError('LAB_BUILD_FAILED', 'buildah is not installed: `make setup` (scripts/setup.sh) installs it');
  }
  if (process.env['BUILDAH_RUNTIME'] === undefined && runcPath() === undefined) {
    throw new LabError('LAB_BUILD_FAILED', 'runc is not installed: `make setup` (scripts/setup.sh) installs it');
  }
  if (process.getuid?.() !== 0) throw new LabError('LAB_BUILD_FAILED', 'building the image with buildah needs root here');
  return `${version.stdout.trim()}, runtime ${buildahEnv()['BUILDAH_RUNTIME'] ?? 'default'}`;
}

/** The full ID of an image in buildah's storage, or undefined when there is none of that name. */
export async function imageId(nameOrId: string): Promise<string | undefined> {
  const r = await buildah(['inspect', '--type', 'image', '--format', '{{.FromImageID}}', nameOrId], { allowFailure: true });
  const id = r.stdout.trim();
  return r.exitCode === 0 && /^[0-9a-f]{64}$/.test(id) ? id : undefined;
}

export interface ImageConfig {
  user: string;
  entrypoint: string[];
  cmd: string[];
  env: string[];
  labels: Record<string, string>;
}

export async function imageConfig(nameOrId: string): Promise<ImageConfig> {
  const { stdout } = await buildah(['inspect', '--type', 'image', nameOrId]);
  const parsed = JSON.parse(stdout) as { OCIv1?: { config?: Record<string, unknown> } };
  const c = parsed.OCIv1?.config ?? {};
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return {
    user: typeof c['User'] === 'string' ? c['User'] : '',
    entrypoint: strings(c['Entrypoint']),
    cmd: strings(c['Cmd']),
    env: strings(c['Env']),
    labels: (c['Labels'] as Record<string, string> | undefined) ?? {},
  };
}

/** Names of every buildah working container on the machine. */
export async function containerNames(): Promise<string[]> {
  const { stdout } = await buildah(['containers', '--all', '--noheading', '--format', '{{.ContainerName}}']);
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

let serial = 0;

/**
 * Runs fn on a working container of image (named so a leftover says whose it
 * is), then removes the container whatever fn did. Runs inside it must pass
 * --network=none or host (see the top of this file): runInContainer does.
 */
export async function withContainer<T>(image: string, fn: (container: string) => Promise<T>): Promise<T> {
  serial += 1;
  const name = `baton-image-check-${process.pid}-${serial}`;
  await buildah(['from', '--pull=never', '--name', name, image]);
  try {
    return await fn(name);
  } finally {
    await buildah(['rm', name], { allowFailure: true });
  }
}

/** `buildah run` without a network (the default would set up CNI in the host namespace). */
export function runInContainer(container: string, cmd: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return buildah(['run', '--network=none', container, '--', ...cmd], { timeoutMs: 120_000, ...options });
}

/** The container's root filesystem, mounted on the host for reading; unmounted when fn is done. */
export async function withMountedContainer<T>(container: string, fn: (root: string) => Promise<T>): Promise<T> {
  const root = (await buildah(['mount', container])).stdout.trim();
  try {
    return await fn(root);
  } finally {
    await buildah(['umount', container], { allowFailure: true });
  }
}

export interface HostNetworkState {
  links: string[];
  tables: string[];
}

export async function hostNetworkState(): Promise<HostNetworkState> {
  const links = JSON.parse((await run('ip', ['-j', 'link', 'show'])).stdout) as Array<{ ifname: string }>;
  const nft = await run('nft', ['-j', 'list', 'tables'], { allowFailure: true });
  const tables: string[] = [];
  if (nft.exitCode === 0) {
    const parsed = JSON.parse(nft.stdout) as { nftables?: Array<{ table?: { family: string; name: string } }> };
    for (const item of parsed.nftables ?? []) if (item.table !== undefined) tables.push(`${item.table.family} ${item.table.name}`);
  }
  return { links: links.map((l) => l.ifname), tables };
}

/**
 * What the default network (CNI or netavark) left in the host namespace since `before`
 * (its bridge, and the iptables tables it filled), removed again; returns
 * what was found, for the caller to fail on.
 */
export async function removeCniLeftovers(before: HostNetworkState): Promise<string[]> {
  const now = await hostNetworkState();
  const found: string[] = [];
  const bridges = now.links.filter((l) => !before.links.includes(l) && /^(cni-)?podman\d+$/.test(l));
  for (const link of bridges) {
    found.push(`link ${link}`);
    await run('ip', ['link', 'delete', link], { allowFailure: true });
  }
  // The tables iptables(-nft) creates for CNI's port mappings and masquerading.
  const tables = now.tables.filter((t) => !before.tables.includes(t) && /^ip6? (nat|filter|mangle)$/.test(t));
  for (const table of tables) {
    found.push(`nft table ${table}`);
    await run('nft', ['delete', 'table', ...table.split(' ')], { allowFailure: true });
  }
  // Their address bookkeeping (CNI's host-local IPAM).
  if (found.length > 0 && existsSync('/var/lib/cni/networks/podman')) {
    await rm('/var/lib/cni/networks/podman', { recursive: true, force: true });
  }
  return found;
}

/** Decodes the octal escapes of /proc/self/mounts (a space is \040). */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** Mount points at or below dir, deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mounts', 'utf8');
  return text
    .split('\n')
    .map((l) => unescapeMountPath(l.split(' ')[1] ?? ''))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * Removes a build folder, unmounting first whatever a killed mmdebstrap left
 * mounted in it (/proc, /sys, /dev of the chroot): rm -rf through a bound
 * /dev would delete the host's device nodes, so a mount that stays is an error.
 */
export async function removeBuildDir(dir: string): Promise<void> {
  for (const m of await mountsUnder(dir)) {
    const r = await run('umount', [m], { allowFailure: true });
    if (r.exitCode !== 0) await run('umount', ['--lazy', m], { allowFailure: true });
  }
  const left = await mountsUnder(dir);
  if (left.length > 0) throw new LabError('LAB_BUILD_FAILED', `still mounted, not removing ${dir}: ${left.join(', ')}`);
  await rm(dir, { recursive: true, force: true });
}

/**
 * One image build per machine at a time (a developer's run and CI share the
 * base image, the layer cache and the exported archive); a lock whose owner
 * is dead is stale.
 */
export async function withBuildLock<T>(lockFile: string, log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30 * 60_000;
  let announced = false;
  for (;;) {
    try {
      const fh = await open(lockFile, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if (!hasCode(err, 'EEXIST')) throw err;
    }
    const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(owner) || owner <= 0 || !alive(owner)) {
      await rm(lockFile, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new LabError('LAB_LOCKED', `another image build (pid ${owner}) holds ${lockFile}`);
    if (!announced) {
      log(`[image] waiting for the image build of pid ${owner} to finish`);
      announced = true;
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  try {
    return await fn();
  } finally {
    const owner = await readFile(lockFile, 'utf8').catch(() => '');
    if (owner.trim() === String(process.pid)) await rm(lockFile, { force: true });
  }
}

/** The image's size as buildah reports it (its layers, uncompressed). */
export async function imageSize(id: string): Promise<string> {
  const { stdout } = await buildah(['images', '--json', '--no-trunc']);
  const list = JSON.parse(stdout) as Array<Record<string, unknown>>;
  const entry = list.find((i) => String(i['id']).replace(/^sha256:/, '') === id);
  const size = entry?.['size'];
  return typeof size === 'number' ? `${(size / 1e6).toFixed(0)} MB` : String(size ?? 'unknown');
}
