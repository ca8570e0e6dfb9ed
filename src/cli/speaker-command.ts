// `baton speaker`.

import { BatonError } from '../errors.js';
import { SPEAKER_DEFAULTS, type SpeakerConfig } from '../speaker/config.js';
import type { Command } from './command.js';
import { COMMON_FLAGS, durationFlag, logLevelFlag, namespaceFlag, stringFlag } from './flags.js';

export const speakerCommand: Command<SpeakerConfig> = {
  name: 'speaker',
  summary: 'Runs a speaker (one per node, hostNetwork): elects one node per external IP and answers ARP for it.',
  flags: [
    ...COMMON_FLAGS,
    { name: 'node-name', type: 'string', help: 'this Kubernetes node’s name ($NODE_NAME when set; required)' },
    {
      name: 'namespace',
      type: 'string',
      help: 'namespace of the speaker and IP Leases ($POD_NAMESPACE when set)',
      default: SPEAKER_DEFAULTS.namespace,
    },
    {
      name: 'load-balancer-class',
      type: 'string',
      help: 'spec.loadBalancerClass that marks Services as Baton’s',
      default: SPEAKER_DEFAULTS.loadBalancerClass,
    },
    {
      name: 'metrics-address',
      type: 'string',
      help: 'host:port for /metrics, /healthz, /readyz',
      default: SPEAKER_DEFAULTS.metricsAddress,
    },
    {
      name: 'lease-duration',
      type: 'string',
      help: 'a speaker is dead to the others this long after its lease last changed',
      default: '1500ms',
    },
    { name: 'renew-interval', type: 'string', help: 'how often this speaker renews its liveness lease', default: '500ms' },
    {
      name: 'renew-deadline',
      type: 'string',
      help: 'a holder that cannot renew this long stops answering (unless --outage-mode)',
      default: '1s',
    },
    { name: 'rank-delay', type: 'string', help: 'extra wait per rank before trying to take a free IP', default: '200ms' },
    { name: 'handover-timeout', type: 'string', help: 'how long a releasing holder waits for its successor to announce', default: '3s' },
    {
      name: 'outage-mode',
      type: 'string',
      help: 'true: keep answering while the API server is unreachable, until another MAC announces the IP',
      default: 'true',
    },
    { name: 'garp-refresh', type: 'string', help: 're-announce held IPs this often (0: only the burst after taking one)', default: '0' },
  ],
  config(v) {
    const nodeName = stringFlag(v, 'node-name') ?? process.env['NODE_NAME'];
    if (nodeName === undefined || nodeName === '') throw new BatonError('CONFIG_INVALID', '--node-name (or $NODE_NAME) is required');
    const outage = stringFlag(v, 'outage-mode') ?? 'true';
    if (outage !== 'true' && outage !== 'false') throw new BatonError('CONFIG_INVALID', `--outage-mode: "${outage}" is not true or false`);
    const config: SpeakerConfig = {
      kubeconfig: stringFlag(v, 'kubeconfig'),
      nodeName,
      namespace: namespaceFlag(v, SPEAKER_DEFAULTS.namespace),
      loadBalancerClass: stringFlag(v, 'load-balancer-class') as string,
      metricsAddress: stringFlag(v, 'metrics-address') as string,
      logLevel: logLevelFlag(v),
      leaseDurationMs: durationFlag(v, 'lease-duration', SPEAKER_DEFAULTS.leaseDurationMs),
      renewIntervalMs: durationFlag(v, 'renew-interval', SPEAKER_DEFAULTS.renewIntervalMs),
      renewDeadlineMs: durationFlag(v, 'renew-deadline', SPEAKER_DEFAULTS.renewDeadlineMs),
      rankDelayMs: durationFlag(v, 'rank-delay', SPEAKER_DEFAULTS.rankDelayMs),
      handoverTimeoutMs: durationFlag(v, 'handover-timeout', SPEAKER_DEFAULTS.handoverTimeoutMs),
      outageMode: outage === 'true',
      garpRefreshMs: durationFlag(v, 'garp-refresh', SPEAKER_DEFAULTS.garpRefreshMs),
    };
    if (!(config.renewIntervalMs < config.renewDeadlineMs && config.renewDeadlineMs < config.leaseDurationMs)) {
      throw new BatonError(
        'CONFIG_INVALID',
        'need renew-interval < renew-deadline < lease-duration (a holder must stop before others may start)',
      );
    }
    return config;
  },
  async run(config) {
    const { runSpeaker } = await import('../speaker/main.js');
    await runSpeaker(config);
  },
};
