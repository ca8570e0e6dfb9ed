import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFlags } from '../../src/cli/flags.js';
import { labChaosCommand } from './lab-chaos-command.js';

const configOf = (argv: string[]) => labChaosCommand.config(parseFlags(argv, labChaosCommand.flags));

describe('chaos in the checkout', () => {
  it('runs every experiment kind with --lab, needing no interface', () => {
    const c = configOf(['--lab']);
    assert.equal(c.lab, true);
    assert.equal(c.config.experiments.length, 7);
  });

  it('is the shipped command without --lab', () => {
    const c = configOf(['--interface=eth0']);
    assert.equal(c.lab, false);
    assert.deepEqual(c.config.experiments, ['delete-speaker-pod', 'cordon-drain', 'delete-lease']);
    assert.throws(() => configOf(['--experiments=kill-node', '--interface=eth0']), /kill-node needs the local lab/);
  });
});
