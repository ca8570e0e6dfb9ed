// One source of truth for defaults: SPEAKER_DEFAULTS and CONTROLLER_DEFAULTS.
// The flags derive theirs from them; this test holds the chart's values.yaml
// (what a `helm install` passes as flags) and the flags' help to them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { CONTROLLER_CHART_VALUES, CONTROLLER_DEFAULTS } from '../controller/config.js';
import { SPEAKER_CHART_VALUES, SPEAKER_DEFAULTS } from '../speaker/config.js';
import { helpOf } from './command.js';
import { controllerCommand } from './controller-command.js';
import { parseDuration, parseFlags } from './flags.js';
import { speakerCommand } from './speaker-command.js';

// dist/src/cli/defaults.test.js -> the checkout's chart.
const VALUES = parse(readFileSync(new URL('../../../charts/baton/values.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;

function valueAt(path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], VALUES);
}

/** A chart value in the unit of the default: durations (strings) to ms, the rest as they are. */
function asDefault(chart: unknown, dflt: unknown): unknown {
  return typeof dflt === 'number' && typeof chart === 'string' ? parseDuration(chart) : chart;
}

describe('defaults: one source of truth', () => {
  for (const [name, defaults, mapping] of [
    ['speaker', SPEAKER_DEFAULTS, SPEAKER_CHART_VALUES],
    ['controller', CONTROLLER_DEFAULTS, CONTROLLER_CHART_VALUES],
  ] as const) {
    it(`charts/baton/values.yaml gives the ${name} its code defaults`, () => {
      for (const [key, path] of Object.entries(mapping)) {
        const dflt = (defaults as Record<string, unknown>)[key];
        assert.deepEqual(asDefault(valueAt(path), dflt), dflt, `${path} in values.yaml vs ${name} default ${key}`);
      }
    });
  }

  it('the speaker’s flags, unset, are SPEAKER_DEFAULTS, and their help says so', () => {
    // Heartbeats are on by default: they need the node's address (the default names only the port) and a key.
    process.env['BATON_HEARTBEAT_KEY'] = 'k'.repeat(48);
    let c: ReturnType<typeof speakerCommand.config>;
    try {
      c = speakerCommand.config(parseFlags(['--node-name=n1', '--heartbeat-address=192.0.2.11:7474'], speakerCommand.flags));
    } finally {
      delete process.env['BATON_HEARTBEAT_KEY'];
    }
    for (const [key, value] of Object.entries(SPEAKER_DEFAULTS)) {
      if (key === 'heartbeatAddress') assert.ok(c.heartbeatAddress.endsWith(value as string), 'the default port');
      else assert.deepEqual(c[key as keyof typeof c], value, key);
    }
    assert.match(helpOf(speakerCommand), /--lease-duration\s+.*\(default 1500ms\)/);
    assert.match(helpOf(speakerCommand), /--garp-refresh\s+.*\(default 10s\)/);
  });

  it('the controller’s flags, unset, are CONTROLLER_DEFAULTS', () => {
    const c = controllerCommand.config(parseFlags(['--identity=a'], controllerCommand.flags));
    for (const [key, value] of Object.entries(CONTROLLER_DEFAULTS)) assert.deepEqual(c[key as keyof typeof c], value, key);
  });
});
