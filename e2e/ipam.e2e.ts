// The IPAM controller against the real control plane: OpenELB's Eip pools
// and Service annotations, every rule of the address contract, and the
// guarantee that no address ever has two owners, also across restarts.

import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../dev/lab/exec.js';
import { type BatonProcess, metricValue, startController } from './support/baton-process.js';
import {
  applyFile,
  createEip,
  createNamespace,
  createService,
  deleteEip,
  deleteNamespace,
  EIPS,
  ensureBatonBasics,
  eventsFor,
  getEip,
  getService,
  holdsFor,
  ingressOf,
  kube,
  waitForEipCondition,
  waitForEvent,
  waitForIngress,
} from './support/kube.js';

const SEED = resolve('examples/openelb-layer2');

async function expectRefused(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    const e = err as { status?: number; message?: string };
    assert.equal(e.status, 422, `refused at admission (HTTP ${String(e.status)}): ${String(e.message)}`);
    assert.match(e.message ?? '', pattern);
    return true;
  });
}

describe('IPAM controller', { timeout: 600_000 }, () => {
  let controller: BatonProcess;

  before(async () => {
    await ensureBatonBasics();
    controller = await startController();
  });

  after(async () => {
    await controller?.proc.stop('SIGTERM');
  });

  describe('the Eip CRD', () => {
    it('accepts the seed eip.yaml unchanged and shows address, protocol, usage and total columns', async () => {
      await applyFile(`${SEED}/eip.yaml`);
      const crd = await kube().api.get<{
        spec: { versions: Array<{ name: string; served: boolean; storage: boolean; additionalPrinterColumns: Array<{ name: string }> }> };
      }>('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/eips.network.kubesphere.io');
      const v = crd.spec.versions.find((x) => x.name === 'v1alpha2');
      assert.ok(v?.served === true && v.storage === true);
      assert.deepEqual(
        v.additionalPrinterColumns.map((c) => c.name),
        ['Address', 'Protocol', 'Usage', 'Total', 'Ready', 'Age'],
      );
      const eip = await waitForEipCondition('eip-sample-pool', 'Ready', 'True');
      assert.equal(eip.status?.poolSize, 10);
      assert.equal(eip.status?.firstIP, '192.168.0.91');
      assert.equal(eip.status?.lastIP, '192.168.0.100');
      assert.equal(eip.status?.v4, true);
      assert.equal(eip.status?.ready, true);
      assert.equal(eip.status?.usage, 0);
      assert.ok(eip.metadata.finalizers?.includes('finalizer.ipam.kubesphere.io/v1alpha1'));
      await deleteEip('eip-sample-pool');
    });

    it('refuses malformed addresses, reversed and mixed ranges at admission, with a clear message', async () => {
      await expectRefused(
        createEip('bad-addr', { address: '192.168.0.300', protocol: 'layer2', interface: 'eth0' }),
        /must be an IP address, a CIDR, or a range/,
      );
      await expectRefused(
        createEip('bad-range', { address: '198.51.100.20-198.51.100.10', protocol: 'layer2', interface: 'eth0' }),
        /starts after it ends/,
      );
      await expectRefused(
        createEip('bad-mix', { address: '198.51.100.1-2001:db8::1', protocol: 'layer2', interface: 'eth0' }),
        /same family/,
      );
      await expectRefused(createEip('bad-proto', { address: '198.51.100.1', protocol: 'ospf', interface: 'eth0' }), /protocol/);
    });

    it('refuses a change of address on an existing pool', async () => {
      await createEip('fixed', { address: '198.51.100.240/29', protocol: 'layer2', interface: 'eth0' });
      await expectRefused(kube().api.patch(`${EIPS}/fixed`, { spec: { address: '198.51.100.248/29' } }), /spec.address cannot change/);
      await deleteEip('fixed');
    });

    it('refuses bgp with a condition and an Event saying Baton does not do BGP', async () => {
      await createEip('bgp-pool', { address: '198.51.100.232/29', protocol: 'bgp' });
      const eip = await waitForEipCondition('bgp-pool', 'Ready', 'False', 'UnsupportedProtocol');
      assert.match(eip.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '', /Baton does not do BGP/);
      const ev = await waitForEvent('default', 'bgp-pool', 'Eip', 'UnsupportedProtocol');
      assert.equal(ev.type, 'Warning');
      await deleteEip('bgp-pool');
    });
  });

  describe('Services', () => {
    it('runs the seed: service.yaml waits for layer2-eip with a Warning, never taking the default pool, then gets an address from it', async () => {
      const ns = 'seed';
      await createNamespace(ns);
      await applyFile(`${SEED}/eip.yaml`);
      await applyFile(`${SEED}/service.yaml`, ns);
      const warning = await waitForEvent(ns, 'layer2-svc', 'Service', 'PoolNotFound');
      assert.equal(warning.type, 'Warning');
      assert.match(warning.message, /Eip layer2-eip does not exist/);
      await holdsFor(
        1_500,
        async () => ingressOf(await getService(ns, 'layer2-svc')).length === 0,
        'no address while layer2-eip is missing',
      );
      assert.equal((await getEip('eip-sample-pool'))?.status?.usage, 0, 'the default pool was not used');

      await createEip('layer2-eip', { address: '198.51.100.1-198.51.100.5', protocol: 'layer2', interface: 'eth0' });
      assert.deepEqual(await waitForIngress(ns, 'layer2-svc'), ['198.51.100.1']);
      const allocated = await waitForEvent(ns, 'layer2-svc', 'Service', 'IPAllocated');
      assert.match(allocated.message, /allocated 198\.51\.100\.1 from Eip layer2-eip/);
      const eip = await waitFor(
        'layer2-eip status to show its user',
        async () => {
          const e = await getEip('layer2-eip');
          return e?.status?.usage === 1 ? e : undefined;
        },
        { timeoutMs: 10_000 },
      );
      assert.deepEqual(eip.status?.used, { '198.51.100.1': 'seed/layer2-svc' });
      assert.deepEqual(
        [eip.status?.poolSize, eip.status?.firstIP, eip.status?.lastIP, eip.status?.v4, eip.status?.occupied],
        [5, '198.51.100.1', '198.51.100.5', true, false],
      );
      const svc = await getService(ns, 'layer2-svc');
      assert.ok(svc.metadata.finalizers?.includes('finalizer.lb.kubesphere.io/v1alpha1'));

      await deleteNamespace(ns);
      await waitFor('the address to be released', async () => ((await getEip('layer2-eip'))?.status?.usage === 0 ? true : undefined), {
        timeoutMs: 10_000,
      });
      await deleteEip('layer2-eip');
      await deleteEip('eip-sample-pool');
    });

    it('gives a specific address asked by annotation or spec.loadBalancerIP, refuses one outside the pool or taken, and shares only when safe', async () => {
      const ns = 'specific';
      await createNamespace(ns);
      await createEip('specific-pool', { address: '198.51.100.16/28', protocol: 'layer2', interface: 'eth0' });
      await createService(ns, 'by-annotation', { annotations: { 'eip.openelb.kubesphere.io/v1alpha1': '198.51.100.20' } });
      await createService(ns, 'by-spec', { loadBalancerIP: '198.51.100.21' });
      assert.deepEqual(await waitForIngress(ns, 'by-annotation'), ['198.51.100.20']);
      assert.deepEqual(await waitForIngress(ns, 'by-spec'), ['198.51.100.21']);

      await createService(ns, 'outside', { annotations: { 'eip.openelb.kubesphere.io/v1alpha1': '198.51.100.99' } });
      assert.match((await waitForEvent(ns, 'outside', 'Service', 'IPOutsidePool')).message, /198\.51\.100\.99 is in no ready Eip/);

      await createService(ns, 'same-port', {
        annotations: { 'eip.openelb.kubesphere.io/v1alpha1': '198.51.100.20' },
        ports: [{ port: 80 }],
      });
      assert.match((await waitForEvent(ns, 'same-port', 'Service', 'IPInUse')).message, /held by specific\/by-annotation.*port 80\/TCP/);
      await createService(ns, 'local-policy', {
        annotations: { 'eip.openelb.kubesphere.io/v1alpha1': '198.51.100.20' },
        ports: [{ port: 8443 }],
        externalTrafficPolicy: 'Local',
      });
      assert.match((await waitForEvent(ns, 'local-policy', 'Service', 'IPInUse')).message, /same pods/);

      await createService(ns, 'dns', {
        annotations: { 'eip.openelb.kubesphere.io/v1alpha1': '198.51.100.20' },
        ports: [{ port: 53, protocol: 'UDP' }],
      });
      assert.deepEqual(await waitForIngress(ns, 'dns'), ['198.51.100.20'], 'different port and policy Cluster: shared');
      const eip = await waitFor(
        'the shared address in status',
        async () => {
          const e = await getEip('specific-pool');
          return e?.status?.used?.['198.51.100.20'] === 'specific/by-annotation;specific/dns' ? e : undefined;
        },
        { timeoutMs: 10_000 },
      );
      assert.equal(eip.status?.usage, 2, 'a shared address counts once');
      for (const waiting of ['outside', 'same-port', 'local-policy']) assert.deepEqual(ingressOf(await getService(ns, waiting)), []);

      await deleteNamespace(ns);
      await deleteEip('specific-pool');
    });

    it('serves Services of Baton’s loadBalancerClass, and never touches another class or an unannotated Service', async () => {
      const ns = 'classes';
      await createNamespace(ns);
      await createEip(
        'class-pool',
        { address: '198.51.100.32/28', protocol: 'layer2', interface: 'eth0' },
        { 'eip.openelb.kubesphere.io/is-default-eip': 'true' },
      );
      await createService(ns, 'ours-by-class', { openelb: false, loadBalancerClass: 'baton.dev/layer2' });
      await createService(ns, 'other-class', { loadBalancerClass: 'example.com/other' });
      await createService(ns, 'no-marker', { openelb: false });
      assert.deepEqual(await waitForIngress(ns, 'ours-by-class'), ['198.51.100.33']);
      await holdsFor(
        2_000,
        async () => {
          for (const name of ['other-class', 'no-marker']) {
            const svc = await getService(ns, name);
            if (ingressOf(svc).length > 0 || (svc.metadata.finalizers ?? []).length > 0) return false;
            if ((await eventsFor(ns, name, 'Service')).length > 0) return false;
          }
          return true;
        },
        'foreign Services get no address, no finalizer and no Event',
      );
      await deleteNamespace(ns);
      await deleteEip('class-pool');
    });

    it('makes a Service wait on an exhausted pool and gives it the next freed address', async () => {
      const ns = 'exhaust';
      await createNamespace(ns);
      await createEip('tiny', { address: '198.51.100.48-198.51.100.49', protocol: 'layer2', interface: 'eth0' });
      const pool = { 'eip.openelb.kubesphere.io/v1alpha2': 'tiny' };
      await createService(ns, 'first', { annotations: pool });
      await waitForIngress(ns, 'first');
      await createService(ns, 'second', { annotations: pool });
      await waitForIngress(ns, 'second');
      await createService(ns, 'third', { annotations: pool });
      assert.match((await waitForEvent(ns, 'third', 'Service', 'PoolExhausted')).message, /every address of Eip tiny is in use/);
      await waitFor('tiny to report occupied', async () => ((await getEip('tiny'))?.status?.occupied === true ? true : undefined), {
        timeoutMs: 10_000,
      });
      const freed = ingressOf(await getService(ns, 'first'));
      await kube().api.delete(`/api/v1/namespaces/${ns}/services/first`);
      assert.deepEqual(await waitForIngress(ns, 'third'), freed);
      await deleteNamespace(ns);
      await deleteEip('tiny');
    });

    it('keeps addresses of a disabled pool and gives no new ones', async () => {
      const ns = 'disabled';
      await createNamespace(ns);
      await createEip('switch', { address: '198.51.100.64/28', protocol: 'layer2', interface: 'eth0' });
      const pool = { 'eip.openelb.kubesphere.io/v1alpha2': 'switch' };
      await createService(ns, 'before', { annotations: pool });
      const [ip] = await waitForIngress(ns, 'before');
      await kube().api.patch(`${EIPS}/switch`, { spec: { disable: true } });
      await waitForEipCondition('switch', 'Allocatable', 'False', 'Disabled');
      await createService(ns, 'after', { annotations: pool });
      assert.match((await waitForEvent(ns, 'after', 'Service', 'PoolDisabled')).message, /disabled/);
      assert.deepEqual(ingressOf(await getService(ns, 'before')), [ip as string], 'kept');
      await kube().api.patch(`${EIPS}/switch`, { spec: { disable: false } });
      await waitForIngress(ns, 'after');
      await deleteNamespace(ns);
      await deleteEip('switch');
    });

    it('holds back the deletion of a pool in use, naming its users, and lets it go when they are gone', async () => {
      const ns = 'deletion';
      await createNamespace(ns);
      await createEip('doomed', { address: '198.51.100.80/28', protocol: 'layer2', interface: 'eth0' });
      await createService(ns, 'user', { annotations: { 'eip.openelb.kubesphere.io/v1alpha2': 'doomed' } });
      const [ip] = await waitForIngress(ns, 'user');
      await kube().api.delete(`${EIPS}/doomed`);
      const eip = await waitForEipCondition('doomed', 'Deleting', 'True', 'InUse');
      assert.match(eip.status?.conditions?.find((c) => c.type === 'Deleting')?.message ?? '', /in use by deletion\/user/);
      assert.ok(eip.metadata.deletionTimestamp !== undefined);
      await waitForEvent('default', 'doomed', 'Eip', 'InUse');
      assert.deepEqual(ingressOf(await getService(ns, 'user')), [ip as string], 'the Service keeps its address meanwhile');
      await deleteNamespace(ns);
      await waitFor('the Eip to go once unused', async () => ((await getEip('doomed')) === undefined ? true : undefined), {
        timeoutMs: 20_000,
      });
    });

    it('blocks the newer of two overlapping pools with a condition and keeps the older working', async () => {
      const ns = 'overlap';
      await createNamespace(ns);
      await createEip('first-come', { address: '198.51.100.96/28', protocol: 'layer2', interface: 'eth0' });
      await waitForEipCondition('first-come', 'Ready', 'True');
      await createEip('latecomer', { address: '198.51.100.100-198.51.100.120', protocol: 'layer2', interface: 'eth0' });
      const late = await waitForEipCondition('latecomer', 'Ready', 'False', 'Overlap');
      assert.match(late.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '', /overlaps Eip first-come/);
      await waitForEvent('default', 'latecomer', 'Eip', 'Overlap');
      await createService(ns, 'on-late', { annotations: { 'eip.openelb.kubesphere.io/v1alpha2': 'latecomer' } });
      assert.equal((await waitForEvent(ns, 'on-late', 'Service', 'PoolNotReady')).type, 'Warning');
      await createService(ns, 'on-first', { annotations: { 'eip.openelb.kubesphere.io/v1alpha2': 'first-come' } });
      await waitForIngress(ns, 'on-first');
      await deleteNamespace(ns);
      await deleteEip('latecomer');
      await deleteEip('first-come');
    });

    it('keeps one default pool per family and says why a second one is not', async () => {
      await createEip(
        'default-a',
        { address: '198.51.100.128/28', protocol: 'layer2', interface: 'eth0' },
        { 'eip.openelb.kubesphere.io/is-default-eip': 'true' },
      );
      await waitForEipCondition('default-a', 'Default', 'True');
      await createEip(
        'default-b',
        { address: '198.51.100.144/28', protocol: 'layer2', interface: 'eth0' },
        { 'eip.openelb.kubesphere.io/is-default-eip': 'true' },
      );
      const b = await waitForEipCondition('default-b', 'Default', 'False', 'SecondDefault');
      assert.match(b.status?.conditions?.find((c) => c.type === 'Default')?.message ?? '', /default-a is already the default/);
      const ns = 'defaults';
      await createNamespace(ns);
      await createService(ns, 'auto');
      assert.deepEqual(await waitForIngress(ns, 'auto'), ['198.51.100.129'], 'from the first default');
      await deleteNamespace(ns);
      await deleteEip('default-b');
      await deleteEip('default-a');
    });

    it('chooses automatically by namespaces, namespaceSelector and priority, then the default; without either it says so', async () => {
      await createNamespace('team-gold', { tier: 'gold' });
      await createNamespace('team-plain');
      await createEip('by-selector', {
        address: '198.51.100.160/28',
        protocol: 'layer2',
        interface: 'eth0',
        namespaceSelector: { tier: 'gold' },
        priority: 1,
      });
      await createEip('by-list', {
        address: '198.51.100.176/28',
        protocol: 'layer2',
        interface: 'eth0',
        namespaces: ['team-gold', 'team-plain'],
        priority: 2,
      });
      await createService('team-gold', 'gold');
      await createService('team-plain', 'plain');
      assert.deepEqual(await waitForIngress('team-gold', 'gold'), ['198.51.100.161'], 'priority 1 beats 2');
      assert.deepEqual(await waitForIngress('team-plain', 'plain'), ['198.51.100.177']);
      await createNamespace('team-none');
      await createService('team-none', 'orphan');
      assert.match(
        (await waitForEvent('team-none', 'orphan', 'Service', 'NoEligiblePool')).message,
        /no IPv4 Eip is bound to namespace team-none and there is no default Eip/,
      );
      for (const ns of ['team-gold', 'team-plain', 'team-none']) await deleteNamespace(ns);
      await deleteEip('by-selector');
      await deleteEip('by-list');
    });

    it('gives a dual-stack Service one address per family', async () => {
      const ns = 'dual';
      await createNamespace(ns);
      await createEip('dual-v4', { address: '198.51.100.192/28', protocol: 'layer2', interface: 'eth0' });
      await createEip('dual-v6', { address: '2001:db8:1::10-2001:db8:1::1f', protocol: 'layer2', interface: 'eth0' });
      const pools = { 'eip.openelb.kubesphere.io/v1alpha2': 'dual-v4,dual-v6' };
      await createService(ns, 'both', { annotations: pools, ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' });
      assert.deepEqual(await waitForIngress(ns, 'both', 2), ['198.51.100.193', '2001:db8:1::10']);
      await createService(ns, 'v6-only', { annotations: pools, ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack' });
      assert.deepEqual(await waitForIngress(ns, 'v6-only'), ['2001:db8:1::11']);
      assert.equal((await waitForEipCondition('dual-v6', 'Ready', 'True')).status?.v4, false);
      await deleteNamespace(ns);
      await deleteEip('dual-v4');
      await deleteEip('dual-v6');
    });

    it('releases the address when a Service stops being a LoadBalancer, clearing status and finalizer', async () => {
      const ns = 'retype';
      await createNamespace(ns);
      await createEip('retype-pool', { address: '198.51.100.208/28', protocol: 'layer2', interface: 'eth0' });
      await createService(ns, 'flip', { annotations: { 'eip.openelb.kubesphere.io/v1alpha2': 'retype-pool' } });
      await waitForIngress(ns, 'flip');
      await kube().api.patch(`/api/v1/namespaces/${ns}/services/flip`, { spec: { type: 'ClusterIP', externalTrafficPolicy: null } });
      await waitFor(
        'status and finalizer to be cleared',
        async () => {
          const svc = await getService(ns, 'flip');
          return ingressOf(svc).length === 0 && !(svc.metadata.finalizers ?? []).includes('finalizer.lb.kubesphere.io/v1alpha1')
            ? true
            : undefined;
        },
        { timeoutMs: 10_000 },
      );
      await waitForEvent(ns, 'flip', 'Service', 'IPReleased');
      await waitFor('the pool to show no users', async () => ((await getEip('retype-pool'))?.status?.usage === 0 ? true : undefined), {
        timeoutMs: 10_000,
      });
      await deleteNamespace(ns);
      await deleteEip('retype-pool');
    });

    it('exports pool metrics and answers its health endpoints', async () => {
      await createEip('metered', { address: '198.51.100.224/29', protocol: 'layer2', interface: 'eth0' });
      await createNamespace('metered');
      await createService('metered', 'one', { annotations: { 'eip.openelb.kubesphere.io/v1alpha2': 'metered' } });
      await waitForIngress('metered', 'one');
      await waitFor(
        'pool metrics',
        async () => ((await metricValue(controller, 'baton_ipam_pool_addresses_in_use', { pool: 'metered' })) === 1 ? true : undefined),
        { timeoutMs: 10_000 },
      );
      assert.equal(await metricValue(controller, 'baton_ipam_pool_addresses', { pool: 'metered' }), 6);
      assert.equal(await metricValue(controller, 'baton_ipam_allocations_total', { pool: 'metered' }), 1);
      await createService('metered', 'lost', { annotations: { 'eip.openelb.kubesphere.io/v1alpha2': 'no-such-pool' } });
      await waitFor(
        'a failure counted by reason',
        async () =>
          (await metricValue(controller, 'baton_ipam_allocation_failures_total', { reason: 'PoolNotFound' })) >= 1 ? true : undefined,
        { timeoutMs: 10_000 },
      );
      const patches = await metricValue(controller, 'baton_k8s_api_requests_total', { verb: 'patch' });
      assert.ok(patches > 0, `API writes are counted by verb (patch: ${patches})`);
      assert.equal(await metricValue(controller, 'baton_leader'), 1);
      assert.equal((await fetch(`${controller.metricsUrl}/healthz`)).status, 200);
      assert.equal((await fetch(`${controller.metricsUrl}/readyz`)).status, 200);
      await deleteNamespace('metered');
      await deleteEip('metered');
    });
  });
});
