// `baton chaos` against a cluster. The lab-only experiments (kill-node,
// cut-link, ...) need the local lab and run from a checkout
// (dev/cli/lab-chaos-command.ts adds --lab there).

import { EXPERIMENTS, type ExperimentKind, isExperimentKind } from '../chaos/experiments.js';
import type { ChaosConfig } from '../chaos/main.js';
import { BatonError } from '../errors.js';
import type { Command } from './command.js';
import { COMMON_FLAGS, durationFlag, type FlagSpec, type FlagValues, intFlag, logLevelFlag, stringFlag } from './flags.js';

export const ALL_EXPERIMENTS = Object.keys(EXPERIMENTS) as ExperimentKind[];
export const CLUSTER_EXPERIMENTS = ALL_EXPERIMENTS.filter((k) => !EXPERIMENTS[k].lab);

export const CHAOS_FLAGS: FlagSpec[] = [
  ...COMMON_FLAGS,
  { name: 'namespace', type: 'string', help: 'Baton’s namespace in the cluster (its pods and Leases)', default: 'baton-system' },
  { name: 'interface', type: 'string', help: 'this machine’s interface on the external IPs’ LAN (the probe runs here)' },
  {
    name: 'experiments',
    type: 'string',
    help: `comma-separated, from: ${ALL_EXPERIMENTS.map((k) => `${k}${EXPERIMENTS[k].lab ? ' (lab)' : ''}`).join(', ')} (default: all that can run here)`,
  },
  { name: 'ip', type: 'string', help: 'external IP to target (default: a random one each time)' },
  { name: 'hold', type: 'string', help: 'how long each fault lasts (default: per experiment)' },
  { name: 'out', type: 'string', help: 'folder for report.json, index.html and the pictures', default: 'reports/chaos' },
  { name: 'schedule', type: 'string', help: 'soak: a cron expression (six fields for seconds) on which to run the experiments again' },
  { name: 'rounds', type: 'string', help: 'soak: how many scheduled rounds before it ends', default: '3' },
];

/** The chaos flags as a config; `lab` says whether lab-only experiments may run. */
export function chaosConfig(v: FlagValues, lab: boolean): ChaosConfig {
  const names = (stringFlag(v, 'experiments') ?? (lab ? ALL_EXPERIMENTS : CLUSTER_EXPERIMENTS).join(','))
    .split(',')
    .filter((s) => s !== '');
  const experiments: ExperimentKind[] = [];
  for (const n of names) {
    if (!isExperimentKind(n)) throw new BatonError('CONFIG_INVALID', `--experiments: "${n}" is not one of ${ALL_EXPERIMENTS.join(', ')}`);
    if (!lab && EXPERIMENTS[n].lab)
      throw new BatonError('CONFIG_INVALID', `--experiments: ${n} needs the local lab (run from a checkout: make chaos-lab)`);
    experiments.push(n);
  }
  const hold = stringFlag(v, 'hold');
  return {
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
  };
}

export const chaosCommand: Command<ChaosConfig> = {
  name: 'chaos',
  summary:
    'Injects node and control-plane faults while probing every external IP from a client, and reports downtime, hand-overs and any two-MAC moment (JSON and a timeline picture).',
  flags: CHAOS_FLAGS,
  config: (v) => {
    const config = chaosConfig(v, false);
    if (config.interface === undefined)
      throw new BatonError('CONFIG_INVALID', '--interface is required: the probe runs on this machine’s LAN interface');
    return config;
  },
  async run(config) {
    const { runChaos } = await import('../chaos/main.js');
    await runChaos(config);
  },
};
