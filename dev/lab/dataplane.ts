// The data plane each node would have from kube-proxy: traffic to an
// external IP is accepted locally (DNAT to the node's own address, so the
// kernel never answers ARP or NDP for the external IP itself), and a small server
// answers with the node's name, so the client can see who serves it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runInNetns, waitFor } from './exec.js';
import type { Lan } from './lan.js';
import type { ManagedProcess } from './managed-process.js';
import { tcpProbe } from './netns-probe.js';

/** External IPs of the speaker tests all fall in here (192.0.2.192/26 of the lab LAN). */
export const EXTERNAL_RANGE = '192.0.2.192/26';
/**
 * A second range of external IPs off the LAN's subnet (the fault tests' pool): served by the same data plane,
 * and on-link for the client (a route to it through its LAN interface), so the client asks for them by ARP
 * exactly as for addresses of its own subnet.
 */
export const OFF_LAN_RANGE = '198.51.100.0/24';
export const EXTERNAL_RANGES = [EXTERNAL_RANGE, OFF_LAN_RANGE] as const;
/**
 * External IPv6 addresses of the tests: a /64 of their own inside the
 * documentation prefix, next to the LAN's 2001:db8:ba70::/64 ("e" for
 * external), on-link for the client as OFF_LAN_RANGE is, so the client asks
 * for them by Neighbour Solicitation.
 */
export const EXTERNAL_RANGE6 = '2001:db8:ba70:e::/64';
export const SERVICE_PORT = 80;

const SERVER = `
const name = process.argv[1];
require('node:http').createServer((req, res) => { res.setHeader('connection', 'close'); res.end(name); })
  .listen(${SERVICE_PORT}, '::', () => console.log('serving'));
`;

/** The page server of one node (started again after a simulated crash). */
export function startServer(lan: Lan, nodeName: string): ManagedProcess {
  const node = lan.node(nodeName);
  return lan.spawn(node, `http-${Date.now()}`, process.execPath, ['-e', SERVER, node.name]);
}

const started = new WeakMap<Lan, Map<string, ManagedProcess>>();

/**
 * The client reaches the external ranges off its own subnet (OFF_LAN_RANGE,
 * EXTERNAL_RANGE6) on its LAN interface, so it asks for them by ARP or NS
 * as for its own subnet's addresses.
 */
export async function routeExternalRanges(lan: Lan): Promise<void> {
  await runInNetns(lan.client.netns, 'ip', ['route', 'replace', OFF_LAN_RANGE, 'dev', lan.client.iface, 'scope', 'link']);
  await runInNetns(lan.client.netns, 'ip', ['-6', 'route', 'replace', EXTERNAL_RANGE6, 'dev', lan.client.iface]);
}

/** Sets up every node's data plane once per LAN; later calls return the running servers. */
export async function startDataPlane(lan: Lan, workDir: string): Promise<Map<string, ManagedProcess>> {
  const running = started.get(lan);
  if (running !== undefined && [...running.values()].every((p) => p.running)) return running;
  const servers = new Map<string, ManagedProcess>();
  started.set(lan, servers);
  for (const node of lan.nodes) {
    const script = join(workDir, `dataplane-${node.name}.nft`);
    await writeFile(
      script,
      [
        'table ip baton_dataplane {',
        '  chain prerouting {',
        '    type nat hook prerouting priority -100; policy accept;',
        `    ip daddr { ${EXTERNAL_RANGES.join(', ')} } tcp dport ${SERVICE_PORT} dnat to ${node.ip}`,
        '  }',
        '}',
        // The same for IPv6: the node's kernel never owns an external address, so it answers no NS for one.
        'table ip6 baton_dataplane6 {',
        '  chain prerouting {',
        '    type nat hook prerouting priority -100; policy accept;',
        `    ip6 daddr ${EXTERNAL_RANGE6} tcp dport ${SERVICE_PORT} dnat to ${node.ip6}`,
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    await runInNetns(node.netns, 'nft', ['-f', script]);
    servers.set(node.name, startServer(lan, node.name));
  }
  await routeExternalRanges(lan);
  for (const node of lan.nodes) {
    await waitFor(
      `the data plane server on ${node.name}`,
      async () => ((await tcpProbe(lan.client, node.ip, SERVICE_PORT, 1_000)) === 'connected' ? true : undefined),
      { timeoutMs: 10_000 },
    );
  }
  return servers;
}
