// Cluster access for scenarios: the admin's typed client-node APIs, Baton's
// own ApiClient, applying YAML files as they are (the seed manifests), and
// waiting for what users would look at (a Service's address, an Eip's
// condition, the Events on an object).
import { readFile } from 'node:fs/promises';
import { CoreV1Api, KubeConfig, type KubernetesObject, KubernetesObjectApi, loadAllYaml } from '@kubernetes/client-node';
import { lab } from '../../dev/lab/current.js';
import { waitFor } from '../../dev/lab/exec.js';
import { ApiClient } from '../../src/k8s/api-client.js';
import { loadApiAccess } from '../../src/k8s/kubeconfig.js';
import type { Eip, Service } from '../../src/k8s/types.js';

export interface Kube {
  kc: KubeConfig;
  core: CoreV1Api;
  objects: KubernetesObjectApi;
  api: ApiClient;
}

let admin: Kube | undefined;

export function kube(): Kube {
  if (admin === undefined) {
    const path = lab().controlPlane.adminKubeconfig;
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    admin = {
      kc,
      core: kc.makeApiClient(CoreV1Api),
      objects: KubernetesObjectApi.makeApiClient(kc),
      api: new ApiClient(loadApiAccess(path)),
    };
  }
  return admin;
}

/** Creates every object of a YAML file exactly as written (namespaced ones in `namespace` when they name none). */
export async function applyFile(path: string, namespace?: string): Promise<KubernetesObject[]> {
  const docs = loadAllYaml(await readFile(path, 'utf8')) as KubernetesObject[];
  const created: KubernetesObject[] = [];
  for (const doc of docs) {
    if (doc === null || doc === undefined) continue;
    const body = { ...doc, metadata: { ...doc.metadata } };
    if (
      namespace !== undefined &&
      body.kind !== 'Eip' &&
      body.kind !== 'CustomResourceDefinition' &&
      body.metadata.namespace === undefined
    ) {
      body.metadata.namespace = namespace;
    }
    created.push(await kube().objects.create(body));
  }
  return created;
}

export async function createNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  await kube().api.create('/api/v1/namespaces', { metadata: { name, labels } });
}

/** Deletes a namespace and waits until it is gone (its Services' finalizers handled). */
export async function deleteNamespace(name: string, timeoutMs = 60_000): Promise<void> {
  await kube()
    .api.delete(`/api/v1/namespaces/${name}`)
    .catch(() => undefined);
  let why = 'not yet asked';
  try {
    await waitFor(
      `namespace ${name} to be deleted`,
      async () => {
        try {
          const ns = await kube().api.get<{ status?: { conditions?: Array<{ type: string; status: string; message?: string }> } }>(
            `/api/v1/namespaces/${name}`,
          );
          why =
            (ns.status?.conditions ?? [])
              .filter((c) => c.status === 'True')
              .map((c) => `${c.type}: ${c.message ?? ''}`)
              .join('; ') || 'no condition yet (the namespace controller has not acted)';
          return undefined;
        } catch (err) {
          return (err as { code?: string }).code === 'K8S_NOT_FOUND' ? true : undefined;
        }
      },
      { timeoutMs, intervalMs: 250 },
    );
  } catch (err) {
    // Say what holds it: the namespace's own conditions, and which Services still carry finalizers.
    const held = await kube()
      .api.list<{ items: Array<{ metadata: { name: string; finalizers?: string[] } }> }>(`/api/v1/namespaces/${name}/services`)
      .then((l) =>
        l.items
          .filter((s) => (s.metadata.finalizers ?? []).length > 0)
          .map((s) => `${s.metadata.name} [${(s.metadata.finalizers ?? []).join(',')}]`)
          .join(', '),
      )
      .catch((e: unknown) => `services unreadable: ${String(e)}`);
    throw new Error(`${(err as Error).message}; namespace says: ${why}; Services with finalizers: ${held || 'none'}`, { cause: err });
  }
}

export const EIPS = '/apis/network.kubesphere.io/v1alpha2/eips';

export async function createEip(name: string, spec: Record<string, unknown>, annotations: Record<string, string> = {}): Promise<Eip> {
  return kube().api.create<Eip>(EIPS, { apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'Eip', metadata: { name, annotations }, spec });
}

export async function getEip(name: string): Promise<Eip | undefined> {
  try {
    return await kube().api.get<Eip>(`${EIPS}/${name}`);
  } catch (err) {
    if ((err as { code?: string }).code === 'K8S_NOT_FOUND') return undefined;
    throw err;
  }
}

/** Deletes an Eip and waits until it is gone (its finalizer waits for its users). */
export async function deleteEip(name: string, timeoutMs = 60_000): Promise<void> {
  await kube()
    .api.delete(`${EIPS}/${name}`)
    .catch(() => undefined);
  await waitFor(`Eip ${name} to be deleted`, async () => ((await getEip(name)) === undefined ? true : undefined), {
    timeoutMs,
    intervalMs: 250,
  });
}

export async function waitForEipCondition(name: string, type: string, status: string, reason?: string, timeoutMs = 20_000): Promise<Eip> {
  return waitFor(
    `Eip ${name} condition ${type}=${status}${reason !== undefined ? ` (${reason})` : ''}`,
    async () => {
      const eip = await getEip(name);
      const c = eip?.status?.conditions?.find((x) => x.type === type);
      return c !== undefined && c.status === status && (reason === undefined || c.reason === reason) ? eip : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

export interface ServiceOptions {
  annotations?: Record<string, string>;
  loadBalancerClass?: string;
  loadBalancerIP?: string;
  ports?: Array<{ port: number; protocol?: 'TCP' | 'UDP' }>;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  selector?: Record<string, string>;
  ipFamilies?: Array<'IPv4' | 'IPv6'>;
  ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  openelb?: boolean;
}

export function serviceBody(name: string, o: ServiceOptions = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, annotations: { ...(o.openelb !== false ? { 'lb.kubesphere.io/v1alpha1': 'openelb' } : {}), ...o.annotations } },
    spec: {
      type: 'LoadBalancer',
      selector: o.selector ?? { app: name },
      ports: (o.ports ?? [{ port: 80 }]).map((p, i) => ({ name: `p${i}`, port: p.port, protocol: p.protocol ?? 'TCP', targetPort: 8080 })),
      externalTrafficPolicy: o.externalTrafficPolicy ?? 'Cluster',
      ...(o.loadBalancerClass !== undefined ? { loadBalancerClass: o.loadBalancerClass } : {}),
      ...(o.loadBalancerIP !== undefined ? { loadBalancerIP: o.loadBalancerIP } : {}),
      ...(o.ipFamilies !== undefined ? { ipFamilies: o.ipFamilies } : {}),
      ...(o.ipFamilyPolicy !== undefined ? { ipFamilyPolicy: o.ipFamilyPolicy } : {}),
    },
  };
}

export async function createService(namespace: string, name: string, o: ServiceOptions = {}): Promise<Service> {
  return kube().api.create<Service>(`/api/v1/namespaces/${namespace}/services`, serviceBody(name, o));
}

export async function getService(namespace: string, name: string): Promise<Service> {
  return kube().api.get<Service>(`/api/v1/namespaces/${namespace}/services/${name}`);
}

export function ingressOf(svc: Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip !== undefined ? [i.ip] : []));
}

/** Waits until the Service has exactly `count` external addresses and returns them. */
export async function waitForIngress(namespace: string, name: string, count = 1, timeoutMs = 20_000): Promise<string[]> {
  return waitFor(
    `${namespace}/${name} to get ${count} address(es)`,
    async () => {
      const ips = ingressOf(await getService(namespace, name));
      return ips.length === count ? ips : undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

export interface EventView {
  type: string;
  reason: string;
  message: string;
}

export async function eventsFor(namespace: string, name: string, kind: string): Promise<EventView[]> {
  const res = await kube().api.list<{ items: Array<{ type: string; reason: string; message: string; involvedObject: { kind: string } }> }>(
    `/api/v1/namespaces/${namespace}/events`,
    { fieldSelector: `involvedObject.name=${name}` },
  );
  return res.items.filter((e) => e.involvedObject.kind === kind).map((e) => ({ type: e.type, reason: e.reason, message: e.message }));
}

export async function waitForEvent(namespace: string, name: string, kind: string, reason: string, timeoutMs = 20_000): Promise<EventView> {
  return waitFor(
    `a ${reason} Event on ${kind} ${name}`,
    async () => (await eventsFor(namespace, name, kind)).find((e) => e.reason === reason),
    {
      timeoutMs,
      intervalMs: 200,
    },
  );
}

/** Asserts that something stays true for a while (used sparingly: "the controller leaves this alone"). */
export async function holdsFor(ms: number, check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!(await check())) throw new Error(`expected to hold for ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let batonBasicsReady = false;

/** The Eip CRD from the chart and the baton-system namespace, created once per run (idempotent). */
export async function ensureBatonBasics(): Promise<void> {
  if (batonBasicsReady) return;
  const crdPath = new URL('../../../charts/baton/crds/eips.network.kubesphere.io.yaml', import.meta.url).pathname;
  try {
    await applyFile(crdPath);
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
  await waitFor(
    'the Eip CRD to be served',
    async () =>
      (await kube()
        .api.list(EIPS)
        .catch(() => undefined)) !== undefined
        ? true
        : undefined,
    {
      timeoutMs: 30_000,
    },
  );
  await createNamespace('baton-system').catch((err: unknown) => {
    if ((err as { code?: string }).code !== 'K8S_ALREADY_EXISTS') throw err;
  });
  batonBasicsReady = true;
}
