// The speaker process: wiring only. Flags become a Speaker's dependencies
// (API lanes, informers, packet sockets, the system clock); the Speaker
// (speaker.ts) is everything else. On SIGTERM it hands its IPs over before
// the process exits.
import { SystemClock } from '../clock.js';
import { livenessTimings } from '../election/liveness-mode.js';
import { SpeakerMetrics } from '../election/speaker-metrics.js';
import { ApiClient } from '../k8s/api-client.js';
import { EventRecorder } from '../k8s/event-recorder.js';
import { Informer } from '../k8s/informer.js';
import { loadApiAccess } from '../k8s/kubeconfig.js';
import { KubeLeaseStore } from '../k8s/lease-store.js';
import type { Eip, EndpointSlice, Lease, Node, Service } from '../k8s/types.js';
import { AfPacketLink } from '../layer2/af-packet-link.js';
import { systemInterfaces } from '../layer2/interface-resolver.js';
import { openUdpSocket, parseUdpEndpoint } from '../net/udp-socket.js';
import { serveObservability } from '../observability/http-server.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import type { SpeakerConfig } from './config.js';
import { speakerWatches, type Watch } from './expected-load.js';
import { Speaker } from './speaker.js';

// Lease watch retries: 100 ms (a blip) doubling to 2 s, so the watch is back within a renewal or two.
const LEASE_WATCH_BACKOFF = { initialMs: 100, maxMs: 2_000 };

export async function runSpeaker(config: SpeakerConfig): Promise<void> {
  const log = createLogger('speaker', config.logLevel, { node: config.nodeName });
  const clock = new SystemClock();
  const metrics = new Metrics();
  // A lease watch with no event for watchIdleMs is dead: it carries this speaker's own renewals at least. The
  // echo of those (own-lease-echo.ts) notices a stalled watch sooner; the idle timeout ends the request.
  const timings = livenessTimings(config);
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
  // The watches expected-load.ts states (a benchmark compares them with what it measures).
  const watches = new Map(speakerWatches(config).map((w) => [w.name, w]));
  const watch = (name: Watch['name']): Watch => watches.get(name) as Watch;
  const leases = informer<Lease>('leases', watch('leases').path, {
    // Fast: every Baton Lease. Slow: IP Leases, info records and this speaker's own liveness Lease only.
    ...(watch('leases').labelSelector === undefined ? {} : { labelSelector: watch('leases').labelSelector }),
    backoff: LEASE_WATCH_BACKOFF,
    idleTimeoutMs: timings.watchIdleMs,
    // While the lease watch is broken this speaker sees no renewals; it must not conclude that anyone died.
    onBroken: () => speaker?.watchBroken(true),
    onResumed: () => speaker?.watchBroken(false),
  });
  speaker = new Speaker({
    settings: config,
    clock,
    log,
    metrics: new SpeakerMetrics(metrics),
    // Fast: each request's deadline is the renew deadline, so a write that hangs fails in time for the holder to
    // act on it. Slow: 1 s, so a failed renewal is retried several times within its 15 s deadline.
    leases: new KubeLeaseStore(client, config.namespace, timings.requestTimeoutMs, 'leases'),
    livenessLeases: new KubeLeaseStore(client, config.namespace, timings.requestTimeoutMs, 'liveness'),
    events: new EventRecorder(client, 'baton-speaker', config.nodeName, clock, log),
    caches: {
      leases,
      services: informer<Service>('services', watch('services').path),
      eips: informer<Eip>('eips', watch('eips').path),
      slices: informer<EndpointSlice>('endpointslices', watch('endpointslices').path),
      nodes: informer<Node>('nodes', watch('nodes').path),
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
