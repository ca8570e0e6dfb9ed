// `make demo` until Baton's own demo lands (issue: chaos and demo): brings
// up the local control plane and LAN that Baton runs on, shows what is
// there, and tears it all down again.
import { arping } from './arp-client.js';
import { Ground } from './ground.js';

const ground = await Ground.start({ log: (l) => console.log(l) });
let failed = false;
try {
  const { lan, controlPlane, toolchain } = ground;
  console.log(`\nControl plane: ${controlPlane.server} (Kubernetes ${toolchain.versions.kubernetes}, etcd ${toolchain.versions.etcd}); helm ${toolchain.versions.helm}`);
  console.log(`Admin kubeconfig (valid while this runs): ${controlPlane.adminKubeconfig}`);
  console.log(`LAN ${lan.bridge}: client ${lan.client.ip} (${lan.client.mac})`);
  for (const node of lan.nodes) {
    const res = await arping(lan.client, node.ip, { seconds: 1 });
    console.log(`  ${node.name.padEnd(8)} ${node.ip.padEnd(12)} answered ARP from ${res.macs.join(', ') || 'nobody'}`);
  }
  console.log('\nBaton itself (controller, speakers, failover) is not built yet; this demo grows with it.');
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await ground.stop();
}
process.exit(failed ? 1 : 0);
