// Baton installed in the local lab, as a user would have it: the chart
// installed with helm into the lab's control plane, two controller replicas
// and a speaker per node run from what the chart deployed (as its
// ServiceAccounts), node data planes serving a page, and a client on the LAN.
// Used by `baton demo`, `baton chaos --lab` and the tests of both.
import { ApiClient } from '../../src/k8s/api-client.js';
import { loadApiAccess } from '../../src/k8s/kubeconfig.js';
import { ChartRelease } from './chart-runner.js';
import { startDataPlane } from './dataplane.js';
import { Lab } from './lab.js';
import type { ManagedProcess } from './managed-process.js';
import { ensureNode } from './nodes.js';

export interface BatonLab {
  lab: Lab;
  api: ApiClient;
  release: ChartRelease;
  /** Each node's page server (the data plane's backend), by node name. */
  servers: Map<string, ManagedProcess>;
  stop(): Promise<void>;
}

/** Installs and runs Baton on a lab that is already up. */
export async function installBaton(
  lab: Lab,
  namespace: string,
  log: (line: string) => void,
  options: { controllers?: number } = {},
): Promise<Omit<BatonLab, 'stop'>> {
  const api = new ApiClient(loadApiAccess(lab.controlPlane.adminKubeconfig));
  for (const n of lab.lan.nodes) await ensureNode(api, n.name);
  const servers = await startDataPlane(lab.lan, lab.workDir);
  const release = new ChartRelease(lab, api, namespace);
  log(`[lab] helm install baton charts/baton -n ${namespace}`);
  try {
    await release.install();
    await release.startControllers(options.controllers ?? 2);
    await release.startSpeakers();
  } catch (err) {
    // The caller gets no release to stop: stop what was started here.
    await release.stopAll();
    throw err;
  }
  log(`[lab] Baton running: ${release.controllers.length} controller replicas, speakers on ${lab.lan.nodes.map((n) => n.name).join(', ')}`);
  return { lab, api, release, servers };
}

/** Brings up the lab (building the toolchain the first time) and Baton in it. */
export async function startBatonLab(log: (line: string) => void, namespace = 'baton-system'): Promise<BatonLab> {
  const lab = await Lab.start({ log });
  try {
    const baton = await installBaton(lab, namespace, log);
    return {
      ...baton,
      stop: async () => {
        await baton.release.stopAll();
        baton.api.close();
        await lab.stop();
      },
    };
  } catch (err) {
    await lab.stop();
    throw err;
  }
}
