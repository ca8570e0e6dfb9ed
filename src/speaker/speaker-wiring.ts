// A speaker's dependencies built from its configuration: the API lanes, the
// informers of the watches expected-load.ts states, the lease stores and the
// event recorder, all over one ApiClient. The process (main.ts) adds the
// machine's parts (packet sockets, interfaces, the heartbeat socket); the
// scale benchmark (e2e/bench/scale-worker.ts) adds virtual ones and so runs
// exactly this wiring for many speakers in one process.
import type { Clock } from '../clock.js';
import { livenessTimings } from '../election/liveness-mode.js';
import type { SpeakerMetrics } from '../election/speaker-metrics.js';
import type { ApiClient } from '../k8s/api-client.js';
import { EventRecorder } from '../k8s/event-recorder.js';
import { Informer } from '../k8s/informer.js';
import { KubeLeaseStore } from '../k8s/lease-store.js';
import type { Eip, EndpointSlice, Lease, Node, Service } from '../k8s/types.js';
import type { Logger } from '../observability/logger.js';
import type { SpeakerConfig } from './config.js';
import { speakerWatches, type Watch } from './expected-load.js';
import { type Cache, Speaker, type SpeakerDeps } from './speaker.js';

// Lease watch retries: 100 ms (a blip) doubling to 2 s, so the watch is back within a renewal or two.
const LEASE_WATCH_BACKOFF = { initialMs: 100, maxMs: 2_000 };

export interface SpeakerWiring {
  config: SpeakerConfig;
  client: ApiClient;
  clock: Clock;
  log: Logger;
  metrics: SpeakerMetrics;
  openLink: SpeakerDeps['openLink'];
  interfaces: SpeakerDeps['interfaces'];
  heartbeats: SpeakerDeps['heartbeats'];
  /** Sees every cache before the speaker does (a benchmark counts events); identity by default. */
  wrapCache?: <T extends { metadata?: { name?: string } }>(name: Watch['name'], cache: Informer<T>) => Cache<T>;
}

export function createSpeaker(w: SpeakerWiring): Speaker {
  const { config, client, clock, log } = w;
  const timings = livenessTimings(config);
  const wrap = w.wrapCache ?? (<T extends { metadata?: { name?: string } }>(_n: Watch['name'], c: Informer<T>): Cache<T> => c);
  // The watches expected-load.ts states (a benchmark compares them with what it measures).
  const watches = new Map(speakerWatches(config).map((x) => [x.name, x]));
  const watch = (name: Watch['name']): Watch => watches.get(name) as Watch;
  const informer = <T extends { metadata?: { name?: string } }>(
    name: Watch['name'],
    extra: Partial<ConstructorParameters<typeof Informer>[0]> = {},
  ): Cache<T> => wrap(name, new Informer<T>({ name, client, path: watch(name).path, clock, log, ...extra }));
  let speaker: Speaker | undefined;
  const leases = informer<Lease>('leases', {
    // Fast: every Baton Lease. Slow: IP Leases, info records and this speaker's own liveness Lease only.
    ...(watch('leases').labelSelector === undefined ? {} : { labelSelector: watch('leases').labelSelector }),
    backoff: LEASE_WATCH_BACKOFF,
    // A lease watch with no event for watchIdleMs is dead: it carries this speaker's own renewals at least. The
    // echo of those (own-lease-echo.ts) notices a stalled watch sooner; the idle timeout ends the request.
    idleTimeoutMs: timings.watchIdleMs,
    // While the lease watch is broken this speaker sees no renewals; it must not conclude that anyone died.
    onBroken: () => speaker?.watchBroken(true),
    onResumed: () => speaker?.watchBroken(false),
  });
  speaker = new Speaker({
    settings: config,
    clock,
    log,
    metrics: w.metrics,
    // Fast: each request's deadline is the renew deadline, so a write that hangs fails in time for the holder to
    // act on it. Slow: 1 s, so a failed renewal is retried several times within its 15 s deadline.
    leases: new KubeLeaseStore(client, config.namespace, timings.requestTimeoutMs, 'leases'),
    livenessLeases: new KubeLeaseStore(client, config.namespace, timings.requestTimeoutMs, 'liveness'),
    events: new EventRecorder(client, 'baton-speaker', config.nodeName, clock, log),
    caches: {
      leases,
      services: informer<Service>('services'),
      eips: informer<Eip>('eips'),
      slices: informer<EndpointSlice>('endpointslices'),
      nodes: informer<Node>('nodes'),
    },
    openLink: w.openLink,
    interfaces: w.interfaces,
    heartbeats: w.heartbeats,
  });
  return speaker;
}
