// One subcommand of `baton`: its flags, how they become a config, and the
// entry point it calls (imported only when the command runs, so `baton
// --help` loads nothing heavy).
import { type FlagSpec, type FlagValues, usage } from './flags.js';

export interface Command<C> {
  name: string;
  summary: string;
  flags: FlagSpec[];
  /** Turns parsed flags into the command's config; throws BatonError CONFIG_INVALID with the reason. */
  config(values: FlagValues): C;
  run(config: C): Promise<void>;
}

/** A command of any config type, as a list of commands holds them (config and run agree per command). */
// biome-ignore lint/suspicious/noExplicitAny: each command pairs its own config type with its own run; a list cannot name them all.
export type AnyCommand = Command<any>;

export function helpOf(c: Command<unknown>, program = 'baton'): string {
  return usage(`${program} ${c.name}`, c.summary, c.flags);
}
