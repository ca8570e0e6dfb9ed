// `baton chaos`: wiring only. In the local lab (--lab) it brings up the lab
// with Baton installed and may run every experiment kind; against a cluster
// it runs the cluster experiments, probing from this machine.
import { resolve } from 'node:path';
import type { LevelWithSilent } from 'pino';
import { ApiClient, loadKubeConfig } from '../k8s/api-client.js';
import { startBatonLab } from '../lab/baton-lab.js';
import { runInsideLab } from '../lab/enter-lab.js';
import { applySeed, createLabPool, createLabService, waitForAddresses } from '../lab/workload.js';
import { ClusterEnvironment } from './cluster-environment.js';
import type { ExperimentKind } from './experiments.js';
import { LabEnvironment } from './lab-environment.js';
import { runSession } from './session.js';

export interface ChaosConfig {
  lab: boolean;
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
  /** The command line, to start again inside the lab. */
  argv: string[];
}

const progress = (line: string): void => {
  // A live line: rewritten in place on a terminal, one line per update in a log.
  if (line.endsWith('\n')) process.stdout.write(process.stdout.isTTY ? `\r\x1b[2K${line}` : line);
  else process.stdout.write(process.stdout.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
};

export async function runChaos(config: ChaosConfig): Promise<void> {
  if (config.lab) {
    const code = await runInsideLab(['chaos', ...config.argv]);
    if (code !== undefined) {
      process.exitCode = code;
      return;
    }
    const lab = await startBatonLab((l) => console.log(l));
    try {
      await applySeed(lab.api, 'demo', (l) => console.log(l));
      await createLabPool(lab.api);
      await createLabService(lab.api, 'demo', 'second');
      await waitForAddresses(lab.api, 'demo', 2);
      const report = await runSession(new LabEnvironment(lab), { ...config, progress });
      console.log(`\n[chaos] report: ${resolve(config.outDir, 'report.json')}, pictures: ${resolve(config.outDir, 'index.html')}`);
      console.table(report.summary);
    } finally {
      await lab.stop();
    }
    return;
  }
  if (config.interface === undefined) throw new Error('--interface is required against a cluster: the probe runs on this machine’s LAN interface');
  const api = new ApiClient(loadKubeConfig(config.kubeconfig));
  try {
    const report = await runSession(new ClusterEnvironment(api, config.namespace, config.interface), { ...config, progress });
    console.log(`\n[chaos] report: ${resolve(config.outDir, 'report.json')}, pictures: ${resolve(config.outDir, 'index.html')}`);
    console.table(report.summary);
  } finally {
    api.close();
  }
}
