// The speaker process: wiring only. Flags become a Speaker's dependencies
// (API lanes, informers, packet sockets, the system clock); the Speaker
// (speaker.ts) is everything else. On SIGTERM it hands its IPs over before
// the process exits.
import { SystemClock } from '../clock.js';
import { SpeakerMetrics } from '../election/speaker-metrics.js';
import { errorCode } from '../errors.js';
import { ApiClient } from '../k8s/api-client.js';
import { EventRecorder } from '../k8s/event-recorder.js';
import { Informer } from '../k8s/informer.js';
import { loadApiAccess } from '../k8s/kubeconfig.js';
import { LEASE_SELECTOR } from '../k8s/lease-names.js';
import { KubeLeaseStore } from '../k8s/lease-store.js';
import { EIPS_PATH } from '../k8s/resource-writers.js';
import type { Eip, EndpointSlice, Lease, Node, Service } from '../k8s/types.js';
import { AfPacketLink } from '../layer2/af-packet-link.js';
import { ethernetInterfaces, systemInterfaces } from '../layer2/interface-resolver.js';
import { assertPacketSockets } from '../layer2/packet-permission.js';
import { openUdpSocket, parseUdpEndpoint } from '../net/udp-socket.js';
import { serveObservability } from '../observability/http-server.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import type { SpeakerConfig } from './config.js';
import { Speaker } from './speaker.js';

// A lease watch with no event for this long is dead: every speaker renews twice a second. The echo of
// this speaker's own renewals (own-lease-echo.ts) notices a stalled watch sooner; this ends the request.
const LEASE_WATCH_IDLE_MS = 3_000;
// Lease watch retries: 100 ms (a blip) doubling to 2 s, so the watch is back within a renewal or two.
const LEASE_WATCH_BACKOFF = { initialMs: 100, maxMs: 2_000 };

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
  const informer = <T extends { metadata?: { name?: string } }>(
    name: string,
    path: string,
    extra: Partial<ConstructorParameters<typeof Informer>[0]> = {},
  ) => new Informer<T>({ name, client, path, clock, log, ...extra });
  let speaker: Speaker | undefined;
  const leases = informer<Lease>('leases', `/apis/coordination.k8s.io/v1/namespaces/${config.namespace}/leases`, {
    labelSelector: LEASE_SELECTOR,
    backoff: LEASE_WATCH_BACKOFF,
    idleTimeoutMs: LEASE_WATCH_IDLE_MS,
    // While the lease watch is broken this speaker sees no renewals; it must not conclude that anyone died.
    onBroken: () => speaker?.watchBroken(true),
    onResumed: () => speaker?.watchBroken(false),
  });
  speaker = new Speaker({
    settings: config,
    clock,
    log,
    metrics: new SpeakerMetrics(metrics),
    // Each request's deadline is the renew deadline: a write that hangs must fail in time for the holder to act on it.
    leases: new KubeLeaseStore(client, config.namespace, config.renewDeadlineMs, 'leases'),
    livenessLeases: new KubeLeaseStore(client, config.namespace, config.renewDeadlineMs, 'liveness'),
    events: new EventRecorder(client, 'baton-speaker', config.nodeName, clock, log),
    caches: {
      leases,
      services: informer<Service>('services', '/api/v1/services'),
      eips: informer<Eip>('eips', EIPS_PATH),
      slices: informer<EndpointSlice>('endpointslices', '/apis/discovery.k8s.io/v1/endpointslices'),
      nodes: informer<Node>('nodes', '/api/v1/nodes'),
    },
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
    { ready: () => (speaker?.ready() === true ? undefined : 'not synced or not renewing') },
    log,
  );
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'handing over and shutting down');
      void (async () => {
        await speaker?.stop();
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
