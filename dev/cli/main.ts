#!/usr/bin/env node
// The `baton` command of a checkout: the shipped commands, plus what needs
// the local lab and so never ships (`demo`, `chaos --lab`). Run it as
// `node dist/dev/cli/main.js <command>` (make demo, make chaos-lab).
import { PRODUCT_COMMANDS } from '../../src/cli/commands.js';
import { runCli } from '../../src/cli/run-cli.js';
import { demoCommand } from './demo-command.js';
import { labChaosCommand } from './lab-chaos-command.js';

const commands = [...PRODUCT_COMMANDS.map((c) => (c.name === labChaosCommand.name ? labChaosCommand : c)), demoCommand];
await runCli('baton', commands, process.argv.slice(2));
