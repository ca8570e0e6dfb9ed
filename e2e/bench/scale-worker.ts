// One process of `make bench-scale`: several speakers, each the product's
// own Speaker (speaker.ts) with its own API connections, informers, lease
// stores and election state, as separate speaker processes would have. Only
// the LAN is reduced to what the election needs: each speaker's link is a
// VirtualLink (the addon's reader rules, no socket) on an interface that
// always has carrier, so hundreds of speakers need no namespaces and put
// nothing on a wire.
//
//   node scale-worker.js <config JSON>
//
// It prints one JSON line per second: per speaker, the API requests it made
// by verb, the watch events its informers delivered by resource, and the
// IPs it answers for.
import { SystemClock } from '../../src/clock.js';
import { SpeakerMetrics } from '../../src/election/speaker-metrics.js';
import { ApiClient } from '../../src/k8s/api-client.js';
import type { Informer } from '../../src/k8s/informer.js';
import { loadApiAccess } from '../../src/k8s/kubeconfig.js';
import type { InterfaceProbe } from '../../src/layer2/interface-resolver.js';
import { VirtualLink } from '../../src/layer2/virtual-link.js';
import { openUdpSocket } from '../../src/net/udp-socket.js';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { SPEAKER_DEFAULTS, type SpeakerConfig } from '../../src/speaker/config.js';
import type { Cache, Speaker } from '../../src/speaker/speaker.js';
import { createSpeaker } from '../../src/speaker/speaker-wiring.js';

export interface WorkerConfig {
  kubeconfig: string;
  namespace: string;
  nodes: string[];
  /** Heartbeats on: each speaker beats on 127.0.0.1, port heartbeatBasePort + its index in `allNodes`. */
  heartbeats: boolean;
  heartbeatKey?: string;
  heartbeatBasePort?: number;
  allNodes: string[];
  /** Extra speaker settings of the mode under test (e.g. a slower liveness Lease). */
  settings?: Partial<SpeakerConfig>;
}

export interface SpeakerSample {
  node: string;
  writes: number;
  reads: number;
  events: Record<string, number>;
  answering: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const clock = new SystemClock();
// Warnings only: 10 speakers' info logs would be the bench's biggest cost.
const log = createLogger('speaker', 'warn', { worker: process.pid });
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete']);

interface Running {
  node: string;
  speaker: Speaker;
  counts: { writes: number; reads: number; events: Record<string, number> };
  clients: ApiClient[];
}

function counted<T extends { metadata?: { name?: string } }>(cache: Informer<T>, name: string, events: Record<string, number>): Cache<T> {
  const bump = (): void => {
    events[name] = (events[name] ?? 0) + 1;
  };
  // The speaker registers its handlers once; every event it is handed is counted on the way.
  return {
    get: (n, ns) => cache.get(n, ns),
    list: () => cache.list(),
    start: () => cache.start(),
    stop: () => cache.stop(),
    on: (h) =>
      cache.on({
        add: (o) => {
          bump();
          h.add?.(o);
        },
        update: (o) => {
          bump();
          h.update?.(o);
        },
        delete: (o) => {
          bump();
          h.delete?.(o);
        },
      }),
  };
}

async function startOne(node: string): Promise<Running> {
  const counts = { writes: 0, reads: 0, events: {} as Record<string, number> };
  const client = new ApiClient(loadApiAccess(config.kubeconfig), {
    onRequest: (o) => {
      if (WRITE_VERBS.has(o.verb)) counts.writes++;
      else if (o.verb !== 'watch') counts.reads++;
    },
  });
  const settings: SpeakerConfig = {
    ...SPEAKER_DEFAULTS,
    ...config.settings,
    nodeName: node,
    namespace: config.namespace,
    kubeconfig: config.kubeconfig,
    metricsAddress: '',
    logLevel: 'warn',
    heartbeats: config.heartbeats,
  } as SpeakerConfig;
  const index = config.allNodes.indexOf(node);
  // A locally administered MAC, unique per speaker (no frame leaves anyway).
  const mac = `02:5c:a1:${((index >> 8) & 0xff).toString(16).padStart(2, '0')}:${(index & 0xff).toString(16).padStart(2, '0')}:01`;
  const interfaces: InterfaceProbe = {
    exists: (n) => n === 'eth0',
    hasCarrier: (n) => n === 'eth0',
    routes: () => [],
    identity: (n) => (n === 'eth0' ? { ifindex: 2, mac } : undefined),
  };
  // The product's own wiring (speaker-wiring.ts, as main.ts uses it); only the link and interfaces are virtual.
  const speaker = createSpeaker({
    config: settings,
    client,
    clock,
    log: log.child({ node }),
    metrics: new SpeakerMetrics(new Metrics({ defaultMetrics: false })),
    openLink: (ifname, events) => new VirtualLink({ name: ifname, mac, ifindex: 2, clock, events, onSend: () => undefined }),
    interfaces,
    heartbeats:
      config.heartbeats && config.heartbeatKey !== undefined && config.heartbeatBasePort !== undefined
        ? {
            key: Buffer.from(config.heartbeatKey, 'utf8'),
            address: { host: '127.0.0.1', port: config.heartbeatBasePort + index },
            open: openUdpSocket,
          }
        : undefined,
    wrapCache: (name, cache) => counted(cache, name, counts.events),
  });
  await speaker.start();
  return { node, speaker, counts, clients: [client] };
}

const running: Running[] = [];
const started = await Promise.all(config.nodes.map((n) => startOne(n)));
running.push(...started);
const report = setInterval(() => {
  const samples: SpeakerSample[] = running.map((r) => ({
    node: r.node,
    writes: r.counts.writes,
    reads: r.counts.reads,
    events: { ...r.counts.events },
    answering: r.speaker.announcer.answeringIps().length,
  }));
  process.stdout.write(`${JSON.stringify({ t: Date.now(), samples })}\n`);
}, 1_000);
let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  clearInterval(report);
  void Promise.all(running.map((r) => r.speaker.stop())).finally(() => {
    for (const r of running) for (const c of r.clients) c.close();
    process.exit(0);
  });
});
