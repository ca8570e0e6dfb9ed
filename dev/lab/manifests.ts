// YAML manifests (the seed's eip.yaml and service.yaml) read and created
// exactly as written, for the lab's demo and chaos runs.
import { readFile } from 'node:fs/promises';
import { loadAllYaml } from '@kubernetes/client-node';
import type { ApiClient } from '../../src/k8s/api-client.js';
import { EIPS_PATH } from '../../src/k8s/resource-writers.js';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

export async function readManifests(path: string): Promise<Manifest[]> {
  // The library builds typed classes; a JSON round trip leaves plain wire objects.
  return JSON.parse(JSON.stringify(loadAllYaml(await readFile(path, 'utf8')).filter((d) => d !== null && d !== undefined))) as Manifest[];
}

const COLLECTIONS: Record<string, (ns: string) => string> = {
  Eip: () => EIPS_PATH,
  Namespace: () => '/api/v1/namespaces',
  Service: (ns) => `/api/v1/namespaces/${ns}/services`,
  ConfigMap: (ns) => `/api/v1/namespaces/${ns}/configmaps`,
};

/** Creates a manifest; namespaced kinds go into `namespace` when the manifest names none. */
export async function createManifest(api: ApiClient, m: Manifest, namespace = 'default'): Promise<void> {
  const collection = COLLECTIONS[m.kind];
  if (collection === undefined) throw new Error(`creating a ${m.kind} from a manifest is not supported here`);
  await api.create(collection(m.metadata.namespace ?? namespace), m);
}
