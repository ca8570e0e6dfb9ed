// Baton installed in the local lab, as a user would have it: the chart
// installed with helm into the lab's control plane, two controller replicas
// and a speaker per node run from what the chart deployed (as its
// ServiceAccounts), node data planes serving a page, and a client on the LAN.
// Used by `baton demo`, `baton chaos --lab` and the tests of both.
import { ApiClient, loadKubeConfig } from '../k8s/api-client.js';
import { ChartRelease } from './chart-runner.js';
import { startDataPlane } from './dataplane.js';
import { Ground } from './ground.js';
import type { ManagedProcess } from './managed-process.js';
import { ensureNode } from './nodes.js';

export interface BatonLab {
  ground: Ground;
  api: ApiClient;
  release: ChartRelease;
  /** Each node's page server (the data plane's backend), by node name. */
  servers: Map<string, ManagedProcess>;
  stop(): Promise<void>;
}

/** Installs and runs Baton on a ground that is already up. */
export async function installBaton(ground: Ground, namespace: string, log: (line: string) => void, options: { controllers?: number } = {}): Promise<Omit<BatonLab, 'stop'>> {
  const api = new ApiClient(loadKubeConfig(ground.controlPlane.adminKubeconfig));
  for (const n of ground.lan.nodes) await ensureNode(api, n.name);
  const servers = await startDataPlane(ground.lan, ground.workDir);
  const release = new ChartRelease(ground, api, namespace);
  log(`[lab] helm install baton charts/baton -n ${namespace}`);
  await release.install();
  await release.startControllers(options.controllers ?? 2);
  await release.startSpeakers();
  log(`[lab] Baton running: ${release.controllers.length} controller replicas, speakers on ${ground.lan.nodes.map((n) => n.name).join(', ')}`);
  return { ground, api, release, servers };
}

/** Brings up the lab (building the toolchain the first time) and Baton in it. */
export async function startBatonLab(log: (line: string) => void, namespace = 'baton-system'): Promise<BatonLab> {
  const ground = await Ground.start({ log });
  try {
    const lab = await installBaton(ground, namespace, log);
    return {
      ...lab,
      stop: async () => {
        await lab.release.stopAll();
        lab.api.close();
        await ground.stop();
      },
    };
  } catch (err) {
    await ground.stop();
    throw err;
  }
}
