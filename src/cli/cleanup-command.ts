// `baton cleanup`: flags -> CleanupConfig -> runCleanup.
import type { CleanupConfig } from '../cleanup/main.js';
import { COMMON_FLAGS, logLevelFlag, parseFlags, stringFlag, usage, type FlagSpec } from './flags.js';

const FLAGS: FlagSpec[] = [
  ...COMMON_FLAGS,
  { name: 'namespace', type: 'string', help: 'namespace of Baton’s Leases ($POD_NAMESPACE when set)', default: 'baton-system' },
];

export const CLEANUP_SUMMARY = 'Removes what Baton leaves after an uninstall: its finalizers on Services and Eips, and its Leases (the chart runs it as a post-delete hook).';

export function cleanupHelp(): string {
  return usage('cleanup', CLEANUP_SUMMARY, FLAGS);
}

export function cleanupConfig(argv: string[]): CleanupConfig | 'help' {
  const v = parseFlags(argv, FLAGS);
  if (v['help'] === true) return 'help';
  const ns = stringFlag(v, 'namespace') as string;
  return {
    kubeconfig: stringFlag(v, 'kubeconfig'),
    namespace: ns === 'baton-system' ? (process.env['POD_NAMESPACE'] ?? ns) : ns,
    logLevel: logLevelFlag(v),
  };
}
