// The configuration files of one real lab node, as pure functions of its
// layout: containerd's config.toml, the CNI network of its pods, the
// kubelet's and kube-proxy's configuration. Everything a node writes lives
// under its own folder, so several nodes share one machine without
// touching each other or the machine (see ../shared/reviews/real-cluster.md,
// section 4.3, for why each setting is needed here).

export interface NodeLayout {
  /** Kubernetes node name (node-1). */
  name: string;
  /** The node's LAN addresses (hostNetwork pods see them), IPv4 and IPv6. */
  ip: string;
  ip6: string;
  /** Everything of this node: sockets, state, logs, configuration. */
  dir: string;
  /** cgroup (v1) under which the kubelet puts every pod: one per node, pre-created in every hierarchy. */
  cgroupRoot: string;
  /** This node's pod ranges, IPv4 and IPv6. */
  podCidr: string;
  podCidr6: string;
  /** The cluster's pod ranges (every node's), for kube-proxy's idea of "local" traffic. */
  clusterCidrs: string;
  /** The API server's CA (the kubelet checks client certificates and the server against it). */
  caFile: string;
}

export interface NodeBinaries {
  runc: string;
  cniBinDir: string;
  pauseImage: string;
}

export function nodePaths(dir: string) {
  return {
    containerdConfig: `${dir}/containerd.toml`,
    containerdRoot: `${dir}/containerd/root`,
    containerdState: `${dir}/containerd/state`,
    containerdSocket: `${dir}/containerd.sock`,
    runcRoot: `${dir}/runc`,
    cniConfDir: `${dir}/cni/net.d`,
    cniDataDir: `${dir}/cni/ipam`,
    kubeletConfig: `${dir}/kubelet.json`,
    kubeletRoot: `${dir}/kubelet`,
    kubeletCerts: `${dir}/kubelet-pki`,
    podLogs: `${dir}/pod-logs`,
    resolvConf: `${dir}/resolv.conf`,
    kubeProxyConfig: `${dir}/kube-proxy.json`,
    logs: `${dir}/logs`,
  } as const;
}

const toml = (s: string): string => JSON.stringify(s);

/**
 * Where the node's shims put their sockets. containerd wants it at most 42
 * characters long (a socket path has 108 bytes, and it adds a 64-digit
 * hash), so it cannot live under the run folder: it goes in
 * /run/containerd, which the lab covers with a tmpfs (host-masks.ts).
 */
export function shimSocketDir(node: string): string {
  return `/run/containerd/s-${node}`;
}

/**
 * containerd 2.4 (config version 4, as `containerd config default` prints
 * it). Its own root, state, sockets, shim sockets and runc root; no config
 * imports from /etc; NRI off (its socket path is fixed and would be
 * shared); the CRI plugin's pod network namespaces under the state folder
 * instead of the machine's /run/netns; oom_score_adj clamped (this machine
 * has no CAP_SYS_RESOURCE, so the pause container's -998 would fail).
 */
export function containerdConfig(l: NodeLayout, b: NodeBinaries): string {
  const p = nodePaths(l.dir);
  return [
    'version = 4',
    `root = ${toml(p.containerdRoot)}`,
    `state = ${toml(p.containerdState)}`,
    `temp = ${toml(`${l.dir}/containerd/tmp`)}`,
    'oom_score = 0',
    'imports = []',
    "disabled_plugins = ['io.containerd.nri.v1.nri']",
    '',
    '[debug]',
    "  level = 'info'",
    '',
    "[plugins.'io.containerd.server.v1.grpc']",
    `  address = ${toml(p.containerdSocket)}`,
    '',
    "[plugins.'io.containerd.server.v1.ttrpc']",
    `  address = ${toml(`${p.containerdSocket}.ttrpc`)}`,
    '',
    "[plugins.'io.containerd.shim.v1.manager']",
    `  socket_dir = ${toml(shimSocketDir(l.name))}`,
    '',
    "[plugins.'io.containerd.internal.v1.opt']",
    `  path = ${toml(`${l.dir}/containerd/opt`)}`,
    '',
    "[plugins.'io.containerd.cri.v1.images']",
    "  snapshotter = 'overlayfs'",
    '',
    "[plugins.'io.containerd.cri.v1.images'.pinned_images]",
    `  sandbox = ${toml(b.pauseImage)}`,
    '',
    "[plugins.'io.containerd.cri.v1.runtime']",
    '  enable_selinux = false',
    '  restrict_oom_score_adj = true',
    '  netns_mounts_under_state_dir = true',
    '  cdi_spec_dirs = []',
    '',
    "[plugins.'io.containerd.cri.v1.runtime'.containerd]",
    "  default_runtime_name = 'runc'",
    '',
    "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]",
    "  runtime_type = 'io.containerd.runc.v2'",
    '',
    "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]",
    `  BinaryName = ${toml(b.runc)}`,
    `  Root = ${toml(p.runcRoot)}`,
    '  SystemdCgroup = false',
    '',
    "[plugins.'io.containerd.cri.v1.runtime'.cni]",
    `  bin_dirs = [${toml(b.cniBinDir)}]`,
    `  conf_dir = ${toml(p.cniConfDir)}`,
    '  max_conf_num = 1',
    '',
    "[plugins.'io.containerd.grpc.v1.cri']",
    "  stream_server_address = '127.0.0.1'",
    "  stream_server_port = '0'",
    '',
  ].join('\n');
}

/**
 * The pods' network on this node: a bridge of its own inside the node's
 * namespace, dual stack from the node's pod ranges, routed (no masquerade:
 * the lab routes every node's pod ranges, as a host-gw network would).
 */
export function cniConfig(l: NodeLayout): string {
  const p = nodePaths(l.dir);
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'baton-lab-pods',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: p.cniDataDir,
            ranges: [[{ subnet: l.podCidr }], [{ subnet: l.podCidr6 }]],
            routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
          },
        },
      ],
    },
    null,
    2,
  );
}

/**
 * The kubelet: cgroup v1 allowed (failCgroupV1), cgroupfs driver, every
 * folder its own, no static pods, no DNS server (no pod here resolves
 * names), eviction and image GC thresholds out of the way (a shared
 * machine's disk use must not evict the lab's pods or delete its imported
 * images).
 */
export function kubeletConfig(l: NodeLayout, options: { nodeLeaseSeconds: number }): string {
  const p = nodePaths(l.dir);
  return JSON.stringify(
    {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      cgroupRoot: l.cgroupRoot,
      cgroupsPerQOS: true,
      // -999 needs CAP_SYS_RESOURCE, which this machine does not give.
      oomScoreAdj: 0,
      address: l.ip,
      port: 10250,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: 10248,
      authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: l.caFile } },
      authorization: { mode: 'Webhook' },
      containerRuntimeEndpoint: `unix://${p.containerdSocket}`,
      podLogsDir: p.podLogs,
      resolvConf: p.resolvConf,
      clusterDomain: 'cluster.local',
      failSwapOn: false,
      protectKernelDefaults: false,
      makeIPTablesUtilChains: false,
      serializeImagePulls: false,
      nodeLeaseDurationSeconds: options.nodeLeaseSeconds,
      evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      maxPods: 30,
      fileCheckFrequency: '0s',
      volumePluginDir: `${l.dir}/volume-plugins`,
      registerNode: true,
    },
    null,
    2,
  );
}

/**
 * kube-proxy in nftables mode (this kernel has nft nat and no IPVS). It
 * writes no conntrack sysctls from the node's namespace (maxPerCore 0 and
 * zero timeouts leave them alone), and listens on loopback only.
 */
export function kubeProxyConfig(l: NodeLayout, kubeconfig: string): string {
  return JSON.stringify(
    {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: 'nftables',
      clientConnection: { kubeconfig },
      hostnameOverride: l.name,
      bindAddress: l.ip,
      clusterCIDR: l.clusterCidrs,
      oomScoreAdj: 0,
      conntrack: {
        maxPerCore: 0,
        min: 0,
        tcpEstablishedTimeout: '0s',
        tcpCloseWaitTimeout: '0s',
        udpTimeout: '0s',
        udpStreamTimeout: '0s',
      },
      metricsBindAddress: '127.0.0.1:10249',
      healthzBindAddress: `${l.ip}:10256`,
      // Rules follow Service and EndpointSlice changes at once (the default waits up to a second between syncs).
      nftables: { syncPeriod: '30s', minSyncPeriod: '0s' },
    },
    null,
    2,
  );
}
