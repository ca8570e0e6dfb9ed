// Nodes, Pods (through the lab's kubelet stand-in, dev/lab/nodes.ts) and
// IP Leases as the speaker tests need them.

import { waitFor } from '../../dev/lab/exec.js';
import * as nodes from '../../dev/lab/nodes.js';
import { ipLeaseName } from '../../src/k8s/lease-names.js';
import type { Lease } from '../../src/k8s/types.js';
import { kube } from './kube.js';

export async function ensureNode(name: string): Promise<void> {
  await nodes.ensureNode(kube().api, name);
}

export async function setNodeReady(name: string, ready: boolean): Promise<void> {
  await nodes.setNodeReady(kube().api, name, ready);
}

export async function setNodeLabel(name: string, key: string, value: string | null): Promise<void> {
  await nodes.setNodeLabel(kube().api, name, key, value);
}

export async function runPod(namespace: string, name: string, node: string, labels: Record<string, string>, podIp: string): Promise<void> {
  await nodes.runPod(kube().api, namespace, name, node, labels, podIp);
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

export async function waitForHolderIn(
  namespace: string,
  ip: string,
  accept: (holder: string) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<string> {
  return waitFor(
    `a holder for ${ip}`,
    async () => {
      const h = await ipLeaseHolderIn(namespace, ip);
      return h !== undefined && accept(h) ? h : undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

export async function ipLeaseHolder(ip: string): Promise<string | undefined> {
  return ipLeaseHolderIn('baton-system', ip);
}

export async function waitForHolder(ip: string, accept: (holder: string) => boolean = () => true, timeoutMs = 20_000): Promise<string> {
  return waitForHolderIn('baton-system', ip, accept, timeoutMs);
}
