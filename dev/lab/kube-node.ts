// One real Kubernetes node of the lab: its own containerd (with runc and
// CNI), kubelet and kube-proxy, all inside the node's network namespace, so
// a hostNetwork pod sees the node's eth0 exactly as on a machine. They are
// started with `nsenter --net` (not `ip netns exec`, which would give each
// its own mount namespace and hide the kubelet's volume mounts from
// containerd). A crash is real: every process of the node, its pods' too,
// killed with -9; a restart brings containerd and the kubelet back, and the
// kubelet brings its pods back.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from './errors.js';
import { run, waitFor } from './exec.js';
import { cniConfig, containerdConfig, kubeletConfig, kubeProxyConfig, type NodeLayout, nodePaths } from './kube-node-config.js';
import { ManagedProcess } from './managed-process.js';
import { unmountUnder } from './mounts.js';
import { createCgroupRoot, killProcessesIn, removeCgroupRoot } from './node-cgroups.js';
import type { NodeToolchain } from './node-toolchain.js';
import { PAUSE_IMAGE } from './node-toolchain.js';
import { ownedProcesses } from './run-lock.js';

export interface KubeNodeOptions {
  layout: NodeLayout;
  netns: string;
  tools: NodeToolchain;
  /** Kubeconfigs of the node's identities (system:node:<name> in system:nodes, and kube-proxy's). */
  kubeletKubeconfig: string;
  kubeProxyKubeconfig: string;
  /** OCI archives to import into the node's image store before the kubelet starts (IfNotPresent finds them). */
  images: readonly string[];
  nodeLeaseSeconds: number;
}

const READY_TIMEOUT_MS = 60_000;

export class KubeNode {
  private containerd: ManagedProcess | undefined;
  private kubelet: ManagedProcess | undefined;
  private kubeProxy: ManagedProcess | undefined;
  private readonly paths: ReturnType<typeof nodePaths>;
  private readonly cgroup: string;

  constructor(private readonly o: KubeNodeOptions) {
    this.paths = nodePaths(o.layout.dir);
    this.cgroup = o.layout.cgroupRoot.replace(/^\//, '');
  }

  get name(): string {
    return this.o.layout.name;
  }

  /** Writes the node's configuration, makes its cgroup root, starts containerd, imports the images, starts the kubelet and kube-proxy. */
  async start(): Promise<void> {
    const { layout, tools } = this.o;
    const p = this.paths;
    for (const d of [p.logs, p.cniConfDir, p.cniDataDir, p.kubeletRoot, p.kubeletCerts, p.podLogs, p.runcRoot])
      await mkdir(d, { recursive: true });
    await writeFile(
      p.containerdConfig,
      containerdConfig(layout, { runc: tools.runc, cniBinDir: tools.cniBinDir, pauseImage: PAUSE_IMAGE }),
    );
    await writeFile(join(p.cniConfDir, '10-baton-lab.conflist'), cniConfig(layout));
    await writeFile(p.kubeletConfig, kubeletConfig(layout, { nodeLeaseSeconds: this.o.nodeLeaseSeconds }));
    await writeFile(p.kubeProxyConfig, kubeProxyConfig(layout, this.o.kubeProxyKubeconfig));
    // No name server: nothing in the lab resolves names, and a pod must never reach the machine's resolver.
    await writeFile(p.resolvConf, '');
    await createCgroupRoot(this.cgroup);
    // Nodes route pods (bridge to eth0, other nodes' pod ranges).
    await run('ip', ['netns', 'exec', this.o.netns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    await this.startContainerd();
    for (const image of this.o.images) await this.importImage(image);
    this.startKubelet();
    this.startKubeProxy();
  }

  /** The node comes back after a crash: containerd, kubelet and kube-proxy again (the kubelet restarts its pods). */
  async restart(): Promise<void> {
    await this.startContainerd();
    this.startKubelet();
    this.startKubeProxy();
  }

  /**
   * Kills everything of the node with SIGKILL at once: kubelet, kube-proxy,
   * containerd, the shims and every pod's processes. The node's namespace,
   * addresses and rules stay, as a powered-off machine's disk does.
   */
  async crash(): Promise<void> {
    for (const proc of [this.kubelet, this.kubeProxy, this.containerd]) proc?.signal('SIGKILL');
    await killShimsOf(this.o.layout.dir);
    await killProcessesIn(this.cgroup);
    await Promise.all([this.kubelet, this.kubeProxy, this.containerd].map((p) => p?.waitForExit()));
  }

  /** Stops the node for good and removes what it made: pods, shims, mounts, cgroups. */
  async destroy(): Promise<void> {
    await this.kubelet?.stop('SIGTERM', 5_000);
    await this.kubeProxy?.stop('SIGTERM', 5_000);
    if (this.containerd?.running === true) {
      // Sandboxes first, through the runtime, so containerd tears down their networks and mounts itself.
      await run(this.o.tools.crictl, ['--runtime-endpoint', `unix://${this.paths.containerdSocket}`, '--timeout', '20s', 'rmp', '-af'], {
        allowFailure: true,
        timeoutMs: 60_000,
      }).catch(() => undefined);
    }
    await this.containerd?.stop('SIGTERM', 5_000);
    await killShimsOf(this.o.layout.dir);
    await killProcessesIn(this.cgroup);
    await unmountUnder(this.o.layout.dir);
    await removeCgroupRoot(this.cgroup);
  }

  /** Processes of the node software itself (not pods): for the leak check. */
  pids(): number[] {
    return [this.containerd, this.kubelet, this.kubeProxy].flatMap((p) => (p?.running === true && p.pid !== undefined ? [p.pid] : []));
  }

  async crictl(args: readonly string[]): Promise<string> {
    return (await run(this.o.tools.crictl, ['--runtime-endpoint', `unix://${this.paths.containerdSocket}`, ...args])).stdout;
  }

  /** The host PID of a running container of a pod on this node (to signal it, or read its /proc status). */
  async containerPid(podName: string, container: string): Promise<number> {
    const list = JSON.parse(await this.crictl(['ps', '--name', `^${container}$`, '-o', 'json'])) as {
      containers: Array<{ id: string; labels: Record<string, string> }>;
    };
    const c = list.containers.find((x) => x.labels['io.kubernetes.pod.name'] === podName);
    if (c === undefined) throw new LabError('LAB_NOT_STARTED', `no running container ${container} of pod ${podName} on ${this.name}`);
    const info = JSON.parse(await this.crictl(['inspect', c.id])) as { info?: { pid?: number } };
    const pid = info.info?.pid;
    if (pid === undefined || pid <= 0) throw new LabError('LAB_NOT_STARTED', `container ${c.id} of ${podName} has no pid`);
    return pid;
  }

  private async startContainerd(): Promise<void> {
    const { tools } = this.o;
    this.containerd = this.spawn('containerd', tools.containerd, ['--config', this.paths.containerdConfig], {
      // containerd finds its shim on PATH.
      PATH: `${tools.shimDir}:${process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
    });
    const proc = this.containerd;
    await waitFor(
      `containerd of ${this.name}`,
      async () => {
        proc.assertRunning();
        const r = await run(tools.ctr, ['--address', this.paths.containerdSocket, 'version'], { allowFailure: true, timeoutMs: 5_000 });
        return r.exitCode === 0 ? true : undefined;
      },
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 200 },
    );
  }

  private async importImage(archive: string): Promise<void> {
    if (!existsSync(archive)) throw new LabError('LAB_NOT_STARTED', `image archive ${archive} is missing (make image builds it)`);
    await run(this.o.tools.ctr, ['--address', this.paths.containerdSocket, '-n', 'k8s.io', 'images', 'import', '--local', archive], {
      timeoutMs: 5 * 60_000,
    });
  }

  private startKubelet(): void {
    const { layout } = this.o;
    this.kubelet = this.spawn('kubelet', this.o.tools.kubelet, [
      `--config=${this.paths.kubeletConfig}`,
      `--kubeconfig=${this.o.kubeletKubeconfig}`,
      `--root-dir=${this.paths.kubeletRoot}`,
      `--cert-dir=${this.paths.kubeletCerts}`,
      `--hostname-override=${layout.name}`,
      `--node-ip=${layout.ip},${layout.ip6}`,
      '--v=1',
    ]);
  }

  private startKubeProxy(): void {
    this.kubeProxy = this.spawn('kube-proxy', this.o.tools.kubeProxy, [`--config=${this.paths.kubeProxyConfig}`, '--v=1']);
  }

  private spawn(what: string, binary: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ManagedProcess {
    return ManagedProcess.spawn(`${this.name}/${what}`, 'nsenter', [`--net=/run/netns/${this.o.netns}`, '--', binary, ...args], {
      logFile: join(this.paths.logs, `${what}.log`),
      env: { ...process.env, ...env },
    });
  }

  /** The node's own log of one of its components (for a failing test's message). */
  async logTail(what: 'containerd' | 'kubelet' | 'kube-proxy', lines = 30): Promise<string> {
    const text = await readFile(join(this.paths.logs, `${what}.log`), 'utf8').catch(() => '');
    return text.split('\n').slice(-lines).join('\n');
  }
}

/** containerd's shims re-parent to PID 1 and outlive containerd: found by the socket address in their command line. */
export async function killShimsOf(dir: string): Promise<void> {
  for (const p of await ownedProcesses()) {
    if (!p.cmdline.includes('containerd-shim') || !p.cmdline.includes(dir)) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}
