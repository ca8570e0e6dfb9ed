// `chaos` in the checkout's CLI: the shipped command against a cluster, plus
// --lab, which runs every experiment kind in the local lab.
import { CHAOS_FLAGS, chaosCommand, chaosConfig } from '../../src/cli/chaos-command.js';
import type { Command } from '../../src/cli/command.js';
import type { LabChaosConfig } from '../chaos/lab-chaos.js';

type Config = { lab: true; config: LabChaosConfig } | { lab: false; config: ReturnType<typeof chaosCommand.config> };

export const labChaosCommand: Command<Config> = {
  name: 'chaos',
  summary: `${chaosCommand.summary} With --lab, in the local lab (every experiment kind; needs root).`,
  flags: [
    ...CHAOS_FLAGS,
    { name: 'lab', type: 'boolean', help: 'bring up the local lab with Baton installed and run there (all experiment kinds; needs root)' },
  ],
  config: (v) =>
    v['lab'] === true
      ? { lab: true, config: { ...chaosConfig(v, true), argv: process.argv.slice(3) } }
      : { lab: false, config: chaosCommand.config(v) },
  async run(c) {
    if (c.lab) {
      const { runLabChaos } = await import('../chaos/lab-chaos.js');
      await runLabChaos(c.config);
    } else {
      await chaosCommand.run(c.config);
    }
  },
};
