import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { FIXED_FOLDERS } from './host-masks.js';
import {
  cniConfig,
  containerdConfig,
  kubeletConfig,
  kubeProxyConfig,
  type NodeLayout,
  nodePaths,
  shimSocketDir,
} from './kube-node-config.js';

const layout: NodeLayout = {
  name: 'node-2',
  ip: '192.0.2.12',
  ip6: '2001:db8:ba70::c',
  dir: '/tmp/baton-lab-x/nodes/node-2',
  cgroupRoot: '/baton-node-2',
  podCidr: '198.18.2.0/24',
  podCidr6: '2001:db8:ba71:2::/64',
  clusterCidrs: '198.18.0.0/16,2001:db8:ba71::/48',
  caFile: '/tmp/baton-lab-x/pki/ca.crt',
};
const binaries = { runc: '/usr/sbin/runc', cniBinDir: '/usr/lib/cni', pauseImage: 'registry.k8s.io/pause:3.10.2' };

describe('a real node’s configuration', () => {
  it('keeps every containerd path, socket and runc root under the node’s folder, NRI off, oom_score_adj clamped', () => {
    const toml = containerdConfig(layout, binaries);
    const paths = [...toml.matchAll(/"(\/[^"]+)"/g)].map((m) => m[1] as string);
    const outside = paths.filter((p) => !p.startsWith(layout.dir) && p !== binaries.runc && p !== binaries.cniBinDir);
    assert.deepEqual(outside, [shimSocketDir('node-2')], 'no path of the machine is written but the shims’ (a masked folder)');
    assert.ok(shimSocketDir('node-2').startsWith(`${FIXED_FOLDERS[0]}/`) && shimSocketDir('node-99').length <= 42);
    assert.match(toml, /^version = 4$/m);
    assert.match(toml, /^imports = \[\]$/m, 'nothing from /etc/containerd');
    assert.match(toml, /disabled_plugins = \['io\.containerd\.nri\.v1\.nri'\]/);
    assert.match(toml, /restrict_oom_score_adj = true/);
    assert.match(toml, /SystemdCgroup = false/);
    assert.match(toml, new RegExp(`address = "${nodePaths(layout.dir).containerdSocket}"`));
    assert.match(toml, /sandbox = "registry\.k8s\.io\/pause:3\.10\.2"/);
  });

  it('gives pods dual-stack addresses from the node’s own ranges, routed, not masqueraded', () => {
    const cni = JSON.parse(cniConfig(layout)) as {
      plugins: Array<{ type: string; ipMasq?: boolean; ipam?: { ranges: unknown; dataDir: string } }>;
    };
    const bridge = cni.plugins.find((p) => p.type === 'bridge');
    assert.equal(bridge?.ipMasq, false);
    assert.deepEqual(bridge?.ipam?.ranges, [[{ subnet: '198.18.2.0/24' }], [{ subnet: '2001:db8:ba71:2::/64' }]]);
    assert.ok(bridge?.ipam?.dataDir.startsWith(layout.dir));
    assert.deepEqual(
      cni.plugins.map((p) => p.type),
      ['bridge'],
      'no plugin that needs iptables',
    );
  });

  it('runs the kubelet on cgroup v1 with cgroupfs, its own cgroup root, no oom_score_adj below 0, and nothing outside its folder', () => {
    const k = parse(kubeletConfig(layout, { nodeLeaseSeconds: 40 })) as Record<string, unknown>;
    assert.equal(k['failCgroupV1'], false);
    assert.equal(k['cgroupDriver'], 'cgroupfs');
    assert.equal(k['cgroupRoot'], '/baton-node-2');
    assert.equal(k['oomScoreAdj'], 0);
    assert.equal(k['protectKernelDefaults'], false, 'the lab masks the tunables instead (host-masks.ts)');
    assert.equal(k['address'], layout.ip);
    assert.equal(k['nodeLeaseDurationSeconds'], 40);
    for (const key of ['podLogsDir', 'resolvConf', 'volumePluginDir']) assert.ok(String(k[key]).startsWith(layout.dir), key);
    assert.equal(k['containerRuntimeEndpoint'], `unix://${nodePaths(layout.dir).containerdSocket}`);
  });

  it('runs kube-proxy in nftables mode without touching conntrack settings', () => {
    const p = parse(kubeProxyConfig(layout, '/k')) as {
      mode: string;
      conntrack: Record<string, unknown>;
      hostnameOverride: string;
      clusterCIDR: string;
    };
    assert.equal(p.mode, 'nftables');
    assert.equal(p.hostnameOverride, 'node-2');
    assert.equal(p.clusterCIDR, layout.clusterCidrs);
    assert.deepEqual(p.conntrack, {
      maxPerCore: 0,
      min: 0,
      tcpEstablishedTimeout: '0s',
      tcpCloseWaitTimeout: '0s',
      udpTimeout: '0s',
      udpStreamTimeout: '0s',
    });
  });
});
