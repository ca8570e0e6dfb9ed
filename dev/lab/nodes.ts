// Node and Pod objects for a cluster with no kubelet: the lab creates the
// Node objects of its node namespaces, sets their conditions, and plays the
// kubelet for Pods (bound and marked Ready) so the real EndpointSlice
// controller publishes their endpoints.
import { hasCode } from '../../src/errors.js';
import type { ApiClient } from '../../src/k8s/api-client.js';
import { waitFor } from './exec.js';

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

export async function ensureNode(api: ApiClient, name: string): Promise<void> {
  await api.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name } }).catch((err: unknown) => {
    if (!hasCode(err, 'K8S_ALREADY_EXISTS')) throw err;
  });
  await setNodeReady(api, name, true);
}

export async function setNodeReady(api: ApiClient, name: string, ready: boolean): Promise<void> {
  const t = now();
  await api.patch(
    `/api/v1/nodes/${name}/status`,
    {
      status: {
        conditions: [
          {
            type: 'Ready',
            status: ready ? 'True' : 'False',
            reason: ready ? 'KubeletReady' : 'KubeletNotReady',
            message: 'set by the Baton lab',
            lastHeartbeatTime: t,
            lastTransitionTime: t,
          },
        ],
      },
    },
    'application/strategic-merge-patch+json',
  );
}

export async function setNodeLabel(api: ApiClient, name: string, key: string, value: string | null): Promise<void> {
  await api.patch(`/api/v1/nodes/${name}`, { metadata: { labels: { [key]: value } } });
}

export async function setNodeUnschedulable(api: ApiClient, name: string, unschedulable: boolean): Promise<void> {
  await api.patch(`/api/v1/nodes/${name}`, { spec: { unschedulable: unschedulable ? true : null } });
}

/** Creates a Pod bound to a node and marks it Running and Ready with the given IP, as a kubelet would. */
export async function runPod(
  api: ApiClient,
  namespace: string,
  name: string,
  node: string,
  labels: Record<string, string>,
  podIp: string,
): Promise<void> {
  await waitFor(
    `the default ServiceAccount in ${namespace}`,
    async () =>
      (await api.get(`/api/v1/namespaces/${namespace}/serviceaccounts/default`).catch(() => undefined)) !== undefined ? true : undefined,
    { timeoutMs: 15_000 },
  );
  await api.create(`/api/v1/namespaces/${namespace}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { nodeName: node, containers: [{ name: 'web', image: 'registry.invalid/never-pulled:1', ports: [{ containerPort: 8080 }] }] },
  });
  const t = now();
  await api.patch(
    `/api/v1/namespaces/${namespace}/pods/${name}/status`,
    {
      status: {
        phase: 'Running',
        podIP: podIp,
        podIPs: [{ ip: podIp }],
        conditions: [
          { type: 'Ready', status: 'True', lastTransitionTime: t },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: t },
        ],
      },
    },
    'application/strategic-merge-patch+json',
  );
}

/** Deletes a Pod at once: no kubelet will ever confirm a graceful end. */
export async function deletePodNow(api: ApiClient, namespace: string, name: string): Promise<void> {
  await api.delete(`/api/v1/namespaces/${namespace}/pods/${name}`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 });
}
