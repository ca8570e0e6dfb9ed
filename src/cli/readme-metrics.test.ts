// The README's list of metrics is part of the interface operators read: it
// must name every metric Baton registers, and none that it does not.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SpeakerMetrics } from '../election/speaker-metrics.js';
import { IpamMetrics } from '../ipam/ipam-metrics.js';
import { Metrics } from '../observability/metrics.js';

// dist/src/cli/readme-metrics.test.js -> the checkout's README.
const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('README: metrics', () => {
  it('names every metric the controller and the speaker register, and no other', async () => {
    const m = new Metrics({ defaultMetrics: false });
    new SpeakerMetrics(m);
    new IpamMetrics(m);
    const registered = (await m.registry.getMetricsAsJSON()).map((x) => x.name).sort();
    const section = README.slice(README.indexOf('## Observability'), README.indexOf('## The test ground'));
    const listed = [...new Set([...section.matchAll(/`(baton_[a-z0-9_]+)(?:\{[^}]*\})?`/g)].map((x) => x[1] as string))].sort();
    assert.deepEqual(listed, registered);
  });
});
