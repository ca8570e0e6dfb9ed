// `baton cleanup`.
import type { CleanupConfig } from '../cleanup/main.js';
import type { Command } from './command.js';
import { COMMON_FLAGS, logLevelFlag, namespaceFlag, stringFlag } from './flags.js';

export const cleanupCommand: Command<CleanupConfig> = {
  name: 'cleanup',
  summary:
    'Removes what Baton leaves after an uninstall: its finalizers on Services and Eips, and its Leases (the chart runs it as a post-delete hook).',
  flags: [
    ...COMMON_FLAGS,
    { name: 'namespace', type: 'string', help: 'namespace of Baton’s Leases ($POD_NAMESPACE when set)', default: 'baton-system' },
  ],
  config(v) {
    return { kubeconfig: stringFlag(v, 'kubeconfig'), namespace: namespaceFlag(v, 'baton-system'), logLevel: logLevelFlag(v) };
  },
  async run(config) {
    const { runCleanup } = await import('../cleanup/main.js');
    await runCleanup(config);
  },
};
