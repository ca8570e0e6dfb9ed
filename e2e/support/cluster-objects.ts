// Nodes, Pods and IP Leases as the speaker tests need them. There is no
// kubelet: tests create the Node objects of the LAN's node namespaces and
// set their conditions, and play the kubelet for Pods (bind and mark Ready)
// so the real EndpointSlice controller publishes endpoints.
import { ipLeaseName } from '../../src/election/lease-names.js';
import type { Lease } from '../../src/k8s/types.js';
import { waitFor } from '../ground/exec.js';
import { kube } from './kube.js';

export async function ensureNode(name: string): Promise<void> {
  await kube().api.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name } }).catch((err: unknown) => {
    if ((err as { code?: string }).code !== 'K8S_ALREADY_EXISTS') throw err;
  });
  await setNodeReady(name, true);
}

export async function setNodeReady(name: string, ready: boolean): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await kube().api.patch(`/api/v1/nodes/${name}/status`, {
    status: {
      conditions: [
        { type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'KubeletReady' : 'KubeletNotReady', message: 'set by the Baton test ground', lastHeartbeatTime: now, lastTransitionTime: now },
      ],
    },
  }, 'application/strategic-merge-patch+json');
}

export async function setNodeLabel(name: string, key: string, value: string | null): Promise<void> {
  await kube().api.patch(`/api/v1/nodes/${name}`, { metadata: { labels: { [key]: value } } });
}

/** Creates a Pod bound to a node and marks it Running and Ready with the given IP, as a kubelet would. */
export async function runPod(namespace: string, name: string, node: string, labels: Record<string, string>, podIp: string): Promise<void> {
  await waitFor(`the default ServiceAccount in ${namespace}`, async () => ((await kube().api.get(`/api/v1/namespaces/${namespace}/serviceaccounts/default`).catch(() => undefined)) !== undefined ? true : undefined), { timeoutMs: 15_000 });
  await kube().api.create(`/api/v1/namespaces/${namespace}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { nodeName: node, containers: [{ name: 'web', image: 'registry.invalid/never-pulled:1', ports: [{ containerPort: 8080 }] }] },
  });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await kube().api.patch(`/api/v1/namespaces/${namespace}/pods/${name}/status`, {
    status: {
      phase: 'Running',
      podIP: podIp,
      podIPs: [{ ip: podIp }],
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: now },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
      ],
    },
  }, 'application/strategic-merge-patch+json');
}

/** The node an IP's lease names in `namespace` (undefined: none or released; "absent" with reportAbsent: no lease at all). */
export async function ipLeaseHolderIn(namespace: string, ip: string, reportAbsent = false): Promise<string | undefined> {
  try {
    const lease = await kube().api.get<Lease>(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${ipLeaseName(ip)}`);
    const h = lease.spec?.holderIdentity;
    return h === undefined || h === '' ? undefined : h;
  } catch (err) {
    return reportAbsent && (err as { code?: string }).code === 'K8S_NOT_FOUND' ? 'absent' : undefined;
  }
}

export async function waitForHolderIn(namespace: string, ip: string, accept: (holder: string) => boolean = () => true, timeoutMs = 20_000): Promise<string> {
  return waitFor(`a holder for ${ip}`, async () => {
    const h = await ipLeaseHolderIn(namespace, ip);
    return h !== undefined && accept(h) ? h : undefined;
  }, { timeoutMs, intervalMs: 50 });
}

export async function ipLeaseHolder(ip: string): Promise<string | undefined> {
  return ipLeaseHolderIn('baton-system', ip);
}

export async function waitForHolder(ip: string, accept: (holder: string) => boolean = () => true, timeoutMs = 20_000): Promise<string> {
  return waitForHolderIn('baton-system', ip, accept, timeoutMs);
}
