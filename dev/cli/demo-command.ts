// `baton demo`.

import type { Command } from '../../src/cli/command.js';
import { stringFlag } from '../../src/cli/flags.js';
import type { DemoConfig } from '../demo/main.js';

export const demoCommand: Command<DemoConfig> = {
  name: 'demo',
  summary:
    'Runs Baton end to end on this machine: a local control plane and LAN, the chart, the OpenELB seed manifests, a node crash and its failover (needs root).',
  flags: [
    { name: 'out', type: 'string', help: 'folder for the failover report and picture', default: 'reports/demo' },
    { name: 'help', type: 'boolean', help: 'show this help' },
  ],
  config(v) {
    return { outDir: stringFlag(v, 'out') as string, argv: process.argv.slice(3) };
  },
  async run(config) {
    const { runDemo } = await import('../demo/main.js');
    await runDemo(config);
  },
};
