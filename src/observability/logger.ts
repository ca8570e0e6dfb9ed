// Structured logs: pino, JSON to stdout, one stable set of keys that every
// component uses so operators can filter on them.
//
//   component  controller | speaker | chaos | demo
//   node       Kubernetes node name of a speaker
//   ip         external IP the line is about
//   service    namespace/name of a Service
//   eip        Eip pool name
//   reason     stable, machine-readable reason (drop reasons, refusal reasons)
//   code       stable error code (BatonError, ApiError)
//   err        the error itself (pino's serializer)
import { type LevelWithSilent, type Logger, pino } from 'pino';

export type { Logger };

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `mixin` adds keys computed at each line (the simulation's virtual time, for instance). */
export function createLogger(
  component: string,
  level: LevelWithSilent = 'info',
  bindings: Record<string, unknown> = {},
  mixin?: () => Record<string, unknown>,
): Logger {
  return pino({
    level,
    base: { component, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(mixin === undefined ? {} : { mixin }),
  });
}

/** A logger that writes nothing, for unit tests that do not inspect logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
