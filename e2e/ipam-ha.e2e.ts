// No address ever has two owners: not after a controller is killed and
// restarted, and not when the leader of two replicas is killed with -9 in the
// middle of a burst of new Services.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../dev/lab/exec.js';
import type { List, Service } from '../src/k8s/types.js';
import { type BatonProcess, metricValue, startController } from './support/baton-process.js';
import {
  createEip,
  createNamespace,
  createService,
  deleteEip,
  deleteNamespace,
  ensureBatonBasics,
  getEip,
  ingressOf,
  kube,
} from './support/kube.js';

const POOL = { 'eip.openelb.kubesphere.io/v1alpha2': 'ha-pool' };
const V6 = { ipFamilies: ['IPv6' as const], ipFamilyPolicy: 'SingleStack' as const, annotations: POOL };

async function addresses(ns: string): Promise<Map<string, string[]>> {
  const list = await kube().api.list<List<Service>>(`/api/v1/namespaces/${ns}/services`);
  return new Map(list.items.map((s) => [s.metadata.name, ingressOf(s)]));
}

async function waitAllAddressed(ns: string, count: number, timeoutMs: number): Promise<Map<string, string[]>> {
  return waitFor(
    `${count} Services in ${ns} to have an address`,
    async () => {
      const all = await addresses(ns);
      return all.size === count && [...all.values()].every((ips) => ips.length === 1) ? all : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

function assertDistinct(all: Map<string, string[]>): void {
  const owners = new Map<string, string>();
  for (const [name, ips] of all) {
    for (const ip of ips) {
      const other = owners.get(ip);
      assert.equal(other, undefined, `${ip} given to both ${other} and ${name}`);
      owners.set(ip, name);
    }
  }
}

describe('IPAM: one owner per address, across crashes', { timeout: 600_000 }, () => {
  before(async () => {
    await ensureBatonBasics();
    await createEip('ha-pool', { address: '2001:db8:b0::/112', protocol: 'layer2', interface: 'eth0' });
  });

  after(async () => {
    // The pool's finalizer is the controller's to remove: run one for the cleanup.
    const janitor = await startController({ fastElection: true });
    try {
      await deleteEip('ha-pool');
    } finally {
      await janitor.proc.stop('SIGTERM');
    }
  });

  it('rebuilds from Service status after kill -9: addresses stay, new ones never collide', async () => {
    const ns = 'ha-restart';
    await createNamespace(ns);
    let controller: BatonProcess | undefined = await startController({ fastElection: true });
    try {
      await Promise.all(Array.from({ length: 20 }, (_, i) => createService(ns, `svc-${i}`, V6)));
      const before = await waitAllAddressed(ns, 20, 60_000);
      await controller.proc.stop('SIGKILL');
      controller = undefined;
      // Created while no controller runs; the new one must not reuse the 20 addresses.
      await Promise.all(Array.from({ length: 5 }, (_, i) => createService(ns, `late-${i}`, V6)));
      controller = await startController({ fastElection: true });
      const afterRestart = await waitAllAddressed(ns, 25, 60_000);
      for (const [name, ips] of before) assert.deepEqual(afterRestart.get(name), ips, `${name} kept its address`);
      assertDistinct(afterRestart);
    } finally {
      await deleteNamespace(ns, 120_000);
      await controller?.proc.stop('SIGTERM');
    }
  });

  it('two replicas, leader killed with -9 mid-burst: every Service gets exactly one address, none shared, none moved', async () => {
    const ns = 'ha-burst';
    await createNamespace(ns);
    const a = await startController({ fastElection: true, identity: 'replica-a' });
    const b = await startController({ fastElection: true, identity: 'replica-b' });
    const replicas = [a, b];
    try {
      const leader = await waitFor(
        'one replica to lead',
        async () => {
          const leading = [];
          for (const r of replicas) if ((await metricValue(r, 'baton_leader')) === 1) leading.push(r);
          return leading.length === 1 ? leading[0] : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      const standby = replicas.find((r) => r !== leader) as BatonProcess;

      const TOTAL = 150;
      const creating = (async () => {
        for (let i = 0; i < TOTAL; i += 10) {
          await Promise.all(Array.from({ length: Math.min(10, TOTAL - i) }, (_, j) => createService(ns, `burst-${i + j}`, V6)));
        }
      })();
      // Kill the leader once it has handed out some addresses and is busy with more.
      const seenBeforeKill = await waitFor(
        'the leader to be mid-burst',
        async () => {
          const all = await addresses(ns);
          const addressed = [...all.values()].filter((ips) => ips.length > 0).length;
          return addressed >= 30 ? all : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 50 },
      );
      await leader.proc.stop('SIGKILL');
      await creating;

      const final = await waitAllAddressed(ns, TOTAL, 90_000);
      assertDistinct(final);
      for (const [name, ips] of seenBeforeKill)
        if (ips.length > 0) assert.deepEqual(final.get(name), ips, `${name} kept the address the dead leader gave it`);
      assert.equal(await metricValue(standby, 'baton_leader'), 1, 'the standby took over');
      const eip = await waitFor(
        'the pool status to count every Service',
        async () => {
          const e = await getEip('ha-pool');
          return e?.status?.usage === TOTAL ? e : undefined;
        },
        { timeoutMs: 30_000 },
      );
      const used = eip.status?.used ?? {};
      for (const [name, ips] of final) assert.equal(used[ips[0] as string], `${ns}/${name}`);
    } finally {
      await deleteNamespace(ns, 180_000);
      for (const r of replicas) await r.proc.stop('SIGTERM');
    }
  });
});
