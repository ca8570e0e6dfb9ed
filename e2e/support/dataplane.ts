// The data plane each node would have from kube-proxy: traffic to an
// external IP is accepted locally (DNAT to the node's own address, so the
// kernel never answers ARP for the external IP itself), and a small server
// answers with the node's name, so the client can see who serves it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ground } from '../ground/current.js';
import { runInNetns, waitFor } from '../ground/exec.js';
import type { ManagedProcess } from '../ground/managed-process.js';
import { tcpProbe } from '../ground/netns-probe.js';

/** External IPs of the speaker tests all fall in here (192.0.2.192/26 of the lab LAN). */
export const EXTERNAL_RANGE = '192.0.2.192/26';
export const SERVICE_PORT = 80;

const SERVER = `
const name = process.argv[1];
require('node:http').createServer((req, res) => { res.setHeader('connection', 'close'); res.end(name); })
  .listen(${SERVICE_PORT}, '0.0.0.0', () => console.log('serving'));
`;

/** The page server of one node (started again after a simulated crash). */
export function startServer(nodeName: string): ManagedProcess {
  const { lan } = ground();
  const node = lan.node(nodeName);
  return lan.spawn(node, `http-${Date.now()}`, process.execPath, ['-e', SERVER, node.name]);
}

let started: Map<string, ManagedProcess> | undefined;

/** Sets up every node's data plane once per ground; later calls return the running servers. */
export async function startDataPlane(): Promise<Map<string, ManagedProcess>> {
  if (started !== undefined && [...started.values()].every((p) => p.running)) return started;
  const { lan, workDir } = ground();
  const servers = new Map<string, ManagedProcess>();
  started = servers;
  for (const node of lan.nodes) {
    const script = join(workDir, `dataplane-${node.name}.nft`);
    await writeFile(script, [
      'table ip baton_dataplane {',
      '  chain prerouting {',
      '    type nat hook prerouting priority -100; policy accept;',
      `    ip daddr ${EXTERNAL_RANGE} tcp dport ${SERVICE_PORT} dnat to ${node.ip}`,
      '  }',
      '}',
      '',
    ].join('\n'));
    await runInNetns(node.netns, 'nft', ['-f', script]);
    servers.set(node.name, startServer(node.name));
  }
  for (const node of lan.nodes) {
    await waitFor(`the data plane server on ${node.name}`, async () => ((await tcpProbe(lan.client, node.ip, SERVICE_PORT, 1_000)) === 'connected' ? true : undefined), { timeoutMs: 10_000 });
  }
  return servers;
}
