// `baton cleanup`, run by the chart's post-delete hook: wiring only.

import type { LevelWithSilent } from 'pino';
import { hasCode } from '../errors.js';
import { ApiClient } from '../k8s/api-client.js';
import { deleteLeases, removeFinalizers } from '../k8s/finalizer-cleanup.js';
import { loadApiAccess } from '../k8s/kubeconfig.js';
import { LEADER_LEASE_NAME, LEASE_SELECTOR } from '../k8s/lease-names.js';
import { EIPS_PATH, servicePath } from '../k8s/resource-writers.js';
import { createLogger } from '../observability/logger.js';
import { EIP_FINALIZER, SERVICE_FINALIZER } from '../pools/names.js';

export interface CleanupConfig {
  kubeconfig: string | undefined;
  namespace: string;
  logLevel: LevelWithSilent;
}

export async function runCleanup(config: CleanupConfig): Promise<void> {
  const log = createLogger('cleanup', config.logLevel);
  const client = new ApiClient(loadApiAccess(config.kubeconfig));
  try {
    const services = await removeFinalizers(client, '/api/v1/services', (m) => servicePath(m.namespace ?? 'default', m.name), [
      SERVICE_FINALIZER,
    ]);
    let eips = 0;
    try {
      eips = await removeFinalizers(client, EIPS_PATH, (m) => `${EIPS_PATH}/${m.name}`, [EIP_FINALIZER]);
    } catch (err) {
      // No Eip CRD (already removed by hand): nothing of ours can be left on Eips.
      if (!hasCode(err, 'K8S_NOT_FOUND')) throw err;
    }
    const leases = await deleteLeases(client, config.namespace, LEASE_SELECTOR);
    await client.delete(`/apis/coordination.k8s.io/v1/namespaces/${config.namespace}/leases/${LEADER_LEASE_NAME}`).catch((err: unknown) => {
      if (!hasCode(err, 'K8S_NOT_FOUND')) throw err;
    });
    log.info({ servicesFinalizersRemoved: services, eipFinalizersRemoved: eips, leasesDeleted: leases }, 'cleanup done');
  } finally {
    client.close();
  }
}
