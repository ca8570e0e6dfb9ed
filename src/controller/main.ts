// The controller process: wiring only. Informers feed two work queues
// (Services, Eips); once this replica leads, it rebuilds the address table
// from the Services' status and starts the reconcilers. Losing leadership
// ends the process: a fresh start is the only state that is surely right.
import { SystemClock } from '../clock.js';
import { BatonError } from '../errors.js';
import { EipReconciler } from '../ipam/eip-reconciler.js';
import { IpamMetrics } from '../ipam/ipam-metrics.js';
import { IpamState } from '../ipam/ipam-state.js';
import { ServiceReconciler } from '../ipam/service-reconciler.js';
import { ApiClient } from '../k8s/api-client.js';
import { EventRecorder } from '../k8s/event-recorder.js';
import { Informer } from '../k8s/informer.js';
import { loadApiAccess } from '../k8s/kubeconfig.js';
import { LeaderElector } from '../k8s/leader-elector.js';
import { LEADER_LEASE_NAME } from '../k8s/lease-names.js';
import { KubeLeaseStore } from '../k8s/lease-store.js';
import { runReconcileLoop } from '../k8s/reconcile-loop.js';
import { EIPS_PATH, EipWriter, ServiceWriter } from '../k8s/resource-writers.js';
import { type Eip, type List, type Namespace, objectKey, type Service } from '../k8s/types.js';
import { WorkQueue } from '../k8s/work-queue.js';
import { serveObservability } from '../observability/http-server.js';
import { createLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import type { ControllerConfig } from './config.js';

// A burst of allocations updates a pool's status once per this interval instead of once per Service;
// short enough that `kubectl get eip` looks current to a person.
const EIP_STATUS_COALESCE_MS = 500;

export async function runController(config: ControllerConfig): Promise<void> {
  const log = createLogger('controller', config.logLevel, { identity: config.identity });
  const clock = new SystemClock();
  const metrics = new Metrics();
  const ipamMetrics = new IpamMetrics(metrics);
  const access = loadApiAccess(config.kubeconfig);
  if (access.kind === 'library')
    log.info({ reason: access.reason }, 'the kubeconfig is read by the Kubernetes client library (more memory)');
  const client = new ApiClient(access, { onRequest: metrics.countRequest });

  const services = new Informer<Service>({ name: 'services', client, path: '/api/v1/services', clock, log });
  const eips = new Informer<Eip>({ name: 'eips', client, path: EIPS_PATH, clock, log });
  const namespaces = new Informer<Namespace>({ name: 'namespaces', client, path: '/api/v1/namespaces', clock, log });
  const serviceQueue = new WorkQueue({ clock });
  const eipQueue = new WorkQueue({ clock });

  const state = new IpamState(
    () => eips.list(),
    {
      services: (keys) => {
        for (const k of keys) serviceQueue.add(k);
      },
      pools: (names) => {
        for (const n of names) eipQueue.add(n);
      },
      poolUsage: (names) => {
        for (const n of names) eipQueue.addAfter(n, EIP_STATUS_COALESCE_MS);
      },
    },
    log,
  );

  let elector: LeaderElector | undefined;
  const fence = (): void => {
    if (elector?.isLeader() !== true) throw new BatonError('NOT_LEADER', 'this replica is not the leader; refusing to write');
  };
  const events = new EventRecorder(client, 'baton-controller', config.identity, clock, log);
  const serviceReconciler = new ServiceReconciler({
    clock,
    services,
    namespaceLabels: (ns) => namespaces.get(ns)?.metadata.labels ?? {},
    state,
    writes: new ServiceWriter(client),
    events,
    fence,
    metrics: ipamMetrics,
    log,
    loadBalancerClass: config.loadBalancerClass,
  });
  const eipReconciler = new EipReconciler({ eips, state, writes: new EipWriter(client), events, fence, metrics: ipamMetrics, clock, log });

  services.on({
    add: (s) => serviceQueue.add(objectKey(s)),
    update: (s) => serviceQueue.add(objectKey(s)),
    delete: (s) => serviceQueue.add(objectKey(s)),
  });
  const poolsChanged = (): void => state.poolsChanged();
  eips.on({ add: poolsChanged, update: poolsChanged, delete: poolsChanged });
  namespaces.on({ update: poolsChanged });

  const server = await serveObservability(
    config.metricsAddress,
    metrics,
    {
      ready: () => ([services, eips, namespaces].every((i) => i.synced) ? undefined : 'caches not synced'),
    },
    log,
  );
  await Promise.all([services.start(), eips.start(), namespaces.start()]);
  log.info({ services: services.list().length, eips: eips.list().length }, 'caches synced');

  let shuttingDown = false;
  let loops: Promise<void> | undefined;
  const startLeading = async (): Promise<void> => {
    metrics.isLeader.set(1);
    // A consistent read straight from the API server, not the cache: the previous leader's last writes must all be seen.
    const fresh = await client.list<List<Service>>('/api/v1/services');
    const rebuilt = state.rebuild(fresh.items, config.loadBalancerClass);
    log.info(rebuilt, 'address table rebuilt from Service status');
    for (const e of eips.list()) eipQueue.add(e.metadata.name);
    for (const s of services.list()) serviceQueue.add(objectKey(s));
    const observer = { onReconciled: metrics.onReconciled };
    loops = Promise.all([
      runReconcileLoop({
        name: 'services',
        queue: serviceQueue,
        workers: config.workers,
        reconcile: serviceReconciler.reconcile,
        log,
        observer,
      }),
      runReconcileLoop({ name: 'eips', queue: eipQueue, workers: 1, reconcile: eipReconciler.reconcile, log, observer }),
    ]).then(() => undefined);
  };

  elector = new LeaderElector({
    identity: config.identity,
    leaseName: LEADER_LEASE_NAME,
    store: new KubeLeaseStore(client, config.namespace),
    clock,
    log,
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
    onStartedLeading: () => {
      startLeading().catch((err: unknown) => {
        log.fatal({ err }, 'could not start leading');
        process.exit(1);
      });
    },
    onStoppedLeading: () => {
      metrics.isLeader.set(0);
      if (shuttingDown) return;
      log.fatal('leadership lost; exiting so that a fresh start rebuilds from the API server');
      process.exit(1);
    },
  });
  elector.start();

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      if (shuttingDown) return;
      shuttingDown = true;
      log.info({ signal }, 'shutting down');
      serviceQueue.shutDown();
      eipQueue.shutDown();
      void (async () => {
        await loops;
        await elector?.stop();
        await Promise.all([services, eips, namespaces].map((i) => i.stop()));
        server.close();
        client.close();
        resolve();
      })();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
