// The image, built for real: `buildah bud` of the repository's Dockerfile on
// a clean copy of the build context (only what .dockerignore lets in), on a
// local stand-in of its base image (no registry serves node images here; see
// dev/image/base-image.ts), with buildah's layer cache; exported as an OCI
// archive for a container runtime. Then the runtime image is looked at from
// outside (mounted) and run (`buildah run`, no network): it starts, loads the
// addon, runs as 65534, and carries no dev dependencies, compilers or lab code.
//
// Runs outside the lab namespace, as root (`make image-check`): the build's
// apt-get and npm ci need the Debian mirror and the npm registry.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { STAND_IN_LABEL } from '../dev/image/base-image.js';
import { buildImage, type ImageBuild } from '../dev/image/build-image.js';
import {
  buildah,
  containerNames,
  type HostNetworkState,
  hostNetworkState,
  imageConfig,
  imageSize,
  removeCniLeftovers,
  requireBuildah,
  runInContainer,
  withContainer,
  withMountedContainer,
} from '../dev/image/buildah.js';
import { dockerfileStages } from '../dev/image/context.js';
import { run } from '../dev/lab/exec.js';

const repo = resolve('.');
const log = (line: string): void => console.log(line);

function describeBuild(kind: string, b: ImageBuild): string {
  const cache = b.summary.cached === 0 ? 'cold' : b.summary.cached === b.summary.steps ? 'warm' : 'partly cached';
  return `[image] ${kind} build (${cache}: ${b.summary.cached} of ${b.summary.steps} steps from the layer cache): ${b.budSeconds.toFixed(1)} s`;
}

describe('container image, built with buildah', { timeout: 1_800_000 }, () => {
  let network: HostNetworkState | undefined;
  let containersBefore: string[] = [];
  let build: ImageBuild | undefined;

  before(async () => {
    network = await hostNetworkState();
    containersBefore = await containerNames().catch(() => []);
  });

  after(async () => {
    // withContainer removes its containers; this catches what a crash in between left.
    for (const name of await containerNames().catch(() => [])) {
      if (name.startsWith(`baton-image-check-${process.pid}-`)) await buildah(['rm', name], { allowFailure: true });
    }
  });

  it('has buildah (scripts/setup.sh installs it) and root', async () => {
    console.log(`[image] ${await requireBuildah()}`);
  });

  it('builds the Dockerfile from a clean context on the stand-in base, and exports it as an OCI archive', async () => {
    const started = Date.now();
    build = await buildImage(repo, log);
    console.log(
      build.baseSeconds > 0
        ? `[image] stand-in base ${build.baseName}: built in ${build.baseSeconds} s (first run on this machine)`
        : `[image] stand-in base ${build.baseName}: reused (${build.baseId.slice(0, 12)})`,
    );
    console.log(describeBuild('first', build));
    assert.ok(build.archive !== undefined);
    console.log(
      `[image] ${build.name} ${build.id.slice(0, 12)}, ${await imageSize(build.id)}; OCI archive ${build.archive} ${(build.archiveBytes / 1e6).toFixed(0)} MB in ${build.pushSeconds.toFixed(1)} s; all in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    const entries = (await run('tar', ['-tf', build.archive])).stdout.split('\n');
    assert.ok(entries.includes('oci-layout') && entries.includes('index.json'), 'an OCI image layout');
    const index = JSON.parse((await run('tar', ['-xOf', build.archive, 'index.json'])).stdout) as {
      manifests: Array<{ annotations?: Record<string, string> }>;
    };
    assert.equal(index.manifests[0]?.annotations?.['org.opencontainers.image.ref.name'], build.name);
  });

  it('builds again from the layer cache alone, to the same image', async () => {
    assert.ok(build, 'the first build succeeded');
    const again = await buildImage(repo, log, { exportArchive: false });
    console.log(describeBuild('second', again));
    assert.equal(again.summary.cached, again.summary.steps, 'every step from the cache');
    assert.equal(again.id, build.id);
  });

  it('is configured as the Dockerfile says: user 65534, its entrypoint, production mode', async () => {
    assert.ok(build, 'the build succeeded');
    const runtime = dockerfileStages(await readFile(join(repo, 'Dockerfile'), 'utf8')).at(-1);
    const config = await imageConfig(build.id);
    assert.equal(config.user, '65534:65534');
    assert.equal(config.user, runtime?.user);
    assert.deepEqual(config.entrypoint, ['node', '/app/dist/src/cli/main.js']);
    assert.deepEqual(config.entrypoint, runtime?.entrypoint);
    assert.ok(config.env.includes('NODE_ENV=production'), config.env.join(' '));
    assert.ok(config.labels[STAND_IN_LABEL] !== undefined, 'built on the local stand-in (a base from a registry would be news)');
  });

  it('starts without a network: baton --help as 65534:65534, and the addon loads where the product looks for it', async () => {
    assert.ok(build, 'the build succeeded');
    await withContainer(build.id, async (c) => {
      const help = await runInContainer(c, ['node', '/app/dist/src/cli/main.js', '--help']);
      for (const cmd of ['controller', 'speaker', 'cleanup']) assert.match(help.stdout, new RegExp(`\\n  ${cmd} `), cmd);
      assert.doesNotMatch(help.stdout, /\n {2}demo /, 'the lab’s demo does not ship');
      const ids = await runInContainer(c, ['node', '-e', 'console.log(process.getuid() + ":" + process.getgid())']);
      assert.equal(ids.stdout.trim(), '65534:65534');
      await runInContainer(c, ['node', '-e', 'require("/app/native/build/Release/af_packet.node")']);
      // The product's own loader (src/layer2/addon.ts), resolving the addon from its place in the image.
      const loaded = await runInContainer(c, [
        'node',
        '--input-type=module',
        '-e',
        'const { loadAddon } = await import("/app/dist/src/layer2/addon.js"); console.log(typeof loadAddon().close)',
      ]);
      assert.equal(loaded.stdout.trim(), 'function');
    });
  });

  it('holds production dependencies only, no compilers and no lab code', async () => {
    assert.ok(build, 'the build succeeded');
    const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const lock = JSON.parse(await readFile(join(repo, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }>;
    };
    await withContainer(build.id, (c) =>
      withMountedContainer(c, async (root) => {
        const app = join(root, 'app');
        for (const name of Object.keys(pkg.dependencies)) assert.ok(existsSync(join(app, 'node_modules', name)), `${name} is there`);
        // What the lock marks dev-only must be gone; a dev dependency a production one needs too stays (@types/node).
        const kept: string[] = [];
        for (const name of Object.keys(pkg.devDependencies)) {
          const entry = lock.packages[`node_modules/${name}`];
          if (entry?.dev === true) assert.equal(existsSync(join(app, 'node_modules', name)), false, `${name} is not in the runtime image`);
          else kept.push(name);
        }
        const devOnly = Object.entries(lock.packages).filter(([path, e]) => path !== '' && e.dev === true);
        const leftover = devOnly.filter(([path]) => existsSync(join(app, path))).map(([path]) => path);
        assert.deepEqual(leftover, [], 'no package the lock marks dev-only');
        const missing = Object.entries(lock.packages)
          .filter(([path, e]) => path !== '' && e.dev !== true && e.optional !== true && e.devOptional !== true)
          .filter(([path]) => !existsSync(join(app, path)))
          .map(([path]) => path);
        assert.deepEqual(missing, [], 'every production package of the lock');
        console.log(
          `[image] node_modules: production packages only (${devOnly.length} dev-only packages absent; kept as production dependencies: ${kept.join(', ') || 'none'})`,
        );

        for (const tool of ['gcc', 'g++', 'cc', 'c++', 'make', 'python3', 'node-gyp']) {
          for (const dir of ['usr/bin', 'usr/local/bin', 'bin', 'usr/sbin']) {
            assert.equal(existsSync(join(root, dir, tool)), false, `no ${tool} in /${dir} of the runtime image`);
          }
        }
        assert.deepEqual(
          (await readdir(join(root, 'usr/lib'))).filter((d) => d === 'gcc'),
          [],
          'no /usr/lib/gcc',
        );

        assert.equal(existsSync(join(app, 'src')), false, 'no TypeScript sources');
        assert.equal(existsSync(join(app, 'native/af_packet.c')), false, 'no C sources');
        const tests = await run('find', [join(app, 'dist'), '-name', '*.test.js']);
        assert.equal(tests.stdout.trim(), '', 'no test files');
        // The product only: no lab, no e2e suite, no fakes (tsconfig.build.json builds src/ without src/testing/).
        assert.deepEqual(await readdir(join(app, 'dist')), ['src'], 'dist holds the product only: no dev/ (the lab), no e2e/');
        assert.equal(existsSync(join(app, 'dist/src/testing')), false, 'no fakes');
        const labFiles = await run('grep', ['-rlE', 'class LabError|ip netns add|ensureToolchain', join(app, 'dist')], {
          allowFailure: true,
        });
        assert.equal(labFiles.stdout.trim(), '', 'no file of the runtime image mentions the lab');
        const du = await run('du', ['-sx', '--block-size=1M', root]);
        console.log(`[image] runtime root filesystem: ${du.stdout.split('\t')[0]} MB unpacked`);
      }),
    );
  });

  it('leaves no working container and no network state in the host namespace', async () => {
    // Another run's image check may be at work meanwhile: its containers carry its own pid.
    const others = /^baton-image-check-(\d+)-/;
    const ours = (await containerNames()).filter(
      (n) => !containersBefore.includes(n) && (others.exec(n)?.[1] ?? String(process.pid)) === String(process.pid),
    );
    assert.deepEqual(ours, [], 'no buildah working container left by this check');
    assert.ok(network);
    assert.deepEqual(await removeCniLeftovers(network), [], 'no CNI bridge or iptables tables (removed if there were)');
  });
});
