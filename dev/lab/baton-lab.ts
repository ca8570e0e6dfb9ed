// Baton installed in the local lab, as a user would have it: a real
// cluster (kubelets, containerd and kube-proxy on every node), the chart
// installed with `helm install` from the image built from the Dockerfile,
// the controller and speakers started, probed and restarted by the
// kubelets, and a client on the LAN. Used by `baton demo`, `baton chaos
// --lab` and the tests of both.

import { ApiClient } from '../../src/k8s/api-client.js';
import { loadApiAccess } from '../../src/k8s/kubeconfig.js';
import { SPEAKER_DEFAULTS } from '../../src/speaker/config.js';
import { imageArchivePath } from '../image/build-image.js';
import { ChartRelease } from './chart-runner.js';
import { routeExternalRanges } from './dataplane.js';
import { LabError } from './errors.js';
import { Lab } from './lab.js';

/** How the speakers prove they are alive (charts/baton values speaker.heartbeats and speaker.liveness). */
export type ChartLiveness = 'fast' | 'heartbeats' | 'slow';

/** The design speakers run with no liveness flags or values (SPEAKER_DEFAULTS, the same as the chart's). */
export const SHIPPED_LIVENESS: ChartLiveness = !SPEAKER_DEFAULTS.heartbeats
  ? 'fast'
  : SPEAKER_DEFAULTS.liveness === 'slow'
    ? 'slow'
    : 'heartbeats';

/** The chart values of a liveness design; the chart makes the heartbeat Secret itself. */
export function livenessValues(liveness: ChartLiveness): string[] {
  if (liveness === 'fast') return ['--set=speaker.heartbeats=false', '--set=speaker.liveness=fast'];
  return ['--set=speaker.heartbeats=true', `--set=speaker.liveness=${liveness === 'slow' ? 'slow' : 'fast'}`];
}

/**
 * BATON_E2E_LIVENESS (fast, heartbeats or slow), checked; undefined when unset: the chart's defaults. The
 * process suite's speakers read the same variable (e2e/support/baton-process.ts).
 */
export function chartLivenessFromEnv(): ChartLiveness | undefined {
  const v = process.env['BATON_E2E_LIVENESS'];
  if (v === undefined || v === '') return undefined;
  if (v !== 'fast' && v !== 'heartbeats' && v !== 'slow')
    throw new LabError('LAB_BAD_SETTING', `BATON_E2E_LIVENESS: fast, heartbeats or slow, got ${v}`);
  return v;
}

export interface BatonLab {
  lab: Lab;
  api: ApiClient;
  release: ChartRelease;
  stop(): Promise<void>;
}

/**
 * Installs Baton on a lab with real nodes that is already up and waits until
 * its pods are ready. Call `release.uninstall()` when done: two releases on
 * one LAN would both answer.
 */
export async function installBaton(
  lab: Lab,
  namespace: string,
  log: (line: string) => void,
  options: { controllers?: number; liveness?: ChartLiveness } = {},
): Promise<Omit<BatonLab, 'stop'>> {
  if (lab.realNodes === undefined) throw new LabError('LAB_NOT_STARTED', 'Baton is installed on real nodes: start the lab with realNodes');
  const api = new ApiClient(loadApiAccess(lab.controlPlane.adminKubeconfig));
  await routeExternalRanges(lab.lan);
  const release = new ChartRelease(lab, api, namespace);
  const started = Date.now();
  const liveness = options.liveness === undefined ? [] : livenessValues(options.liveness);
  log(`[lab] helm install baton charts/baton -n ${namespace} ${liveness.join(' ')}`);
  await release.install([`--set=controller.replicas=${options.controllers ?? 2}`, ...liveness]);
  await release.waitRolledOut();
  log(
    `[lab] Baton running in ${((Date.now() - started) / 1000).toFixed(1)} s: ${options.controllers ?? 2} controller replicas and speakers on ${lab.lan.nodes.map((n) => n.name).join(', ')}, all pods ready`,
  );
  return { lab, api, release };
}

/** The real-node lab with Baton's image on every node (built by `make image`). */
export function startRealLab(log: (line: string) => void, users?: readonly string[]): Promise<Lab> {
  return Lab.start({ log, users, realNodes: { images: [imageArchivePath()] } });
}

/** Brings up the lab (building the toolchain the first time) and Baton in it. */
export async function startBatonLab(log: (line: string) => void, namespace = 'baton-system'): Promise<BatonLab> {
  const lab = await startRealLab(log);
  try {
    const baton = await installBaton(lab, namespace, log);
    return {
      ...baton,
      stop: async () => {
        baton.api.close();
        await lab.stop();
      },
    };
  } catch (err) {
    await lab.stop();
    throw err;
  }
}
