// What the demo and the lab's chaos runs serve: the seed manifests of
// examples/openelb-layer2 applied unchanged, plus the Eip the seed Service
// names (layer2-eip, which the seed does not define), on the lab's LAN.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { hasCode } from '../../src/errors.js';
import type { ApiClient } from '../../src/k8s/api-client.js';
import type { List, Service } from '../../src/k8s/types.js';
import { chartImageName } from '../image/build-image.js';
import { waitFor } from './exec.js';
import type { Lan } from './lan.js';
import { createManifest, readManifests } from './manifests.js';
import { tcpProbe } from './netns-probe.js';
import { ensureWebDaemonSet } from './web-daemonset.js';

export const SEED_DIR = resolve('examples/openelb-layer2');
/** The external IPs of the lab, inside the range every node's data plane accepts (192.0.2.192/26). */
export const LAB_POOL = { name: 'layer2-eip', address: '192.0.2.200-192.0.2.210' };
/** Its IPv6 counterpart, inside the data plane's 2001:db8:ba70:e::/64 (above the IPv6 tests' ::/120). */
export const LAB_POOL6 = { name: 'layer2-eip-v6', address: '2001:db8:ba70:e::100-2001:db8:ba70:e::10f' };

export async function applySeed(api: ApiClient, namespace: string, log: (line: string) => void): Promise<void> {
  await api.create('/api/v1/namespaces', { metadata: { name: namespace } }).catch((err: unknown) => {
    if (!hasCode(err, 'K8S_ALREADY_EXISTS')) throw err;
  });
  for (const file of ['eip.yaml', 'service.yaml']) {
    for (const m of await readManifests(`${SEED_DIR}/${file}`)) {
      await createManifest(api, m, namespace);
      log(`[lab] created ${m.kind} ${m.metadata.name} from examples/openelb-layer2/${file}, unchanged`);
    }
  }
}

/** The lab's pools: LAB_POOL, and with ipv6 also LAB_POOL6. */
export async function createLabPool(api: ApiClient, options: { ipv6?: boolean } = {}): Promise<void> {
  for (const pool of options.ipv6 === true ? [LAB_POOL, LAB_POOL6] : [LAB_POOL]) {
    await api.create('/apis/network.kubesphere.io/v1alpha2/eips', {
      apiVersion: 'network.kubesphere.io/v1alpha2',
      kind: 'Eip',
      metadata: { name: pool.name },
      spec: { address: pool.address, protocol: 'layer2', interface: 'eth0' },
    });
  }
}

/** The pods behind the seed Service (its selector): the lab's Services select them too, so one web DaemonSet serves them all. */
export const SEED_SELECTOR = { app: 'layer2-openelb' } as const;

/**
 * The web pages of the lab's Services: a web DaemonSet (one pod per node)
 * labelled with the seed Service's selector, running the chart's image.
 */
export async function serveLabPages(api: ApiClient, namespace: string, nodeCount: number): Promise<void> {
  const image = chartImageName(
    await readFile(resolve('charts/baton/values.yaml'), 'utf8'),
    await readFile(resolve('charts/baton/Chart.yaml'), 'utf8'),
  );
  await ensureWebDaemonSet(api, namespace, 'web', { ...SEED_SELECTOR }, image, nodeCount);
}

/** Adds another Service on a lab pool (more IPs to watch in chaos runs); IPv6: single stack, on LAB_POOL6. Its pods are the seed's. */
export async function createLabService(api: ApiClient, namespace: string, name: string, family: 'IPv4' | 'IPv6' = 'IPv4'): Promise<void> {
  const pool = family === 'IPv6' ? LAB_POOL6 : LAB_POOL;
  await api.create(`/api/v1/namespaces/${namespace}/services`, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, annotations: { 'lb.kubesphere.io/v1alpha1': 'openelb', 'eip.openelb.kubesphere.io/v1alpha2': pool.name } },
    spec: {
      type: 'LoadBalancer',
      selector: { ...SEED_SELECTOR },
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
      ...(family === 'IPv6' ? { ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack' } : {}),
    },
  });
}

/**
 * Waits until the client loads pages from every ip three times in a row:
 * the holder answers ARP or NDP, and every node's kube-proxy has the
 * address in its rules (it follows the Service's status a moment after the
 * address is given).
 */
export async function waitForPages(lan: Lan, ips: readonly string[]): Promise<void> {
  for (const ip of ips) {
    let streak = 0;
    await waitFor(
      `pages from ${ip}`,
      async () => {
        streak = (await tcpProbe(lan.client, ip, 80, 1_000)) === 'connected' ? streak + 1 : 0;
        return streak >= 3 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }
}

export async function waitForAddresses(api: ApiClient, namespace: string, count: number): Promise<Map<string, string>> {
  return waitFor(
    `${count} Service(s) in ${namespace} to get an address`,
    async () => {
      const list = await api.list<List<Service>>(`/api/v1/namespaces/${namespace}/services`);
      const out = new Map<string, string>();
      for (const s of list.items) {
        const ip = s.status?.loadBalancer?.ingress?.[0]?.ip;
        if (ip !== undefined) out.set(s.metadata.name, ip);
      }
      return out.size >= count ? out : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}
