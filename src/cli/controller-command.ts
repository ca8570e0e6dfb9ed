// `baton controller`.
import { CONTROLLER_DEFAULTS, type ControllerConfig } from '../controller/config.js';
import { BatonError } from '../errors.js';
import type { Command } from './command.js';
import { COMMON_FLAGS, defaultIdentity, durationFlag, formatDuration, intFlag, logLevelFlag, namespaceFlag, stringFlag } from './flags.js';

export const controllerCommand: Command<ControllerConfig> = {
  name: 'controller',
  summary: 'Runs the IPAM controller: gives LoadBalancer Services addresses from Eip pools (leader-elected; run 2 replicas for HA).',
  flags: [
    ...COMMON_FLAGS,
    {
      name: 'namespace',
      type: 'string',
      help: 'namespace of the leader-election Lease ($POD_NAMESPACE when set)',
      default: CONTROLLER_DEFAULTS.namespace,
    },
    {
      name: 'load-balancer-class',
      type: 'string',
      help: 'spec.loadBalancerClass that marks Services as Baton’s',
      default: CONTROLLER_DEFAULTS.loadBalancerClass,
    },
    {
      name: 'metrics-address',
      type: 'string',
      help: 'host:port for /metrics, /healthz, /readyz',
      default: CONTROLLER_DEFAULTS.metricsAddress,
    },
    { name: 'identity', type: 'string', help: 'leader-election identity (default: pod name or host name plus a random suffix)' },
    {
      name: 'lease-duration',
      type: 'string',
      help: 'how long a standby waits after the leader stops renewing',
      default: formatDuration(CONTROLLER_DEFAULTS.leaseDurationMs),
    },
    {
      name: 'renew-deadline',
      type: 'string',
      help: 'how long the leader retries renewing before it steps down; shorter than lease-duration',
      default: formatDuration(CONTROLLER_DEFAULTS.renewDeadlineMs),
    },
    {
      name: 'retry-period',
      type: 'string',
      help: 'pause between election attempts',
      default: formatDuration(CONTROLLER_DEFAULTS.retryPeriodMs),
    },
    { name: 'workers', type: 'string', help: 'Services reconciled in parallel', default: String(CONTROLLER_DEFAULTS.workers) },
  ],
  config(v) {
    const config: ControllerConfig = {
      kubeconfig: stringFlag(v, 'kubeconfig'),
      namespace: namespaceFlag(v, CONTROLLER_DEFAULTS.namespace),
      identity: stringFlag(v, 'identity') ?? defaultIdentity(),
      loadBalancerClass: stringFlag(v, 'load-balancer-class') as string,
      metricsAddress: stringFlag(v, 'metrics-address') as string,
      logLevel: logLevelFlag(v),
      leaseDurationMs: durationFlag(v, 'lease-duration', CONTROLLER_DEFAULTS.leaseDurationMs),
      renewDeadlineMs: durationFlag(v, 'renew-deadline', CONTROLLER_DEFAULTS.renewDeadlineMs),
      retryPeriodMs: durationFlag(v, 'retry-period', CONTROLLER_DEFAULTS.retryPeriodMs),
      workers: intFlag(v, 'workers', CONTROLLER_DEFAULTS.workers, 1, 64),
    };
    if (config.renewDeadlineMs >= config.leaseDurationMs) {
      throw new BatonError(
        'CONFIG_INVALID',
        '--renew-deadline must be shorter than --lease-duration (the leader must stop before anyone may take over)',
      );
    }
    if (config.retryPeriodMs >= config.renewDeadlineMs) {
      throw new BatonError(
        'CONFIG_INVALID',
        '--retry-period must be shorter than --renew-deadline (the leader needs more than one try to renew)',
      );
    }
    return config;
  },
  async run(config) {
    const { runController } = await import('../controller/main.js');
    await runController(config);
  },
};
