import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { baseImages, copyBuildContext, dockerfileStages, dockerignoreFilter, parseDockerfile, qualifyImageName } from './context.js';

const DOCKERFILE = `# a comment
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /src
RUN apt-get update && \\
    # a comment inside a continuation
    apt-get install -y make
USER 1000
FROM build AS test
RUN true
FROM node:20.20.2-bookworm-slim AS runtime
USER 65534:65534
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
`;

describe('the Dockerfile, as the image check reads it', () => {
  it('joins continuation lines and drops comments', () => {
    const ops = parseDockerfile(DOCKERFILE);
    assert.equal(ops.length, 9);
    assert.deepEqual(ops[2], { op: 'RUN', args: 'apt-get update &&      apt-get install -y make' });
  });

  it('knows each stage’s base, USER and ENTRYPOINT', () => {
    const stages = dockerfileStages(DOCKERFILE);
    assert.deepEqual(
      stages.map((s) => [s.name, s.from, s.user]),
      [
        ['build', 'node:20.20.2-bookworm-slim', '1000'],
        ['test', 'build', undefined],
        ['runtime', 'node:20.20.2-bookworm-slim', '65534:65534'],
      ],
    );
    assert.deepEqual(stages.at(-1)?.entrypoint, ['node', '/app/dist/src/cli/main.js']);
  });

  it('lists the images it builds on, fully qualified, stages and scratch aside', () => {
    assert.deepEqual(baseImages(DOCKERFILE), ['docker.io/library/node:20.20.2-bookworm-slim']);
    assert.deepEqual(baseImages('FROM scratch AS a\nFROM --platform=linux/amd64 ghcr.io/x/y:1\n'), ['ghcr.io/x/y:1']);
  });

  it('qualifies short names as Docker does', () => {
    assert.equal(qualifyImageName('node:20'), 'docker.io/library/node:20');
    assert.equal(qualifyImageName('bitnami/kubectl:1'), 'docker.io/bitnami/kubectl:1');
    assert.equal(qualifyImageName('ghcr.io/baton-lb/baton:0.1.0'), 'ghcr.io/baton-lb/baton:0.1.0');
    assert.equal(qualifyImageName('localhost/x:1'), 'localhost/x:1');
    assert.equal(qualifyImageName('registry:5000/x'), 'registry:5000/x');
  });
});

describe('.dockerignore', () => {
  it('reads it the way Docker does: later lines win, "!" re-includes', () => {
    const keep = dockerignoreFilter('*\n!src/\nsrc/**/*.test.ts\n!package.json\n# comment\n!native/*.c\n');
    assert.equal(keep('package.json'), true);
    assert.equal(keep('src/cli/main.ts'), true);
    assert.equal(keep('src/net/ip.test.ts'), false);
    assert.equal(keep('src/errors.test.ts'), false, '"**/" also matches no folder at all');
    assert.equal(keep('e2e/suite.ts'), false);
    assert.equal(keep('README.md'), false);
    assert.equal(keep('native/af_packet.c'), true);
    assert.equal(keep('native/build/Release/af_packet.node'), false);
    const other = dockerignoreFilter('/docs/\n*.m?\nlog[0-9].txt\n**/tmp\n');
    assert.equal(other('docs/a/b.md'), false);
    assert.equal(other('a.md'), false);
    assert.equal(other('a.mdx'), true);
    assert.equal(other('log1.txt'), false);
    assert.equal(other('logx.txt'), true);
    assert.equal(other('tmp/x'), false);
    assert.equal(other('a/b/tmp/x'), false);
    assert.equal(other('a/b/c.ts'), true);
  });

  it('copies only what it lets in, plus itself, and never node_modules, dist or .git', async () => {
    const repo = await mkdtemp(join(tmpdir(), 'baton-context-test-'));
    try {
      for (const f of ['package.json', 'src/a.ts', 'src/a.test.ts', 'README.md', 'node_modules/x/index.js', 'dist/src/a.js']) {
        await mkdir(join(repo, f, '..'), { recursive: true });
        await writeFile(join(repo, f), f);
      }
      await writeFile(join(repo, '.dockerignore'), '*\n!package.json\n!src/\nsrc/**/*.test.ts\n!node_modules/\n!dist/\n');
      const files = await copyBuildContext(repo, join(repo, 'ctx'));
      assert.deepEqual(files, ['package.json', 'src/a.ts']);
      assert.deepEqual((await readdir(join(repo, 'ctx'))).sort(), ['.dockerignore', 'package.json', 'src']);
      // One fixed time for files and folders: a fresh copy must look the same to the layer cache.
      for (const p of ['ctx', 'ctx/src', 'ctx/src/a.ts'])
        assert.equal((await stat(join(repo, p))).mtime.toISOString(), '2020-01-01T00:00:00.000Z', p);
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });
});
