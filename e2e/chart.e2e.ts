// The Helm chart against the real control plane: lint, render, schema
// checks; install; the controller and speakers run with the ServiceAccounts
// the chart created (so a missing RBAC rule fails the flow) and the audit log
// shows every granted rule in use (so an excess rule fails too); upgrade;
// uninstall leaves only the CRD; and an OpenELB installation is adopted with
// no address changed.

import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { arping } from '../dev/lab/arp-client.js';
import { auditedRequests, CHART, ChartRelease, helm as labHelm, podSpecOf } from '../dev/lab/chart-runner.js';
import { lab } from '../dev/lab/current.js';
import { startDataPlane } from '../dev/lab/dataplane.js';
import { waitFor } from '../dev/lab/exec.js';
import type { Eip, List, Service } from '../src/k8s/types.js';
import { ensureNode, ipLeaseHolderIn, waitForHolderIn } from './support/cluster-objects.js';
import {
  applyFile,
  createEip,
  createNamespace,
  createService,
  deleteEip,
  deleteNamespace,
  EIPS,
  getEip,
  getService,
  ingressOf,
  kube,
  waitForEipCondition,
  waitForEvent,
  waitForIngress,
} from './support/kube.js';

const CRD_NAME = 'eips.network.kubesphere.io';
const CRD_PATH = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`;

async function deleteCrd(): Promise<void> {
  await kube()
    .api.delete(CRD_PATH)
    .catch(() => undefined);
  await waitFor(
    'the Eip CRD to be gone',
    async () =>
      (await kube()
        .api.get(CRD_PATH)
        .catch(() => undefined)) === undefined
        ? true
        : undefined,
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

function helm(args: string[], options: { allowFailure?: boolean } = {}) {
  return labHelm(lab(), args, options);
}

describe('Helm chart', { timeout: 900_000 }, () => {
  before(async () => {
    for (const n of lab().lan.nodes) await ensureNode(n.name);
    await startDataPlane(lab().lan, lab().workDir);
  });

  it('lints, renders, and its values schema refuses bad values with clear messages', async () => {
    const lint = await helm(['lint', CHART, '--strict']);
    assert.match(lint.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    const rendered = await helm(['template', 'baton', CHART, '-n', 'baton-system', '--kube-version=1.37.2']);
    for (const kind of ['Deployment', 'DaemonSet', 'PodDisruptionBudget', 'ClusterRole', 'Role', 'ServiceAccount', 'Job'])
      assert.match(rendered.stdout, new RegExp(`kind: ${kind}\\n`), kind);
    assert.doesNotMatch(rendered.stdout, /ServiceMonitor|PodMonitor/, 'monitoring objects only when asked');
    const monitored = await helm([
      'template',
      'baton',
      CHART,
      '--kube-version=1.37.2',
      '--set=monitoring.serviceMonitor.enabled=true',
      '--set=monitoring.podMonitor.enabled=true',
    ]);
    assert.match(monitored.stdout, /kind: ServiceMonitor/);
    assert.match(monitored.stdout, /kind: PodMonitor/);
    const bad: Array<[string, RegExp]> = [
      ['logLevel=loud', /at '\/logLevel': value must be one of/],
      ['loadBalancerClass=nope', /at '\/loadBalancerClass': 'nope' does not match pattern/],
      ['controller.replicas=0', /at '\/controller\/replicas': minimum: got 0, want 1/],
      ['speaker.leaseDuration=fast', /at '\/speaker\/leaseDuration': 'fast' does not match pattern/],
      ['speaker.renewDeadline=2s', /need renewInterval \(500ms\) < renewDeadline \(2s\) < leaseDuration \(1500ms\)/],
      ['controller.leaderElection.renewDeadline=20s', /need retryPeriod \(2s\) < renewDeadline \(20s\) < leaseDuration \(15s\)/],
      ['speaker.typo=1', /additional properties 'typo' not allowed/],
    ];
    for (const [set, message] of bad) {
      const res = await helm(['template', 'baton', CHART, '--kube-version=1.37.2', `--set=${set}`], { allowFailure: true });
      assert.notEqual(res.exitCode, 0, `${set} is refused`);
      assert.match(res.stderr, message, set);
    }
  });

  it('hardens its pods: dropped capabilities, NET_RAW only for speakers, read-only root, RuntimeDefault seccomp', async () => {
    const rendered = (await helm(['template', 'baton', CHART, '--kube-version=1.37.2', '--output-dir', `${lab().workDir}/rendered`]))
      .stdout;
    assert.match(rendered, /wrote/);
    const { loadAllYaml } = await import('@kubernetes/client-node');
    const { readFile } = await import('node:fs/promises');
    // Plain objects (the library would build its typed classes, which deepEqual tells apart from literals).
    const load = async (file: string) =>
      JSON.parse(JSON.stringify(loadAllYaml(await readFile(`${lab().workDir}/rendered/baton/templates/${file}`, 'utf8')))) as Array<{
        kind: string;
        // biome-ignore lint/suspicious/noExplicitAny: a rendered pod template, read field by field below as the chart wrote it.
        spec: { template: { spec: Record<string, any> } };
      }>;
    const ds = (await load('speaker-daemonset.yaml'))[0]!.spec.template.spec;
    const dep = (await load('controller-deployment.yaml'))[0]!.spec.template.spec;
    assert.equal(ds['hostNetwork'], true);
    assert.deepEqual(ds['containers'][0].securityContext.capabilities, { drop: ['ALL'], add: ['NET_RAW'] });
    assert.equal(ds['containers'][0].securityContext.readOnlyRootFilesystem, true);
    assert.equal(ds['containers'][0].securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(ds['securityContext'].seccompProfile, { type: 'RuntimeDefault' });
    assert.deepEqual(dep['containers'][0].securityContext.capabilities, { drop: ['ALL'] });
    assert.equal(dep['securityContext'].runAsNonRoot, true);
    assert.equal(dep['containers'][0].securityContext.readOnlyRootFilesystem, true);
    for (const rbac of ['rbac-controller.yaml', 'rbac-speaker.yaml', 'cleanup-hook.yaml']) {
      const text = await readFile(`${lab().workDir}/rendered/baton/templates/${rbac}`, 'utf8');
      assert.doesNotMatch(text, /['"]?\*['"]?\s*[\],]/, `${rbac}: no wildcard`);
      assert.doesNotMatch(text, /secrets/, `${rbac}: no Secrets`);
    }
  });

  describe('migration from OpenELB', () => {
    const ns = 'baton-migrate';
    let release: ChartRelease;

    before(() => {
      release = new ChartRelease(lab(), kube().api, ns);
    });

    after(async () => {
      await release?.stopAll();
    });

    it('adopts OpenELB’s CRD, Eips and Services as they are, changing no address', async () => {
      await deleteCrd();
      await applyFile(resolve('e2e/fixtures/openelb-eip-crd.yaml'));
      await waitFor(
        'the OpenELB CRD to be served',
        async () =>
          (await kube()
            .api.list(EIPS)
            .catch(() => undefined)) !== undefined
            ? true
            : undefined,
        { timeoutMs: 30_000 },
      );
      // What OpenELB left: a pool with its finalizer and status, two Services holding addresses.
      await kube().api.create(EIPS, {
        apiVersion: 'network.kubesphere.io/v1alpha2',
        kind: 'Eip',
        metadata: {
          name: 'openelb-pool',
          finalizers: ['finalizer.ipam.kubesphere.io/v1alpha1'],
          annotations: { 'eip.openelb.kubesphere.io/is-default-eip': 'true' },
        },
        spec: { address: '192.0.2.200-192.0.2.210', protocol: 'layer2', interface: 'eth0' },
      });
      await kube().api.patch(`${EIPS}/openelb-pool/status`, {
        status: {
          firstIP: '192.0.2.200',
          lastIP: '192.0.2.210',
          poolSize: 11,
          usage: 2,
          ready: true,
          v4: true,
          used: { '192.0.2.201': 'legacy/web', '192.0.2.205': 'legacy/api' },
        },
      });
      await createNamespace('legacy');
      for (const [name, ip] of [
        ['web', '192.0.2.201'],
        ['api', '192.0.2.205'],
      ] as const) {
        const svc = await kube().api.create<Service>('/api/v1/namespaces/legacy/services', {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: {
            name,
            finalizers: ['finalizer.lb.kubesphere.io/v1alpha1'],
            annotations: { 'lb.kubesphere.io/v1alpha1': 'openelb', 'protocol.openelb.kubesphere.io/v1alpha1': 'layer2' },
          },
          spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
        });
        await kube().api.patch(`/api/v1/namespaces/legacy/services/${name}/status`, {
          metadata: { resourceVersion: svc.metadata.resourceVersion },
          status: { loadBalancer: { ingress: [{ ip }] } },
        });
      }

      await release.install(['--skip-crds']);
      const crd = await kube().api.get<{ spec: { versions: Array<{ name: string }> } }>(CRD_PATH);
      assert.deepEqual(
        crd.spec.versions.map((v) => v.name),
        ['v1alpha1', 'v1alpha2'],
        'OpenELB’s CRD stays as it was',
      );
      await release.startControllers(1);
      await release.startSpeakers();

      const pool = await waitFor(
        'Baton to take over the pool status',
        async () => {
          const e = await getEip('openelb-pool');
          return e?.status?.used?.['192.0.2.201'] === 'legacy/web' && e.status.usage === 2 && e.status.poolSize === 11 ? e : undefined;
        },
        { timeoutMs: 20_000 },
      );
      assert.deepEqual(pool.status?.used, { '192.0.2.201': 'legacy/web', '192.0.2.205': 'legacy/api' });
      for (const [name, ip] of [
        ['web', '192.0.2.201'],
        ['api', '192.0.2.205'],
      ] as const) {
        assert.deepEqual(ingressOf(await getService('legacy', name)), [ip], `${name} keeps ${ip}`);
        assert.equal(
          (await ipLeaseHolderIn(ns, ip)) !== undefined || (await waitForHolderIn(ns, ip)) !== undefined,
          true,
          `${ip} is announced`,
        );
      }
      const events = await kube().api.list<{ items: Array<{ reason: string; involvedObject: { name: string } }> }>(
        '/api/v1/namespaces/legacy/events',
      );
      assert.ok(!events.items.some((e) => e.reason === 'IPAllocated' || e.reason === 'IPReleased'), 'no address was given or taken');
      await createService('legacy', 'new', {});
      assert.deepEqual(await waitForIngress('legacy', 'new'), ['192.0.2.200'], 'a new Service gets a free address, not an adopted one');
      assert.deepEqual((await arping(lab().lan.client, '192.0.2.205', { seconds: 1 })).macs.length, 1);

      await deleteNamespace('legacy');
      await deleteEip('openelb-pool');
      await release.stopAll();
      await release.uninstall();
      await deleteNamespace(ns);
      await deleteCrd();
    });
  });

  describe('install, run, upgrade, uninstall', () => {
    const ns = 'baton-chart';
    let release: ChartRelease;

    before(() => {
      release = new ChartRelease(lab(), kube().api, ns);
    });

    after(async () => {
      await release?.stopAll();
    });

    it('installs; controller and speakers run as the chart’s ServiceAccounts; the seed manifests work unchanged; one MAC answers; failover', async () => {
      const install = await release.install();
      assert.match(install.stdout, /strictARP/, 'NOTES warn about kube-proxy IPVS strictARP');
      assert.match(install.stdout, /Create an address pool/);
      await waitFor(
        'the chart’s CRD',
        async () =>
          (await kube()
            .api.list(EIPS)
            .catch(() => undefined)) !== undefined
            ? true
            : undefined,
        { timeoutMs: 30_000 },
      );
      await release.startControllers(2);
      await release.startSpeakers();

      await createNamespace('seed-chart');
      await applyFile(resolve('examples/openelb-layer2/eip.yaml'));
      await applyFile(resolve('examples/openelb-layer2/service.yaml'), 'seed-chart');
      await waitForEvent('seed-chart', 'layer2-svc', 'Service', 'PoolNotFound');
      await createEip('layer2-eip', { address: '192.0.2.220-192.0.2.230', protocol: 'layer2', interface: 'eth0' });
      const [ip] = (await waitForIngress('seed-chart', 'layer2-svc')) as [string];
      const holder = await waitForHolderIn(ns, ip);
      await waitForEvent('seed-chart', 'layer2-svc', 'Service', 'NodeAssigned');
      assert.deepEqual((await arping(lab().lan.client, ip, { seconds: 2 })).macs, [lab().lan.node(holder).mac]);
      await waitForEipCondition('eip-sample-pool', 'Ready', 'True');

      await release.speakers.get(holder)?.stop('SIGKILL');
      const heir = await waitForHolderIn(ns, ip, (h) => h !== holder);
      await waitFor(
        'the heir to answer',
        async () => ((await arping(lab().lan.client, ip, { seconds: 1 })).macs.join() === lab().lan.node(heir).mac ? true : undefined),
        { timeoutMs: 10_000 },
      );
      await release.startSpeaker(holder);

      // A second Service comes and goes, so its IP lease is deleted by its holder.
      await createService('seed-chart', 'short-lived', { annotations: { 'eip.openelb.kubesphere.io/v1alpha2': 'layer2-eip' } });
      const [shortIp] = (await waitForIngress('seed-chart', 'short-lived')) as [string];
      await waitForHolderIn(ns, shortIp);
      await kube().api.delete('/api/v1/namespaces/seed-chart/services/short-lived');
      await waitFor(
        'its IP lease to be deleted',
        async () => ((await ipLeaseHolderIn(ns, shortIp, true)) === 'absent' ? true : undefined),
        { timeoutMs: 15_000 },
      );
    });

    it('applies changed values on helm upgrade', async () => {
      await helm([
        'upgrade',
        'baton',
        CHART,
        '-n',
        ns,
        '--reuse-values',
        '--set=speaker.leaseDuration=2s',
        '--set=controller.replicas=1',
        '--set=logLevel=debug',
      ]);
      const dep = await kube().api.get<{ spec: { replicas: number } }>(`/apis/apps/v1/namespaces/${ns}/deployments/baton-controller`);
      assert.equal(dep.spec.replicas, 1);
      const spec = await podSpecOf(kube().api, 'daemonsets', ns, 'baton-speaker');
      assert.ok(spec.containers[0]?.args?.includes('--lease-duration=2s'));
      // The rollout a kubelet would do: restart each speaker with its new pod template, one node at a time.
      for (const n of lab().lan.nodes) {
        await release.speakers.get(n.name)?.stop('SIGTERM');
        await release.startSpeaker(n.name);
      }
      for (const n of lab().lan.nodes) {
        await waitFor(
          `${n.name}'s lease to carry the new duration`,
          async () => {
            const lease = await kube().api.get<{ metadata: { annotations?: Record<string, string> } }>(
              `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/baton-speaker-${n.name}`,
            );
            return lease.metadata.annotations?.['baton.dev/lease-duration-ms'] === '2000' ? true : undefined;
          },
          { timeoutMs: 10_000 },
        );
      }
    });

    it('uninstalls to nothing but the CRD (its post-delete hook removes finalizers and leases)', async () => {
      await release.stopAll();
      await release.uninstall();
      const selector = 'app.kubernetes.io/instance=baton';
      const kinds = [
        `/apis/apps/v1/namespaces/${ns}/deployments`,
        `/apis/apps/v1/namespaces/${ns}/daemonsets`,
        `/apis/batch/v1/namespaces/${ns}/jobs`,
        `/api/v1/namespaces/${ns}/serviceaccounts`,
        `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`,
        '/apis/rbac.authorization.k8s.io/v1/clusterroles',
        '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
        `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`,
        `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
      ];
      for (const path of kinds) assert.deepEqual((await kube().api.list<List<unknown>>(path, { labelSelector: selector })).items, [], path);
      assert.deepEqual(
        (await kube().api.list<List<unknown>>(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`)).items,
        [],
        'no Lease left',
      );
      const svc = await getService('seed-chart', 'layer2-svc');
      assert.deepEqual(svc.metadata.finalizers ?? [], [], 'Services can be deleted without Baton');
      for (const e of (await kube().api.list<List<Eip>>(EIPS)).items)
        assert.deepEqual(e.metadata.finalizers ?? [], [], `${e.metadata.name} has no Baton finalizer`);
      assert.ok((await kube().api.get(CRD_PATH)) !== undefined, 'the CRD stays (Helm never deletes crds/)');
      await deleteNamespace('seed-chart');
      for (const e of (await kube().api.list<List<Eip>>(EIPS)).items) await deleteEip(e.metadata.name);
    });

    it('grants each component exactly the rights it used, no more, and it never lacked one', async () => {
      const { loadAllYaml } = await import('@kubernetes/client-node');
      const rendered = loadAllYaml((await helm(['template', 'baton', CHART, '-n', ns, '--kube-version=1.37.2'])).stdout) as Array<{
        kind: string;
        metadata: { name: string };
        rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
      }>;
      const granted = (role: string): Set<string> => {
        const out = new Set<string>();
        for (const o of rendered) {
          if ((o.kind === 'ClusterRole' || o.kind === 'Role') && o.metadata.name === role) {
            for (const r of o.rules ?? [])
              for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) out.add(`${v} ${g}/${res}`);
          }
        }
        return out;
      };
      for (const component of ['controller', 'speaker', 'cleanup']) {
        const user = `system:serviceaccount:${ns}:baton-${component}`;
        const used = await auditedRequests(lab(), user);
        assert.ok(used.length > 0, `${component} made requests`);
        const forbidden = used.filter((u) => u.code === 403);
        assert.deepEqual(forbidden, [], `${component} was never refused`);
        const usedRules = new Set(used.map((u) => `${u.verb} ${u.group}/${u.resource}`));
        const unused = [...granted(`baton-${component}`)].filter((g) => !usedRules.has(g));
        assert.deepEqual(unused, [], `${component}: every granted rule is used`);
      }
    });
  });
});
