// One subcommand of `baton`: its flags, how they become a config, and the
// entry point it calls (imported only when the command runs, so `baton
// --help` loads nothing heavy and the image need not carry the lab).
import { usage, type FlagSpec, type FlagValues } from './flags.js';

export interface Command<C> {
  name: string;
  summary: string;
  flags: FlagSpec[];
  /** Turns parsed flags into the command's config; throws BatonError CONFIG_INVALID with the reason. */
  config(values: FlagValues): C;
  run(config: C): Promise<void>;
}

export function helpOf(c: Command<unknown>): string {
  return usage(c.name, c.summary, c.flags);
}
