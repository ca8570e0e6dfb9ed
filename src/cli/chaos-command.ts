// `baton chaos`.
import type { ChaosConfig } from '../chaos/main.js';
import { EXPERIMENTS, isExperimentKind, type ExperimentKind } from '../chaos/experiments.js';
import { BatonError } from '../errors.js';
import type { Command } from './command.js';
import { COMMON_FLAGS, durationFlag, intFlag, logLevelFlag, stringFlag } from './flags.js';

const ALL = Object.keys(EXPERIMENTS) as ExperimentKind[];
const CLUSTER = ALL.filter((k) => !EXPERIMENTS[k].lab);

export const chaosCommand: Command<ChaosConfig> = {
  name: 'chaos',
  summary: 'Injects node and control-plane faults while probing every external IP from a client, and reports downtime, hand-overs and any two-MAC moment (JSON and a timeline picture).',
  flags: [
    ...COMMON_FLAGS,
    { name: 'lab', type: 'boolean', help: 'bring up the local lab with Baton installed and run there (all experiment kinds; needs root)' },
    { name: 'namespace', type: 'string', help: 'Baton’s namespace in the cluster (its pods and Leases)', default: 'baton-system' },
    { name: 'interface', type: 'string', help: 'against a cluster: this machine’s interface on the external IPs’ LAN (the probe runs here)' },
    { name: 'experiments', type: 'string', help: `comma-separated, from: ${ALL.map((k) => `${k}${EXPERIMENTS[k].lab ? ' (lab)' : ''}`).join(', ')} (default: all that can run here)` },
    { name: 'ip', type: 'string', help: 'external IP to target (default: a random one each time)' },
    { name: 'hold', type: 'string', help: 'how long each fault lasts (default: per experiment)' },
    { name: 'out', type: 'string', help: 'folder for report.json, index.html and the pictures', default: 'reports/chaos' },
    { name: 'schedule', type: 'string', help: 'soak: a cron expression (six fields for seconds) on which to run the experiments again' },
    { name: 'rounds', type: 'string', help: 'soak: how many scheduled rounds before it ends', default: '3' },
  ],
  config(v) {
    const lab = v['lab'] === true;
    const names = (stringFlag(v, 'experiments') ?? (lab ? ALL : CLUSTER).join(',')).split(',').filter((s) => s !== '');
    const experiments: ExperimentKind[] = [];
    for (const n of names) {
      if (!isExperimentKind(n)) throw new BatonError('CONFIG_INVALID', `--experiments: "${n}" is not one of ${ALL.join(', ')}`);
      if (!lab && EXPERIMENTS[n].lab) throw new BatonError('CONFIG_INVALID', `--experiments: ${n} needs the local lab (--lab)`);
      experiments.push(n);
    }
    const hold = stringFlag(v, 'hold');
    return {
      lab,
      kubeconfig: stringFlag(v, 'kubeconfig'),
      namespace: stringFlag(v, 'namespace') as string,
      interface: stringFlag(v, 'interface'),
      experiments,
      ip: stringFlag(v, 'ip'),
      holdMs: hold === undefined ? undefined : durationFlag(v, 'hold', 0),
      outDir: stringFlag(v, 'out') as string,
      schedule: stringFlag(v, 'schedule'),
      rounds: intFlag(v, 'rounds', 3, 1, 1_000),
      logLevel: logLevelFlag(v),
      argv: process.argv.slice(3),
    };
  },
  async run(config) {
    const { runChaos } = await import('../chaos/main.js');
    await runChaos(config);
  },
};
