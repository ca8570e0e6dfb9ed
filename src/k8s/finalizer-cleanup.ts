// What `baton cleanup` undoes after an uninstall: Baton's finalizers on
// Services and Eips (nothing would ever remove them otherwise, and a
// finalizer with no controller blocks deletion forever) and the Leases
// Baton's components left in their namespace. Service status is kept on
// purpose: it is the record a reinstalled controller rebuilds addresses from.
import type { ApiClient } from './api-client.js';
import type { List, ObjectMeta } from './types.js';

export interface CleanupReport {
  finalizersRemoved: number;
  leasesDeleted: number;
}

/** Removes `finalizers` from every object of the collection that has one; retries an object that changed meanwhile. */
export async function removeFinalizers(
  client: ApiClient,
  collectionPath: string,
  itemPath: (meta: ObjectMeta) => string,
  finalizers: readonly string[],
): Promise<number> {
  let removed = 0;
  const list = await client.list<List<{ metadata: ObjectMeta }>>(collectionPath);
  for (const item of list.items) {
    let meta = item.metadata;
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = meta.finalizers ?? [];
      const kept = current.filter((f) => !finalizers.includes(f));
      if (kept.length === current.length) break;
      try {
        await client.patch(itemPath(meta), {
          metadata: { resourceVersion: meta.resourceVersion, finalizers: kept.length === 0 ? null : kept },
        });
        removed++;
        break;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'K8S_NOT_FOUND') break;
        if (code !== 'K8S_CONFLICT') throw err;
        meta = (await client.get<{ metadata: ObjectMeta }>(itemPath(meta))).metadata;
      }
    }
  }
  return removed;
}

/** Deletes the Leases matching labelSelector in a namespace. */
export async function deleteLeases(client: ApiClient, namespace: string, labelSelector: string): Promise<number> {
  const path = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
  const list = await client.list<List<{ metadata: ObjectMeta }>>(path, { labelSelector });
  let deleted = 0;
  for (const lease of list.items) {
    try {
      await client.delete(`${path}/${lease.metadata.name}`);
      deleted++;
    } catch (err) {
      if ((err as { code?: string }).code !== 'K8S_NOT_FOUND') throw err;
    }
  }
  return deleted;
}
