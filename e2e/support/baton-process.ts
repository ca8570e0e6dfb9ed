// Baton's own processes (controller and speakers), started from the built
// CLI as an operator would run them, with their logs in the lab's work
// folder and their metrics endpoint reachable from the test.
//
// BATON_E2E_LIVENESS=fast|heartbeats|slow runs every speaker a test starts
// with that liveness design (unset: the shipped defaults), unless the test
// chose its own: to run the whole fault matrix in each design.
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { type ChartLiveness, SHIPPED_LIVENESS } from '../../dev/lab/baton-lab.js';
import { lab } from '../../dev/lab/current.js';
import { waitFor } from '../../dev/lab/exec.js';
import { ManagedProcess } from '../../dev/lab/managed-process.js';

export const CLI = resolve('dist/src/cli/main.js');

let nextPort = 17_400;

export interface BatonProcess {
  proc: ManagedProcess;
  metricsUrl: string;
  identity: string;
}

export interface ControllerOptions {
  kubeconfig?: string;
  identity?: string;
  extraArgs?: string[];
  /** Short election timings so takeover tests take seconds, not a quarter minute. */
  fastElection?: boolean;
  /** As the image runs it (no source maps, info logs, NODE_ENV=production): for footprint benchmarks. */
  shipped?: boolean;
  nodeFlags?: readonly string[];
  env?: Record<string, string>;
}

export async function startController(options: ControllerOptions = {}): Promise<BatonProcess> {
  const port = nextPort++;
  const identity = options.identity ?? `controller-${port}`;
  const args = [
    ...(options.nodeFlags ?? []),
    ...(options.shipped === true ? [] : ['--enable-source-maps']),
    CLI,
    'controller',
    `--kubeconfig=${options.kubeconfig ?? lab().controlPlane.adminKubeconfig}`,
    `--metrics-address=127.0.0.1:${port}`,
    `--identity=${identity}`,
    '--namespace=baton-system',
    `--log-level=${options.shipped === true ? 'info' : 'debug'}`,
    ...(options.fastElection === true ? ['--lease-duration=4s', '--renew-deadline=3s', '--retry-period=500ms'] : []),
    ...(options.extraArgs ?? []),
  ];
  const proc = ManagedProcess.spawn(identity, process.execPath, args, {
    logFile: join(lab().workDir, `${identity}.log`),
    env: { ...process.env, ...(options.shipped === true ? { NODE_ENV: 'production' } : {}), ...options.env },
  });
  const metricsUrl = `http://127.0.0.1:${port}`;
  await waitFor(
    `${identity} to be ready`,
    async () => {
      proc.assertRunning();
      const res = await fetch(`${metricsUrl}/readyz`).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  return { proc, metricsUrl, identity };
}

/** One scrape of a process's /metrics: every metric read from it is of the same moment. */
export class MetricsScrape {
  constructor(private readonly text: string) {}

  /** Every series of a metric whose labels include `labels`, with all its labels parsed, and its value. */
  series(name: string, labels: Record<string, string> = {}): Array<[Record<string, string>, number]> {
    const out: Array<[Record<string, string>, number]> = [];
    for (const line of this.text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const m = /^([a-zA-Z0-9_:]+)(\{[^}]*\})?\s+(\S+)$/.exec(line);
      if (m === null || m[1] !== name) continue;
      const parsed = Object.fromEntries(
        [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
      );
      if (Object.entries(labels).every(([k, v]) => parsed[k] === v)) out.push([parsed as Record<string, string>, Number(m[3])]);
    }
    return out;
  }

  /** The sum of a metric's series whose labels include `labels`. */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.series(name, labels).reduce((sum, [, v]) => sum + v, 0);
  }
}

/** Reads all of a process's metrics at once (counters compared with each other must come from one scrape). */
export async function scrapeMetrics(p: BatonProcess): Promise<MetricsScrape> {
  return new MetricsScrape(await (await fetch(`${p.metricsUrl}/metrics`)).text());
}

/** Every series of a metric whose labels include `labels`, with all its labels parsed, and its value. */
export async function metricSeries(
  p: BatonProcess,
  name: string,
  labels: Record<string, string> = {},
): Promise<Array<[Record<string, string>, number]>> {
  return (await scrapeMetrics(p)).series(name, labels);
}

/** The sum of a metric's series whose labels include `labels`. */
export async function metricValue(p: BatonProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  return (await scrapeMetrics(p)).value(name, labels);
}

export interface SpeakerOptions {
  kubeconfig?: string;
  extraArgs?: string[];
  /**
   * Run the speaker as the image does (no source maps, info logs, NODE_ENV=production): what a footprint
   * benchmark must measure. Tests keep the default (source-mapped stacks, debug logs to read a failure by).
   */
  shipped?: boolean;
  /** Flags for Node.js itself, before the script (e.g. V8 heap limits). */
  nodeFlags?: readonly string[];
  /** More environment for the process (e.g. MALLOC_ARENA_MAX). */
  env?: Record<string, string>;
}

/** One key for the run's speakers, 32 characters (the speaker's minimum), as the chart's Secret would give them. */
const HEARTBEAT_KEY = randomBytes(24).toString('base64');
/** The chart's default heartbeatPort. */
export const HEARTBEAT_PORT = 7474;

export type Liveness = ChartLiveness;

/** The options with the flags, key and address of a liveness design added, spelled out whatever the defaults. */
export function withLiveness(options: SpeakerOptions, nodeIp: string, liveness: Liveness): SpeakerOptions {
  if (liveness === 'fast') return { ...options, extraArgs: [...(options.extraArgs ?? []), '--heartbeats=false', '--liveness=fast'] };
  return {
    ...options,
    env: { BATON_HEARTBEAT_KEY: HEARTBEAT_KEY, ...options.env },
    extraArgs: [
      ...(options.extraArgs ?? []),
      '--heartbeats=true',
      `--heartbeat-address=${nodeIp}:${HEARTBEAT_PORT}`,
      `--liveness=${liveness === 'slow' ? 'slow' : 'fast'}`,
    ],
  };
}

/** A liveness design from the environment, checked; unset: the shipped one. */
export function livenessFromEnv(name: string): Liveness {
  const v = process.env[name] || SHIPPED_LIVENESS;
  if (v !== 'fast' && v !== 'heartbeats' && v !== 'slow') throw new Error(`${name}: fast, heartbeats or slow, got ${v}`);
  return v;
}

export const E2E_LIVENESS = livenessFromEnv('BATON_E2E_LIVENESS');

/** Starts a speaker inside a node's namespace, as a DaemonSet pod with hostNetwork would run. */
export async function startSpeaker(nodeName: string, given: SpeakerOptions = {}): Promise<BatonProcess> {
  const { lan, controlPlane } = lab();
  const node = lan.node(nodeName);
  // A test that chose heartbeats itself keeps its choice.
  const own = (given.extraArgs ?? []).some((a) => a.startsWith('--heartbeats'));
  const options = own ? given : withLiveness(given, node.ip, E2E_LIVENESS);
  const port = 7473;
  const proc = lan.spawn(
    node,
    `speaker-${Date.now()}`,
    process.execPath,
    [
      ...(options.nodeFlags ?? []),
      ...(options.shipped === true ? [] : ['--enable-source-maps']),
      CLI,
      'speaker',
      `--node-name=${nodeName}`,
      `--kubeconfig=${options.kubeconfig ?? controlPlane.adminKubeconfig}`,
      `--metrics-address=${node.ip}:${port}`,
      '--namespace=baton-system',
      `--log-level=${options.shipped === true ? 'info' : 'debug'}`,
      ...(options.extraArgs ?? []),
    ],
    {
      logFile: join(lab().workDir, `speaker-${nodeName}.log`),
      env: { ...process.env, ...(options.shipped === true ? { NODE_ENV: 'production' } : {}), ...options.env },
    },
  );
  const metricsUrl = `http://${node.ip}:${port}`;
  await waitFor(
    `speaker on ${nodeName} to be ready`,
    async () => {
      proc.assertRunning();
      const res = await fetch(`${metricsUrl}/readyz`).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  return { proc, metricsUrl, identity: nodeName };
}
