// Runs one command line against a list of commands: finds the subcommand,
// parses its flags, calls its one entry point, and turns a refused flag into
// exit code 2 with the reason. The shipped `baton` (main.ts) and the
// checkout's lab CLI (dev/cli/main.ts) differ only in their list.
import { BatonError } from '../errors.js';
import { type AnyCommand, helpOf } from './command.js';
import { parseFlags } from './flags.js';

function help(program: string, commands: readonly AnyCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n');
  return `Usage: ${program} <command> [flags]\n\nCommands:\n${lines}\n\nRun '${program} <command> --help' for the flags of a command.\n`;
}

/** Runs the command named by argv[0] and exits the process with its outcome. */
export async function runCli(program: string, commands: readonly AnyCommand[], argv: readonly string[]): Promise<never> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help(program, commands));
    process.exit(name === undefined ? 2 : 0);
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    process.stderr.write(`${program}: unknown command "${name}"\n\n${help(program, commands)}`);
    process.exit(2);
  }
  try {
    const values = parseFlags(rest, command.flags);
    if (values['help'] === true) {
      process.stdout.write(helpOf(command, program));
      process.exit(0);
    }
    await command.run(command.config(values));
    process.exit(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof BatonError && err.code === 'CONFIG_INVALID') {
      process.stderr.write(`${program} ${name}: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${program} ${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  }
}
