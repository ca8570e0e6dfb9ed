// The image's build, checked without a Docker engine: the Dockerfile's steps
// run in a clean copy of the tree (only what .dockerignore lets in), and the
// runtime stage must start, load the addon, and carry no build tools or dev
// dependencies.
//
// Runs outside the lab namespace (`make image-check`): the build's `npm ci`
// needs the registry, which the lab namespace cannot reach.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { run } from '../dev/lab/exec.js';
import { dockerignoreFilter, runDockerfile } from './support/dockerfile.js';

describe('container image build', { timeout: 1_200_000 }, () => {
  let workDir: string | undefined;
  after(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('reads .dockerignore the way Docker does', () => {
    const keep = dockerignoreFilter('*\n!src/\nsrc/**/*.test.ts\n!package.json\n');
    assert.equal(keep('package.json'), true);
    assert.equal(keep('src/cli/main.ts'), true);
    assert.equal(keep('src/net/ip.test.ts'), false);
    assert.equal(keep('e2e/suite.ts'), false);
    assert.equal(keep('README.md'), false);
  });

  it('builds both stages from a clean context; the runtime starts, loads the addon, and has production dependencies only', async () => {
    workDir = await mkdtemp(join(tmpdir(), 'baton-image-'));
    const result = await runDockerfile(resolve('.'), workDir, (l) => console.log(l));
    const app = join(result.stages.get('runtime') as string, 'app');
    assert.deepEqual(result.entrypoint, ['node', '/app/dist/src/cli/main.js']);
    assert.equal(result.user, '65534:65534');

    const help = await run(process.execPath, [join(app, 'dist/src/cli/main.js'), '--help']);
    for (const cmd of ['controller', 'speaker', 'cleanup']) assert.match(help.stdout, new RegExp(`\\n  ${cmd} `), cmd);
    assert.doesNotMatch(help.stdout, /\n {2}demo /, 'the lab’s demo does not ship');
    await run(process.execPath, ['-e', `require(${JSON.stringify(join(app, 'native/build/Release/af_packet.node'))})`]);

    const modules = await readdir(join(app, 'node_modules'));
    // Our own dev dependencies (the @types packages stay: the Kubernetes client lists some as its dependencies).
    for (const dev of ['typescript', 'fast-check', 'node-gyp', '@biomejs', 'yaml'])
      assert.ok(!modules.includes(dev), `${dev} is not in the runtime image`);
    for (const prod of ['pino', 'prom-client', '@kubernetes']) assert.ok(modules.includes(prod), `${prod} is`);
    assert.equal(existsSync(join(app, 'src')), false, 'no TypeScript sources');
    assert.equal(existsSync(join(app, 'native/af_packet.c')), false, 'no C sources');
    const compiled = await run('find', [join(app, 'dist'), '-name', '*.test.js']);
    assert.equal(compiled.stdout.trim(), '', 'no test files');
    // The product only: no lab, no e2e suite, no fakes (tsconfig.build.json builds src/ without src/testing/).
    assert.deepEqual(await readdir(join(app, 'dist')), ['src'], 'dist holds the product only: no dev/ (the lab), no e2e/');
    assert.equal(existsSync(join(app, 'dist/src/testing')), false, 'no fakes');
    const labFiles = await run('grep', ['-rlE', 'class LabError|ip netns add|ensureToolchain', join(app, 'dist')], { allowFailure: true });
    assert.equal(labFiles.stdout.trim(), '', 'no file of the runtime stage mentions the lab');
    console.log(`[image] not checked without Docker: ${result.notChecked.join('; ')}`);
  });
});
