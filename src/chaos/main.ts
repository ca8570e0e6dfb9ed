// `baton chaos` against a cluster: wiring only. It runs the cluster
// experiments, probing from this machine's LAN interface. (The lab mode,
// with every experiment kind, is dev/chaos/lab-chaos.ts.)
import { resolve } from 'node:path';
import type { LevelWithSilent } from 'pino';
import { ApiClient } from '../k8s/api-client.js';
import { loadApiAccess } from '../k8s/kubeconfig.js';
import { ClusterEnvironment } from './cluster-environment.js';
import type { ExperimentKind } from './experiments.js';
import type { ChaosReport } from './runner.js';
import { runSession } from './session.js';

export interface ChaosConfig {
  kubeconfig: string | undefined;
  namespace: string;
  interface: string | undefined;
  experiments: ExperimentKind[];
  ip: string | undefined;
  holdMs: number | undefined;
  outDir: string;
  schedule: string | undefined;
  rounds: number;
  logLevel: LevelWithSilent;
}

/** A live line: rewritten in place on a terminal, one line per update in a log. */
export function progressLine(line: string): void {
  if (line.endsWith('\n')) process.stdout.write(process.stdout.isTTY ? `\r\x1b[2K${line}` : line);
  else process.stdout.write(process.stdout.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
}

export function printReport(report: ChaosReport, outDir: string): void {
  console.log(`\n[chaos] report: ${resolve(outDir, 'report.json')}, pictures: ${resolve(outDir, 'index.html')}`);
  console.table(report.summary);
}

export async function runChaos(config: ChaosConfig): Promise<void> {
  if (config.interface === undefined)
    throw new Error('--interface is required against a cluster: the probe runs on this machine’s LAN interface');
  const api = new ApiClient(loadApiAccess(config.kubeconfig));
  try {
    const report = await runSession(new ClusterEnvironment(api, config.namespace, config.interface), { ...config, progress: progressLine });
    printReport(report, config.outDir);
  } finally {
    api.close();
  }
}
