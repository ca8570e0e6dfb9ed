// A ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1) that makes
// the API server refuse some writes for a while: the lab's way to make a
// Lease update fail as an admission webhook outage, an APF storm or an
// etcd error would, without touching the client.
import type { ApiClient } from '../../src/k8s/api-client.js';
import { waitFor } from './exec.js';

const POLICIES = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
const BINDINGS = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings';

export interface LeaseUpdateBlock {
  name: string;
  namespace: string;
  namePrefix: string;
}

/**
 * Refuses every UPDATE of a Lease in namespace whose name starts with
 * namePrefix, and resolves once the API server enforces it (policies take
 * effect asynchronously, when its policy informer has them): checked with an
 * update of a Lease of that prefix that nothing else watches.
 */
export async function blockLeaseUpdates(
  api: ApiClient,
  namespace: string,
  namePrefix: string,
  name = 'baton-lab-deny-lease-updates',
): Promise<LeaseUpdateBlock> {
  await api.create(POLICIES, {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [{ apiGroups: ['coordination.k8s.io'], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['leases'] }],
      },
      validations: [
        {
          expression: `!object.metadata.name.startsWith('${namePrefix}')`,
          message: `the lab refuses updates of leases named ${namePrefix}*`,
          reason: 'Forbidden',
        },
      ],
    },
  });
  await api.create(BINDINGS, {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name },
    spec: {
      policyName: name,
      validationActions: ['Deny'],
      matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } },
    },
  });
  const block = { name, namespace, namePrefix };
  await waitFor('the admission policy to refuse lease updates', async () => ((await canUpdateCanary(api, block)) ? undefined : true), {
    timeoutMs: 20_000,
    intervalMs: 100,
  });
  return block;
}

/** Removes the policy and resolves once updates go through again. */
export async function unblockLeaseUpdates(api: ApiClient, block: LeaseUpdateBlock): Promise<void> {
  await api.delete(`${BINDINGS}/${block.name}`).catch(() => undefined);
  await api.delete(`${POLICIES}/${block.name}`).catch(() => undefined);
  await waitFor('lease updates to go through again', async () => ((await canUpdateCanary(api, block)) ? true : undefined), {
    timeoutMs: 20_000,
    intervalMs: 50,
  });
}

/** Updates (creating first) a canary Lease named with the blocked prefix, carrying none of Baton's labels. */
async function canUpdateCanary(api: ApiClient, block: LeaseUpdateBlock): Promise<boolean> {
  const path = `/apis/coordination.k8s.io/v1/namespaces/${block.namespace}/leases`;
  const name = `${block.namePrefix}lab-canary`;
  const current = await api.get<{ metadata: Record<string, unknown>; spec?: Record<string, unknown> }>(`${path}/${name}`).catch(async () =>
    api.create<{ metadata: Record<string, unknown>; spec?: Record<string, unknown> }>(path, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name },
      spec: { holderIdentity: 'lab' },
    }),
  );
  try {
    await api.update(`${path}/${name}`, { ...current, spec: { ...current.spec, holderIdentity: `lab-${Date.now()}` } });
    return true;
  } catch {
    return false;
  }
}
