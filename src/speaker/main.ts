// The speaker process: wiring only. Informers feed one per-IP work queue;
// the liveness renewer keeps this node's Lease fresh; the announcer decides
// and acts per IP; one ARP responder per interface answers on the wire. On
// SIGTERM the speaker hands its IPs over before it exits.
import { SystemClock } from '../clock.js';
import { type Announcement, announcements } from '../election/announcements.js';
import { IpAnnouncer } from '../election/ip-announcer.js';
import { LivenessRenewer } from '../election/liveness-renewer.js';
import { LivenessTracker } from '../election/liveness-tracker.js';
import { PeerExpiryAlarms } from '../election/peer-expiry-alarms.js';
import { SpeakerMetrics } from '../election/speaker-metrics.js';
import { ApiClient, loadKubeConfig } from '../k8s/api-client.js';
import { EventRecorder } from '../k8s/event-recorder.js';
import { Informer } from '../k8s/informer.js';
import { INTERFACES_ANNOTATION, LEASE_IP_ANNOTATION, LEASE_SELECTOR, POOLS_ANNOTATION } from '../k8s/lease-names.js';
import { KubeLeaseStore, leaseToRecord } from '../k8s/lease-store.js';
import { runReconcileLoop } from '../k8s/reconcile-loop.js';
import { EIPS_PATH } from '../k8s/resource-writers.js';
import type { Eip, EndpointSlice, Lease, Node, Service } from '../k8s/types.js';
import { WorkQueue } from '../k8s/work-queue.js';
import { AfPacketLink } from '../layer2/af-packet-link.js';
import { resolveInterface, systemInterfaces } from '../layer2/interface-resolver.js';
import { ArpResponder } from '../layer2/responder.js';
import { serveObservability } from '../observability/http-server.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { PublishedPools } from '../pools/published-pools.js';
import type { SpeakerConfig } from './config.js';

// How often interfaces are checked for carrier: a pulled cable is noticed within this.
const CARRIER_POLL_MS = 200;
// A lease watch with no event for this long is stalled: every speaker renews twice a second.
const LEASE_WATCH_IDLE_MS = 5_000;

/** What about an announcement matters to the election: its pool, interface, Services and endpoint nodes. */
function announcementKey(a: Announcement | undefined): string {
  if (a === undefined) return '';
  const services = a.services
    .map((s) => `${s.metadata.namespace}/${s.metadata.name}@${s.metadata.resourceVersion}`)
    .sort()
    .join(',');
  const nodes = a.endpointNodes === undefined ? '*' : [...a.endpointNodes].sort().join(',');
  return `${a.pool}|${a.interfaceSpec}|${nodes}|${services}`;
}

export async function runSpeaker(config: SpeakerConfig): Promise<void> {
  const log = createLogger('speaker', config.logLevel, { node: config.nodeName });
  const clock = new SystemClock();
  const metrics = new Metrics();
  const speakerMetrics = new SpeakerMetrics(metrics);
  const client = new ApiClient(loadKubeConfig(config.kubeconfig), { onRequest: metrics.countRequest });
  const leaseStore = new KubeLeaseStore(client, config.namespace, config.renewDeadlineMs);
  const liveness = new LivenessTracker(clock, config.leaseDurationMs);
  const queue = new WorkQueue({ clock, baseDelayMs: 50, maxDelayMs: 5_000 });

  const leases = new Informer<Lease>({
    name: 'leases',
    client,
    path: `/apis/coordination.k8s.io/v1/namespaces/${config.namespace}/leases`,
    labelSelector: LEASE_SELECTOR,
    clock,
    log,
    backoff: { initialMs: 100, maxMs: 2_000 },
    idleTimeoutMs: LEASE_WATCH_IDLE_MS,
    // While the lease watch is broken this speaker sees no renewals; it must not conclude that anyone died.
    onBroken: () => liveness.setBlind(true),
    onResumed: () => {
      liveness.setBlind(false);
      expiryAlarms.resume();
      enqueueAll();
    },
  });
  const services = new Informer<Service>({ name: 'services', client, path: '/api/v1/services', clock, log });
  const eips = new Informer<Eip>({ name: 'eips', client, path: EIPS_PATH, clock, log });
  const slices = new Informer<EndpointSlice>({
    name: 'endpointslices',
    client,
    path: '/apis/discovery.k8s.io/v1/endpointslices',
    clock,
    log,
  });
  const nodes = new Informer<Node>({ name: 'nodes', client, path: '/api/v1/nodes', clock, log });

  // What there is to announce, recomputed only after something it depends on changed.
  let view: Map<string, Announcement> | undefined;
  const currentAnnouncements = (): Map<string, Announcement> => {
    view ??= announcements(services.list(), PublishedPools.fromEips(eips.list()), slices.list(), config.loadBalancerClass);
    return view;
  };

  // Interfaces: one AF_PACKET socket and responder per interface a pool needs, opened on first use.
  const responders = new Map<string, ArpResponder>();
  let announcer: IpAnnouncer | undefined;
  const responderFor = (spec: string): ArpResponder | undefined => {
    const ifname = resolveInterface(spec);
    if (ifname === undefined) return undefined;
    let r = responders.get(ifname);
    if (r === undefined) {
      try {
        r = new ArpResponder({
          link: new AfPacketLink(ifname),
          clock,
          log: log.child({ interface: ifname }),
          metrics: speakerMetrics.forResponder(),
          refreshIntervalMs: config.garpRefreshMs,
          onForeignClaim: (ip, mac) => announcer?.onForeignClaim(ip, mac),
        });
        responders.set(ifname, r);
        log.info({ interface: ifname, mac: r.link.mac }, 'listening for ARP');
      } catch (err) {
        log.error({ err, interface: ifname, code: (err as { code?: unknown }).code }, 'cannot open a packet socket (CAP_NET_RAW?)');
        return undefined;
      }
    }
    return r;
  };

  // Pools this node can serve: those whose interface it has, with carrier.
  let selfPools: Set<string> | undefined;
  const currentSelfPools = (): Set<string> => {
    selfPools ??= new Set(
      eips
        .list()
        .flatMap((e) => (e.spec.interface !== undefined && resolveInterface(e.spec.interface) !== undefined ? [e.metadata.name] : [])),
    );
    return selfPools;
  };

  const renewer = new LivenessRenewer({
    node: config.nodeName,
    store: leaseStore,
    clock,
    log,
    durationMs: config.leaseDurationMs,
    renewIntervalMs: config.renewIntervalMs,
    renewDeadlineMs: config.renewDeadlineMs,
    annotations: () => ({
      [POOLS_ANNOTATION]: [...currentSelfPools()].sort().join(','),
      [INTERFACES_ANNOTATION]: [...responders.values()].map((r) => `${r.link.name}=${r.link.mac}`).join(','),
    }),
    onHealthChange: (healthy) => {
      speakerMetrics.healthy.set(healthy ? 1 : 0);
      enqueueAll();
    },
    onRenewed: (_ms, ok) => speakerMetrics.renewals.inc({ result: ok ? 'ok' : 'failed' }),
  });

  announcer = new IpAnnouncer({
    me: config.nodeName,
    clock,
    log,
    store: leaseStore,
    leases: {
      get: (name) => {
        const l = leases.get(name, config.namespace);
        return l === undefined ? undefined : leaseToRecord(l);
      },
    },
    liveness,
    selfHealthy: () => renewer.healthy(),
    announcements: currentAnnouncements,
    node: (name) => nodes.get(name),
    selfPools: currentSelfPools,
    responderFor,
    responders: () => [...responders.values()],
    events: new EventRecorder(client, 'baton-speaker', config.nodeName, clock, log),
    metrics: speakerMetrics,
    schedule: (ip, ms) => queue.addAfter(ip, ms),
    outageMode: config.outageMode,
    rankDelayMs: config.rankDelayMs,
    handoverTimeoutMs: config.handoverTimeoutMs,
    ipLeaseDurationSeconds: Math.ceil(config.leaseDurationMs / 1000),
  });

  function ipsOfLeases(holder?: string): string[] {
    return leases.list().flatMap((l) => {
      const ip = l.metadata?.annotations?.[LEASE_IP_ANNOTATION];
      return ip !== undefined && (holder === undefined || l.spec?.holderIdentity === holder) ? [ip] : [];
    });
  }
  function enqueueAll(): void {
    for (const ip of currentAnnouncements().keys()) queue.add(ip);
    for (const ip of ipsOfLeases()) queue.add(ip);
  }

  // When a remote speaker expires, look at the IPs it holds again at that very moment.
  const expiryAlarms = new PeerExpiryAlarms(clock, liveness, (node) => {
    const held = ipsOfLeases(node);
    log.debug({ peer: node, ips: held }, 'speaker expired by local observation');
    for (const ip of held) queue.add(ip);
  });
  const onLease = (l: Lease): void => {
    const record = leaseToRecord(l);
    const seen = liveness.observe(record);
    if (seen !== undefined) {
      expiryAlarms.watch(seen.node);
      if (seen.changed) enqueueAll();
      return;
    }
    const ip = record.annotations?.[LEASE_IP_ANNOTATION];
    if (ip !== undefined) queue.add(ip);
  };
  leases.on({
    add: onLease,
    update: onLease,
    delete: (l) => {
      const node = liveness.forget(l.metadata.name);
      if (node !== undefined) {
        expiryAlarms.clear(node);
        enqueueAll();
      } else if (l.metadata.annotations?.[LEASE_IP_ANNOTATION] !== undefined) queue.add(l.metadata.annotations[LEASE_IP_ANNOTATION]);
    },
  });
  // A Service or EndpointSlice change touches few IPs: re-run only those whose announcement changed
  // (with 1,000 IPs, re-running all of them per Service event would be a million reconciles to set up).
  const viewChanged = (): void => {
    const before = view ?? new Map<string, Announcement>();
    view = undefined;
    const after = currentAnnouncements();
    for (const ip of new Set([...before.keys(), ...after.keys()])) {
      if (announcementKey(before.get(ip)) !== announcementKey(after.get(ip))) queue.add(ip);
    }
  };
  for (const inf of [services, slices]) inf.on({ add: viewChanged, update: viewChanged, delete: viewChanged });
  // Node conditions and labels decide eligibility for every IP.
  const nodesChanged = (): void => {
    view = undefined;
    enqueueAll();
  };
  nodes.on({ add: nodesChanged, update: nodesChanged, delete: nodesChanged });
  const poolsChanged = (): void => {
    selfPools = undefined;
    nodesChanged();
  };
  eips.on({ add: poolsChanged, update: poolsChanged, delete: poolsChanged });

  // A pulled cable: stop at once, and confirm before answering again once it is back.
  const carrier = new Map<string, boolean>();
  const carrierTimer = setInterval(() => {
    for (const [ifname, r] of responders) {
      const up = systemInterfaces.hasCarrier(ifname);
      if (carrier.get(ifname) === up) continue;
      carrier.set(ifname, up);
      log.warn({ interface: ifname, carrier: up }, up ? 'link up' : 'link down: withdrawing its IPs');
      if (!up) announcer?.linkDown(r);
      poolsChanged();
    }
  }, CARRIER_POLL_MS);

  let synced = false;
  const server = await serveObservability(
    config.metricsAddress,
    metrics,
    { ready: () => (synced && renewer.healthy() ? undefined : 'not synced or not renewing') },
    log,
  );
  await Promise.all([leases.start(), services.start(), eips.start(), slices.start(), nodes.start()]);
  synced = true;
  await renewer.renewOnce();
  renewer.start();
  log.info({ ips: currentAnnouncements().size }, 'caches synced; speaker running');
  enqueueAll();
  const loop = runReconcileLoop({
    name: 'ips',
    queue,
    workers: 8,
    reconcile: async (ip) => announcer?.reconcile(ip),
    log,
    observer: { onReconciled: metrics.onReconciled },
  });

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'handing over and shutting down');
      void (async () => {
        await renewer.release();
        await announcer?.handOverAll(ipsOfLeases(config.nodeName));
        queue.shutDown();
        await loop;
        clearInterval(carrierTimer);
        expiryAlarms.clearAll();
        for (const r of responders.values()) r.close();
        await Promise.all([leases, services, eips, slices, nodes].map((inf) => inf.stop()));
        server.close();
        client.close();
        resolve();
      })();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
