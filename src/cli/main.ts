#!/usr/bin/env node
// The `baton` command. Parses the subcommand and its flags, then calls one
// entry point. Nothing else happens here.
import { BatonError } from '../errors.js';
import { controllerConfig, controllerHelp, CONTROLLER_SUMMARY } from './controller-command.js';
import { speakerConfig, speakerHelp, SPEAKER_SUMMARY } from './speaker-command.js';
import { cleanupConfig, cleanupHelp, CLEANUP_SUMMARY } from './cleanup-command.js';

const COMMANDS: Record<string, { summary: string; run: (argv: string[]) => Promise<void> }> = {
  controller: {
    summary: CONTROLLER_SUMMARY,
    run: async (argv) => {
      const config = controllerConfig(argv);
      if (config === 'help') {
        process.stdout.write(controllerHelp());
        return;
      }
      const { runController } = await import('../controller/main.js');
      await runController(config);
    },
  },
  speaker: {
    summary: SPEAKER_SUMMARY,
    run: async (argv) => {
      const config = speakerConfig(argv);
      if (config === 'help') {
        process.stdout.write(speakerHelp());
        return;
      }
      const { runSpeaker } = await import('../speaker/main.js');
      await runSpeaker(config);
    },
  },
  cleanup: {
    summary: CLEANUP_SUMMARY,
    run: async (argv) => {
      const config = cleanupConfig(argv);
      if (config === 'help') {
        process.stdout.write(cleanupHelp());
        return;
      }
      const { runCleanup } = await import('../cleanup/main.js');
      await runCleanup(config);
    },
  },
};

function help(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return `Usage: baton <command> [flags]\n\nCommands:\n${names.map((n) => `  ${n.padEnd(width)}${COMMANDS[n]?.summary}`).join('\n')}\n\nRun 'baton <command> --help' for the flags of a command.\n`;
}

const [command, ...rest] = process.argv.slice(2);
if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(help());
  process.exit(command === undefined ? 2 : 0);
}
const entry = COMMANDS[command];
if (entry === undefined) {
  process.stderr.write(`baton: unknown command "${command}"\n\n${help()}`);
  process.exit(2);
}
try {
  await entry.run(rest);
  process.exit(0);
} catch (err) {
  if (err instanceof BatonError && err.code === 'CONFIG_INVALID') {
    process.stderr.write(`baton ${command}: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`baton ${command}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
