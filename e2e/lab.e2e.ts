// Proof that the test lab is real: a real API server enforcing RBAC and
// optimistic concurrency, watches that survive its restart, and a LAN whose
// kernels answer ARP, with every helper the later scenarios rely on.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  ApiException,
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1Lease,
} from '@kubernetes/client-node';
import { ArpCapture, arping, claimants, neighbours } from '../dev/lab/arp-client.js';
import { lab } from '../dev/lab/current.js';
import { waitFor } from '../dev/lab/exec.js';
import { tcpProbe, udpNudge } from '../dev/lab/netns-probe.js';
import { SystemClock } from '../src/clock.js';
import { ApiClient } from '../src/k8s/api-client.js';
import { Informer } from '../src/k8s/informer.js';
import { loadApiAccess } from '../src/k8s/kubeconfig.js';
import { silentLogger } from '../src/observability/logger.js';

function kubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

async function expectStatus(promise: Promise<unknown>, status: number, what: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ApiException, `${what}: expected an ApiException, got ${String(err)}`);
    assert.equal(err.code, status, `${what}: HTTP ${err.code}`);
    return true;
  });
}

function leaseBody(name: string, holder: string): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name },
    spec: { holderIdentity: holder, leaseDurationSeconds: 3 },
  };
}

describe('test lab: control plane', { timeout: 180_000 }, () => {
  const ns = `lab-${randomBytes(3).toString('hex')}`;
  let admin: KubeConfig;

  before(async () => {
    admin = kubeConfig(lab().controlPlane.adminKubeconfig);
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
  });

  after(async () => {
    await admin
      .makeApiClient(CoreV1Api)
      .deleteNamespace({ name: ns })
      .catch(() => undefined);
  });

  it('serves the built release and says so in /version', async () => {
    const res = await lab().controlPlane.adminRequest('GET', '/version');
    assert.equal(res.status, 200);
    const version = JSON.parse(res.body) as { gitVersion: string };
    assert.equal(version.gitVersion, lab().toolchain.versions.kubernetes);
  });

  it('creates a CRD and a Lease as admin and as a restricted ServiceAccount, which gets 403 for a verb it lacks', async () => {
    const group = 'lab.baton.test';
    const crd = admin.makeApiClient(ApiextensionsV1Api);
    await crd.createCustomResourceDefinition({
      body: {
        metadata: { name: `widgets.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: { spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } } },
                },
              },
            },
          ],
        },
      },
    });
    await waitFor(
      'Widget CRD to be Established',
      async () => {
        const got = await crd.readCustomResourceDefinition({ name: `widgets.${group}` });
        return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );

    const adminObjects = admin.makeApiClient(CustomObjectsApi);
    await adminObjects.createNamespacedCustomObject({
      group,
      version: 'v1',
      namespace: ns,
      plural: 'widgets',
      body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'by-admin' }, spec: { size: 1 } },
    });
    // The schema is enforced by the real API server.
    await expectStatus(
      adminObjects.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace: ns,
        plural: 'widgets',
        body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'bad' }, spec: { size: 0 } },
      }),
      422,
      'schema violation',
    );
    await admin.makeApiClient(CoordinationV1Api).createNamespacedLease({ namespace: ns, body: leaseBody('by-admin', 'admin') });

    const core = admin.makeApiClient(CoreV1Api);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'restricted' } } });
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'restricted' },
        rules: [
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'create', 'update'] },
          { apiGroups: [group], resources: ['widgets'], verbs: ['get', 'create'] },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'restricted' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'restricted' },
        subjects: [{ kind: 'ServiceAccount', name: 'restricted', namespace: ns }],
      },
    });

    const sa = kubeConfig(await lab().controlPlane.serviceAccountKubeconfig(ns, 'restricted'));
    const saLeases = sa.makeApiClient(CoordinationV1Api);
    const created = await saLeases.createNamespacedLease({ namespace: ns, body: leaseBody('by-sa', 'sa') });
    assert.equal(created.spec?.holderIdentity, 'sa');
    const saObjects = sa.makeApiClient(CustomObjectsApi);
    await saObjects.createNamespacedCustomObject({
      group,
      version: 'v1',
      namespace: ns,
      plural: 'widgets',
      body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'by-sa' }, spec: { size: 2 } },
    });

    await expectStatus(saLeases.deleteNamespacedLease({ name: 'by-sa', namespace: ns }), 403, 'SA deleting a Lease');
    await expectStatus(
      saObjects.deleteNamespacedCustomObject({ group, version: 'v1', namespace: ns, plural: 'widgets', name: 'by-sa' }),
      403,
      'SA deleting a Widget',
    );
    await expectStatus(sa.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: ns }), 403, 'SA listing Secrets');
    await expectStatus(
      saLeases.createNamespacedLease({ namespace: 'default', body: leaseBody('elsewhere', 'sa') }),
      403,
      'SA outside its namespace',
    );
    await expectStatus(
      sa.makeApiClient(ApiextensionsV1Api).deleteCustomResourceDefinition({ name: `widgets.${group}` }),
      403,
      'SA deleting the CRD',
    );

    await crd.deleteCustomResourceDefinition({ name: `widgets.${group}` });
  });

  it('lets exactly one of two clients racing on one Lease win; the other gets 409', async () => {
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'lease-writer' },
        rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'lease-writer' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'lease-writer' },
        subjects: ['tester-1', 'tester-2'].map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name })),
      },
    });
    await admin.makeApiClient(CoordinationV1Api).createNamespacedLease({ namespace: ns, body: leaseBody('race', 'nobody') });
    const racers = ['tester-1', 'tester-2'].map((user) => ({
      user,
      api: kubeConfig(lab().controlPlane.kubeconfigFor(user)).makeApiClient(CoordinationV1Api),
    }));

    const ROUNDS = 10;
    const wins = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round++) {
      const seen = await Promise.all(racers.map((r) => r.api.readNamespacedLease({ name: 'race', namespace: ns })));
      assert.equal(seen[0]?.metadata?.resourceVersion, seen[1]?.metadata?.resourceVersion, 'both racers start from the same version');
      const results = await Promise.allSettled(
        racers.map((r, i) => {
          const body = seen[i] as V1Lease;
          return r.api.replaceNamespacedLease({
            name: 'race',
            namespace: ns,
            body: { ...body, spec: { ...body.spec, holderIdentity: `${r.user}-round-${round}` } },
          });
        }),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(won.length, 1, `round ${round}: exactly one update succeeds`);
      assert.equal(lost.length, 1);
      assert.ok(
        lost[0]?.reason instanceof ApiException && lost[0].reason.code === 409,
        `round ${round}: the loser gets 409, got ${String(lost[0]?.reason)}`,
      );
      const winner = racers[results.indexOf(won[0] as PromiseSettledResult<V1Lease>)]?.user as string;
      wins.set(winner, (wins.get(winner) ?? 0) + 1);
      const stored = await admin.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'race', namespace: ns });
      assert.equal(stored.spec?.holderIdentity, `${winner}-round-${round}`, 'the stored holder is the winner');
    }
    assert.equal(
      [...wins.values()].reduce((a, b) => a + b, 0),
      ROUNDS,
    );
  });

  it('keeps an informer current across an API server restart, resuming without missing a change', async () => {
    const client = new ApiClient(loadApiAccess(lab().controlPlane.adminKubeconfig));
    const informer = new Informer<{ metadata?: { name?: string; namespace?: string }; data?: Record<string, string> }>({
      name: 'configmaps',
      client,
      path: `/api/v1/namespaces/${ns}/configmaps`,
      labelSelector: 'lab=informer',
      clock: new SystemClock(),
      log: silentLogger(),
      backoff: { initialMs: 100, maxMs: 1_000 },
    });
    const events: string[] = [];
    informer.on({
      add: (o) => events.push(`add ${o.metadata?.name}`),
      update: (o) => events.push(`update ${o.metadata?.name} ${o.data?.['v']}`),
      delete: (o) => events.push(`delete ${o.metadata?.name}`),
    });
    const core = admin.makeApiClient(CoreV1Api);
    const cm = (name: string, v: string) => ({ metadata: { name, labels: { lab: 'informer' } }, data: { v } });
    await core.createNamespacedConfigMap({ namespace: ns, body: cm('before', '1') });
    try {
      await informer.start();
      assert.deepEqual(
        informer.list().map((o) => o.metadata?.name),
        ['before'],
      );
      assert.ok(Object.isFrozen(informer.get('before', ns)), 'cached objects are read-only');

      await lab().controlPlane.restartApiServer();
      // Written the moment the server is back, possibly before the informer reconnects: it must still arrive.
      await core.replaceNamespacedConfigMap({ name: 'before', namespace: ns, body: cm('before', '2') });
      await core.createNamespacedConfigMap({ namespace: ns, body: cm('after', '1') });
      await core.deleteNamespacedConfigMap({ name: 'before', namespace: ns });

      await waitFor(
        'the informer to see every change made after the restart',
        async () => (events.includes('delete before') && events.includes('add after') ? true : undefined),
        { timeoutMs: 30_000 },
      );
      assert.ok(informer.stats.restarts >= 1, `the informer restarted after the outage (restarts=${informer.stats.restarts})`);
      assert.deepEqual(
        informer.list().map((o) => o.metadata?.name),
        ['after'],
      );
      const updateIndex = events.indexOf('update before 2');
      assert.ok(updateIndex === -1 || updateIndex < events.indexOf('delete before'), `events in order: ${events.join(', ')}`);
    } finally {
      await informer.stop();
      client.close();
    }
  });
});

describe('test lab: LAN', { timeout: 180_000 }, () => {
  it('runs a process inside a node namespace and stops it with SIGTERM or SIGKILL', async () => {
    const { lan } = lab();
    const node = lan.node('node-1');
    let output = '';
    const script = `process.on('SIGTERM', () => { console.log('graceful'); process.exit(0); });
      const addrs = require('node:os').networkInterfaces().eth0.map((a) => a.address);
      console.log('addresses ' + addrs.join(',')); setInterval(() => {}, 1000);`;
    const gentle = lan.spawn(node, 'sleeper-term', process.execPath, ['-e', script], {
      onOutput: (c) => {
        output += c;
      },
    });
    await waitFor('the process to report its addresses', async () => (output.includes('addresses') ? true : undefined), {
      timeoutMs: 10_000,
    });
    assert.match(output, new RegExp(`addresses ${node.ip.replaceAll('.', '\\.')}`), 'it sees the node namespace, not the host');
    const termExit = await gentle.stop('SIGTERM');
    assert.equal(termExit.code, 0);
    assert.match(output, /graceful/);

    const hard = lan.spawn(node, 'sleeper-kill', process.execPath, ['-e', script]);
    await waitFor('the second process to run', async () => (hard.pid !== undefined ? true : undefined), { timeoutMs: 5_000 });
    const killExit = await hard.stop('SIGKILL');
    assert.equal(killExit.signal, 'SIGKILL');
  });

  it('answers ARP for a kernel-owned address from exactly that node, as a real client sees it', async () => {
    const { lan } = lab();
    const capture = await ArpCapture.start(lan, lan.client, 'kernel-arp', lab().workDir);
    for (const node of lan.nodes) {
      const res = await arping(lan.client, node.ip, { seconds: 2 });
      assert.deepEqual(res.macs, [node.mac], `${node.name} answers with its own MAC`);
      assert.ok(res.replies >= 2);
    }
    const nobody = await arping(lan.client, '192.0.2.250', { seconds: 2 });
    assert.deepEqual(nobody.macs, [], 'an unused address gets no answer');

    const frames = await capture.stop();
    for (const node of lan.nodes) {
      const who = claimants(frames, node.ip);
      assert.deepEqual([...who.keys()], [node.mac], `the capture shows only ${node.name} claiming ${node.ip}`);
      const reply = frames.find((f) => f.operation === 'reply' && f.senderIp === node.ip);
      assert.equal(reply?.ethernetSource, node.mac, 'Ethernet source and ARP sender agree');
    }
    assert.ok(frames.some((f) => f.operation === 'request' && f.targetIp === '192.0.2.250' && f.senderMac === lan.client.mac));
  });

  it('fills the client neighbour table when the client itself talks to a node', async () => {
    const { lan } = lab();
    const node = lan.node('node-2');
    await udpNudge(lan.client, node.ip);
    const entry = await waitFor(
      'a neighbour entry for node-2',
      async () => (await neighbours(lan.client)).find((n) => n.ip === node.ip && n.mac !== undefined),
      { timeoutMs: 5_000 },
    );
    assert.equal(entry.mac, node.mac);
  });

  it('cuts and restores a node link: the node disappears from the LAN and comes back', async () => {
    const { lan } = lab();
    const node = lan.node('node-3');
    await lan.cutLink(node);
    try {
      assert.deepEqual((await arping(lan.client, node.ip, { seconds: 2 })).macs, [], 'no answer while the link is cut');
      assert.equal(await tcpProbe(node, lan.hostAddress, 6443, 1_500), 'timeout', 'the control plane is unreachable too');
    } finally {
      await lan.restoreLink(node);
    }
    await waitFor(
      'node-3 to answer ARP again',
      async () => ((await arping(lan.client, node.ip, { seconds: 1 })).macs[0] === node.mac ? true : undefined),
      { timeoutMs: 15_000 },
    );
  });

  it('cuts only the control-plane path: API connections time out while the LAN still works', async () => {
    const { lan, controlPlane } = lab();
    const node = lan.node('node-1');
    const port = Number(new URL(controlPlane.server).port);
    assert.equal(await tcpProbe(node, lan.hostAddress, port, 3_000), 'connected', 'reachable before the cut');
    await lan.cutControlPlane(node);
    try {
      assert.equal(await tcpProbe(node, lan.hostAddress, port, 1_500), 'timeout', 'silently dropped, like a real partition');
      assert.deepEqual(
        (await arping(lan.client, node.ip, { seconds: 2 })).macs,
        [node.mac],
        'the client still reaches the node over the LAN',
      );
      assert.deepEqual((await arping(node, lan.client.ip, { seconds: 2 })).macs, [lan.client.mac], 'and the node reaches the client');
      assert.equal(await tcpProbe(lan.node('node-2'), lan.hostAddress, port, 3_000), 'connected', 'other nodes are not affected');
    } finally {
      await lan.restoreControlPlane(node);
    }
    assert.equal(await tcpProbe(node, lan.hostAddress, port, 3_000), 'connected', 'reachable again after restore');
  });
});
