#!/usr/bin/env node
// The `baton` command: finds the subcommand, parses its flags, calls its one
// entry point. Nothing else happens here.
import { BatonError } from '../errors.js';
import { chaosCommand } from './chaos-command.js';
import { cleanupCommand } from './cleanup-command.js';
import { helpOf, type Command } from './command.js';
import { controllerCommand } from './controller-command.js';
import { demoCommand } from './demo-command.js';
import { parseFlags } from './flags.js';
import { probeCommand } from './probe-command.js';
import { speakerCommand } from './speaker-command.js';

const COMMANDS: Array<Command<any>> = [controllerCommand, speakerCommand, chaosCommand, demoCommand, cleanupCommand, probeCommand];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return `Usage: baton <command> [flags]\n\nCommands:\n${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}\n\nRun 'baton <command> --help' for the flags of a command.\n`;
}

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(help());
  process.exit(name === undefined ? 2 : 0);
}
const command = COMMANDS.find((c) => c.name === name);
if (command === undefined) {
  process.stderr.write(`baton: unknown command "${name}"\n\n${help()}`);
  process.exit(2);
}
try {
  const values = parseFlags(rest, command.flags);
  if (values['help'] === true) {
    process.stdout.write(helpOf(command));
    process.exit(0);
  }
  await command.run(command.config(values));
  process.exit(process.exitCode ?? 0);
} catch (err) {
  if (err instanceof BatonError && err.code === 'CONFIG_INVALID') {
    process.stderr.write(`baton ${name}: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`baton ${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
