import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FakeApiServer, type StoredObject } from '../testing/fake-api-server.js';
import { ApiClient } from './api-client.js';
import { deleteLeases, removeFinalizers } from './finalizer-cleanup.js';
import { accessForServer } from './kubeconfig.js';
import { leasesPath } from './lease-store.js';

const SERVICES = '/api/v1/namespaces/apps/services';
const OURS = 'finalizer.lb.kubesphere.io/v1alpha1';

function svc(name: string, finalizers: string[]): StoredObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, finalizers } };
}

describe('baton cleanup', () => {
  let server: FakeApiServer;
  let client: ApiClient;

  beforeEach(async () => {
    server = await FakeApiServer.start();
    client = new ApiClient(accessForServer(server.url));
  });

  afterEach(async () => {
    client.close();
    await server.close();
  });

  const itemPath = (m: { name: string }): string => `${SERVICES}/${m.name}`;
  const finalizersOf = (name: string): unknown => server.object(SERVICES, name)?.metadata['finalizers'];

  it("removes only Baton's finalizers, keeping everyone else's", async () => {
    server.put(SERVICES, svc('both', [OURS, 'example.com/keep']));
    server.put(SERVICES, svc('only-ours', [OURS]));
    server.put(SERVICES, svc('none', ['example.com/keep']));
    assert.equal(await removeFinalizers(client, SERVICES, itemPath, [OURS]), 2);
    assert.deepEqual(finalizersOf('both'), ['example.com/keep']);
    assert.equal(finalizersOf('only-ours'), undefined);
    assert.deepEqual(finalizersOf('none'), ['example.com/keep']);
  });

  it('re-reads and retries an object that changed between the list and the patch (409)', async () => {
    server.put(SERVICES, svc('busy', [OURS]));
    let patches = 0;
    server.intercept = (req) => {
      if (req.method === 'PATCH' && ++patches === 1) server.put(SERVICES, svc('busy', [OURS, 'example.com/late']));
      return false;
    };
    assert.equal(await removeFinalizers(client, SERVICES, itemPath, [OURS]), 1);
    assert.equal(patches, 2);
    assert.deepEqual(finalizersOf('busy'), ['example.com/late'], 'the retry worked from the fresh object');
  });

  it('leaves an object that changes under every attempt, after five, instead of fighting its writer', async () => {
    server.put(SERVICES, svc('contested', [OURS]));
    let patches = 0;
    server.intercept = (req) => {
      if (req.method === 'PATCH') {
        patches++;
        server.put(SERVICES, svc('contested', [OURS]));
      }
      return false;
    };
    assert.equal(await removeFinalizers(client, SERVICES, itemPath, [OURS]), 0);
    assert.equal(patches, 5);
    assert.deepEqual(finalizersOf('contested'), [OURS]);
  });

  it('deletes the Leases the selector matches, and only those', async () => {
    const leases = leasesPath('baton-system');
    server.put(leases, { metadata: { name: 'baton-speaker-node-1', labels: { 'app.kubernetes.io/managed-by': 'baton' } } });
    server.put(leases, { metadata: { name: 'baton-ip-192-0-2-200', labels: { 'app.kubernetes.io/managed-by': 'baton' } } });
    server.put(leases, { metadata: { name: 'someone-else' } });
    assert.equal(await deleteLeases(client, 'baton-system', 'app.kubernetes.io/managed-by=baton'), 2);
    assert.equal(server.object(leases, 'baton-speaker-node-1'), undefined);
    assert.notEqual(server.object(leases, 'someone-else'), undefined);
  });
});
