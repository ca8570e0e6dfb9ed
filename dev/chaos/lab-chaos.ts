// `chaos --lab` from a checkout: brings up the lab on real nodes with Baton
// installed by its chart, the seed workload (and web pods behind it), a second Service and an IPv6 one, and runs
// every experiment kind there, the lab-only ones included.
import { type ChaosConfig, printReport, progressLine } from '../../src/chaos/main.js';
import { runSession } from '../../src/chaos/session.js';
import { startBatonLab } from '../lab/baton-lab.js';
import { runInsideLab } from '../lab/enter-lab.js';
import { applySeed, createLabPool, createLabService, serveLabPages, waitForAddresses, waitForPages } from '../lab/workload.js';
import { LabEnvironment } from './lab-environment.js';

export interface LabChaosConfig extends ChaosConfig {
  /** The command line, to start again inside the lab namespace. */
  argv: string[];
}

export async function runLabChaos(config: LabChaosConfig): Promise<void> {
  const code = await runInsideLab(['chaos', '--lab', ...config.argv.filter((a) => a !== '--lab')]);
  if (code !== undefined) {
    process.exitCode = code;
    return;
  }
  const baton = await startBatonLab((l) => console.log(l));
  try {
    await applySeed(baton.api, 'demo', (l) => console.log(l));
    await serveLabPages(baton.api, 'demo', baton.lab.lan.nodes.length);
    await createLabPool(baton.api, { ipv6: true });
    await createLabService(baton.api, 'demo', 'second');
    await createLabService(baton.api, 'demo', 'third-v6', 'IPv6');
    await waitForPages(baton.lab.lan, [...(await waitForAddresses(baton.api, 'demo', 3)).values()]);
    const report = await runSession(new LabEnvironment(baton), { ...config, progress: progressLine });
    printReport(report, config.outDir);
  } finally {
    await baton.stop();
  }
}
