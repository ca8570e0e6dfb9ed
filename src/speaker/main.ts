// The speaker process: wiring only. Flags become a Speaker's dependencies
// (API lanes, informers, packet sockets, the system clock); the Speaker
// (speaker.ts) is everything else. On SIGTERM it hands its IPs over before
// the process exits.
import { SystemClock } from '../clock.js';
import { SpeakerMetrics } from '../election/speaker-metrics.js';
import { errorCode } from '../errors.js';
import { ApiClient } from '../k8s/api-client.js';
import { loadApiAccess } from '../k8s/kubeconfig.js';
import { AfPacketLink } from '../layer2/af-packet-link.js';
import { ethernetInterfaces, systemInterfaces } from '../layer2/interface-resolver.js';
import { assertPacketSockets } from '../layer2/packet-permission.js';
import { openUdpSocket, parseUdpEndpoint } from '../net/udp-socket.js';
import { serveObservability } from '../observability/http-server.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import type { SpeakerConfig } from './config.js';
import { createSpeaker } from './speaker-wiring.js';

export async function runSpeaker(config: SpeakerConfig): Promise<void> {
  const log = createLogger('speaker', config.logLevel, { node: config.nodeName });
  try {
    assertPacketSockets(ethernetInterfaces());
  } catch (err) {
    // Not ready, never: the pod crash-loops with this line, and a DaemonSet rollout stops at its first node.
    log.fatal({ err, code: errorCode(err) }, 'cannot open packet sockets: exiting');
    throw err;
  }
  const clock = new SystemClock();
  const metrics = new Metrics();
  const access = loadApiAccess(config.kubeconfig);
  if (access.kind === 'library')
    log.info({ reason: access.reason }, 'the kubeconfig is read by the Kubernetes client library (more memory)');
  const client = new ApiClient(access, { onRequest: metrics.countRequest });
  const speaker = createSpeaker({
    config,
    client,
    clock,
    log,
    metrics: new SpeakerMetrics(metrics),
    openLink: (ifname, events) => new AfPacketLink(ifname, events),
    interfaces: systemInterfaces,
    heartbeats:
      config.heartbeats && config.heartbeatKey !== undefined
        ? { key: config.heartbeatKey, address: parseUdpEndpoint(config.heartbeatAddress), open: openUdpSocket }
        : undefined,
  });
  const server = await serveObservability(
    config.metricsAddress,
    metrics,
    { ready: () => (speaker.ready() ? undefined : 'not synced or not renewing') },
    log,
  );
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'handing over and shutting down');
      void (async () => {
        await speaker.stop();
        server.close();
        client.close();
        resolve();
      })();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  // A signal may come before the caches ever sync (an API server that is down at start).
  await Promise.race([speaker.start(), stopped]);
  await stopped;
}
