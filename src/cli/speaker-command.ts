// `baton speaker`. Flag defaults come from SPEAKER_DEFAULTS (the one source
// of truth; a unit test holds the chart's values.yaml to it).
import { MIN_KEY_LENGTH } from '../election/beat-codec.js';
import type { LivenessMode } from '../election/liveness-mode.js';
import { BatonError } from '../errors.js';
import { parseUdpEndpoint } from '../net/udp-socket.js';
import { SPEAKER_DEFAULTS, type SpeakerConfig } from '../speaker/config.js';
import type { Command } from './command.js';
import { booleanFlag, COMMON_FLAGS, durationFlag, formatDuration, logLevelFlag, namespaceFlag, stringFlag } from './flags.js';

const D = SPEAKER_DEFAULTS;

export const speakerCommand: Command<SpeakerConfig> = {
  name: 'speaker',
  summary: 'Runs a speaker (one per node, hostNetwork): elects one node per external IP and answers ARP for it.',
  flags: [
    ...COMMON_FLAGS,
    { name: 'node-name', type: 'string', help: 'this Kubernetes node’s name ($NODE_NAME when set; required)' },
    { name: 'namespace', type: 'string', help: 'namespace of the speaker and IP Leases ($POD_NAMESPACE when set)', default: D.namespace },
    {
      name: 'load-balancer-class',
      type: 'string',
      help: 'spec.loadBalancerClass that marks Services as Baton’s',
      default: D.loadBalancerClass,
    },
    { name: 'metrics-address', type: 'string', help: 'host:port for /metrics, /healthz, /readyz', default: D.metricsAddress },
    {
      name: 'lease-duration',
      type: 'string',
      help: 'a speaker is dead to the others this long after its lease last changed',
      default: formatDuration(D.leaseDurationMs),
    },
    {
      name: 'renew-interval',
      type: 'string',
      help: 'how often this speaker renews its liveness lease',
      default: formatDuration(D.renewIntervalMs),
    },
    {
      name: 'renew-deadline',
      type: 'string',
      help: 'a holder that cannot renew this long stops answering (unless --outage-mode), and stops defending its IPs',
      default: formatDuration(D.renewDeadlineMs),
    },
    {
      name: 'rank-delay',
      type: 'string',
      help: 'extra wait per rank before trying to take a free IP',
      default: formatDuration(D.rankDelayMs),
    },
    {
      name: 'handover-timeout',
      type: 'string',
      help: 'how long a releasing holder waits for its successor to announce',
      default: formatDuration(D.handoverTimeoutMs),
    },
    {
      name: 'outage-mode',
      type: 'string',
      help: 'true: keep answering (undefended) while the API server is unreachable, until another MAC announces the IP',
      default: String(D.outageMode),
    },
    {
      name: 'garp-refresh',
      type: 'string',
      help: 're-announce held IPs this often (0: only the burst after taking one)',
      default: formatDuration(D.garpRefreshMs),
    },
    {
      name: 'rebalance',
      type: 'string',
      help: 'true: hand IPs, with no gap, to better-ranked nodes that settled in (false: sticky)',
      default: String(D.rebalance),
    },
    {
      name: 'rebalance-settle',
      type: 'string',
      help: 'how long a node must be live before IPs are handed to it',
      default: formatDuration(D.rebalanceSettleMs),
    },
    {
      name: 'rebalance-interval',
      type: 'string',
      help: 'at most one rebalancing hand-over per this long, per holder',
      default: formatDuration(D.rebalanceIntervalMs),
    },
    {
      name: 'heartbeats',
      type: 'string',
      help: 'true: LAN heartbeats to the standbys of held IPs, failover in about half a second (key in $BATON_HEARTBEAT_KEY)',
      default: String(D.heartbeats),
    },
    {
      name: 'liveness',
      type: 'string',
      help: 'fast: liveness Lease renewed twice a second, watched by every speaker; slow: renewed every 10 s, watched by nobody else, failover by witnessed heartbeat silence (needs --heartbeats=true; --lease-duration and --renew-* apply to fast only)',
      default: D.liveness,
    },
    {
      name: 'heartbeat-address',
      type: 'string',
      help: 'this node’s host:port (UDP) for heartbeats; the host is required when heartbeats are on',
      default: D.heartbeatAddress,
    },
  ],
  config(v) {
    const nodeName = stringFlag(v, 'node-name') ?? process.env['NODE_NAME'];
    if (nodeName === undefined || nodeName === '') throw new BatonError('CONFIG_INVALID', '--node-name (or $NODE_NAME) is required');
    const outage = booleanFlag(v, 'outage-mode', D.outageMode);
    const rebalance = booleanFlag(v, 'rebalance', D.rebalance);
    const config: SpeakerConfig = {
      kubeconfig: stringFlag(v, 'kubeconfig'),
      nodeName,
      namespace: namespaceFlag(v, D.namespace),
      loadBalancerClass: stringFlag(v, 'load-balancer-class') ?? D.loadBalancerClass,
      metricsAddress: stringFlag(v, 'metrics-address') ?? D.metricsAddress,
      logLevel: logLevelFlag(v),
      leaseDurationMs: durationFlag(v, 'lease-duration', D.leaseDurationMs),
      renewIntervalMs: durationFlag(v, 'renew-interval', D.renewIntervalMs),
      renewDeadlineMs: durationFlag(v, 'renew-deadline', D.renewDeadlineMs),
      rankDelayMs: durationFlag(v, 'rank-delay', D.rankDelayMs),
      handoverTimeoutMs: durationFlag(v, 'handover-timeout', D.handoverTimeoutMs),
      outageMode: outage,
      garpRefreshMs: durationFlag(v, 'garp-refresh', D.garpRefreshMs),
      rebalance,
      rebalanceSettleMs: durationFlag(v, 'rebalance-settle', D.rebalanceSettleMs),
      rebalanceIntervalMs: durationFlag(v, 'rebalance-interval', D.rebalanceIntervalMs),
      heartbeats: booleanFlag(v, 'heartbeats', D.heartbeats),
      liveness: livenessFlag(stringFlag(v, 'liveness') ?? D.liveness),
      heartbeatAddress: stringFlag(v, 'heartbeat-address') ?? D.heartbeatAddress,
      heartbeatKey: undefined,
    };
    if (config.liveness === 'slow' && !config.heartbeats)
      throw new BatonError(
        'CONFIG_INVALID',
        '--liveness=slow (the default) needs --heartbeats=true: without heartbeats a crashed holder would be replaced only when its 20 s Lease expires; with --heartbeats=false, set --liveness=fast',
      );
    if (config.heartbeats) {
      try {
        parseUdpEndpoint(config.heartbeatAddress);
      } catch (err) {
        throw new BatonError(
          'CONFIG_INVALID',
          `--heartbeat-address: ${(err as Error).message} (heartbeats are on by default; the chart passes $(NODE_IP):port)`,
        );
      }
      const key = Buffer.from(process.env['BATON_HEARTBEAT_KEY'] ?? '', 'utf8');
      if (key.length < MIN_KEY_LENGTH)
        throw new BatonError(
          'CONFIG_INVALID',
          `--heartbeats=true needs $BATON_HEARTBEAT_KEY of at least ${MIN_KEY_LENGTH} bytes (the chart's Secret), got ${key.length}`,
        );
      config.heartbeatKey = key;
    }
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

function livenessFlag(text: string): LivenessMode {
  if (text === 'fast' || text === 'slow') return text;
  throw new BatonError('CONFIG_INVALID', `--liveness: fast or slow, got ${JSON.stringify(text)}`);
}
