// Flag parsing shared by every subcommand: node:util parseArgs plus typed
// readers that turn a bad value into one clear message (CONFIG_INVALID).

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { LevelWithSilent } from 'pino';
import { BatonError } from '../errors.js';
import { LOG_LEVELS } from '../observability/logger.js';

export interface FlagSpec {
  name: string;
  type: 'string' | 'boolean';
  help: string;
  default?: string;
}

export const COMMON_FLAGS: FlagSpec[] = [
  {
    name: 'kubeconfig',
    type: 'string',
    help: 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster config, as kubectl)',
  },
  { name: 'log-level', type: 'string', help: `one of ${LOG_LEVELS.join(', ')}`, default: 'info' },
  { name: 'help', type: 'boolean', help: 'show this help' },
];

export type FlagValues = Record<string, string | boolean | undefined>;

export function parseFlags(argv: string[], specs: FlagSpec[]): FlagValues {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const s of specs) options[s.name] = { type: s.type };
  try {
    const { values } = parseArgs({ args: argv, options, allowPositionals: false, strict: true });
    const out: FlagValues = {};
    for (const s of specs) out[s.name] = (values as Record<string, string | boolean | undefined>)[s.name] ?? s.default;
    return out;
  } catch (err) {
    throw new BatonError('CONFIG_INVALID', (err as Error).message);
  }
}

/** Help text; `command` is the whole invocation, e.g. "baton speaker". */
export function usage(command: string, summary: string, specs: FlagSpec[]): string {
  const width = Math.max(...specs.map((s) => s.name.length)) + 4;
  const lines = specs.map((s) => `  --${s.name.padEnd(width)}${s.help}${s.default !== undefined ? ` (default ${s.default})` : ''}`);
  return `Usage: ${command} [flags]\n\n${summary}\n\nFlags:\n${lines.join('\n')}\n`;
}

export function stringFlag(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** "500ms", "1.5s", "2m" or a bare number of seconds, in ms; undefined if it is none of these. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

/** The shortest spelling parseDuration reads back exactly: 1500 -> "1500ms", 3000 -> "3s", 0 -> "0". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

export function durationFlag(values: FlagValues, name: string, fallbackMs: number): number {
  const v = stringFlag(values, name);
  if (v === undefined) return fallbackMs;
  const ms = parseDuration(v);
  if (ms === undefined) throw new BatonError('CONFIG_INVALID', `--${name}: "${v}" is not a duration like 500ms, 2s or 1m`);
  return ms;
}

/** "true" or "false" (a string flag, so the chart can pass {{ .Values.x }} either way). */
export function booleanFlag(values: FlagValues, name: string, fallback: boolean): boolean {
  const v = stringFlag(values, name);
  if (v === undefined) return fallback;
  if (v !== 'true' && v !== 'false') throw new BatonError('CONFIG_INVALID', `--${name}: "${v}" is not true or false`);
  return v === 'true';
}

export function intFlag(values: FlagValues, name: string, fallback: number, min: number, max: number): number {
  const v = stringFlag(values, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new BatonError('CONFIG_INVALID', `--${name}: "${v}" must be an integer from ${min} to ${max}`);
  return n;
}

export function logLevelFlag(values: FlagValues): LevelWithSilent {
  const v = stringFlag(values, 'log-level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(v))
    throw new BatonError('CONFIG_INVALID', `--log-level: "${v}" is not one of ${LOG_LEVELS.join(', ')}`);
  return v as LevelWithSilent;
}

/** A replica's identity: the pod name when run by Kubernetes (HOSTNAME), plus randomness so two processes on one host differ. */
export function defaultIdentity(): string {
  return `${process.env['POD_NAME'] ?? hostname()}-${randomBytes(3).toString('hex')}`;
}

/** --namespace, where the flag's default gives way to $POD_NAMESPACE (set by the chart from the pod's namespace). */
export function namespaceFlag(values: FlagValues, fallback: string): string {
  const ns = stringFlag(values, 'namespace') ?? fallback;
  return ns === fallback ? (process.env['POD_NAMESPACE'] ?? ns) : ns;
}
