// What `baton cleanup` undoes after an uninstall: Baton's finalizers on
// Services and Eips (nothing would ever remove them otherwise, and a
// finalizer with no controller blocks deletion forever) and the Leases
// Baton's components left in their namespace. Service status is kept on
// purpose: it is the record a reinstalled controller rebuilds addresses from.
import { errorCode, hasCode } from '../errors.js';
import type { ApiClient } from './api-client.js';
import { leasePath, leasesPath } from './lease-store.js';
import type { List, ObjectMeta } from './types.js';

// Attempts per object when its finalizer patch meets 409 (the object changed under us). One conflict is a
// controller's last status write racing the uninstall; five in a row means something still writes the object
// continuously, and cleanup leaves it alone (not counted) instead of fighting a live writer forever.
const MAX_ATTEMPTS_PER_OBJECT = 5;

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
    for (let attempt = 0; attempt < MAX_ATTEMPTS_PER_OBJECT; attempt++) {
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
        const code = errorCode(err);
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
  const list = await client.list<List<{ metadata: ObjectMeta }>>(leasesPath(namespace), { labelSelector });
  let deleted = 0;
  for (const lease of list.items) {
    try {
      await client.delete(leasePath(namespace, lease.metadata.name));
      deleted++;
    } catch (err) {
      if (!hasCode(err, 'K8S_NOT_FOUND')) throw err;
    }
  }
  return deleted;
}
