// The subcommands of the shipped `baton` command, in the order help lists them.
import { chaosCommand } from './chaos-command.js';
import { cleanupCommand } from './cleanup-command.js';
import type { AnyCommand } from './command.js';
import { controllerCommand } from './controller-command.js';
import { probeCommand } from './probe-command.js';
import { speakerCommand } from './speaker-command.js';

export const PRODUCT_COMMANDS: readonly AnyCommand[] = [controllerCommand, speakerCommand, chaosCommand, cleanupCommand, probeCommand];
