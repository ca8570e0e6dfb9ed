// The whole test lab of one run: toolchain, LAN, control plane, made in
// that order (the API server listens on the LAN's host address) and torn
// down in reverse, also after a failure. It runs inside the lab namespace
// that launch.ts made (and whose lock it holds and whose leftovers it sweeps).
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../src/k8s/api-client.js';
import { loadApiAccess } from '../../src/k8s/kubeconfig.js';
import { ControlPlane, KUBE_PROXY_USER, nodeUser } from './control-plane.js';
import { assertInsideLab } from './lab-netns.js';
import { Lan } from './lan.js';
import { ManagedProcess } from './managed-process.js';
import { unmountUnder } from './mounts.js';
import { RUN_DIR_PREFIX } from './owned-names.js';
import { NODE_MONITOR_GRACE_PERIOD, RealNodes } from './real-nodes.js';
import { ensureToolchain, type Toolchain } from './toolchain.js';

export interface LabOptions {
  nodeCount?: number;
  /** Static-token users beyond the admin, each with a kubeconfig. */
  users?: readonly string[];
  log?: (line: string) => void;
  /**
   * Real nodes: containerd, kubelet and kube-proxy in every node namespace
   * (real-nodes.ts), with these OCI archives imported into each node's image
   * store (Baton's image; the pause image is added). Without it the lab has
   * no kubelet and tests play the kubelet's part themselves.
   */
  realNodes?: { images: readonly string[] };
  /** Where to copy the run's logs if the lab fails to come up. */
  keepLogsIn?: string;
}

/**
 * Copies a run's logs for a post-mortem: the control plane's, the
 * processes', the captures; of a real node only its logs, its pods' logs
 * and its configuration (not its images, root filesystems or secrets).
 */
async function keepLogs(workDir: string, dest: string, log: (line: string) => void): Promise<void> {
  const keep = (src: string): boolean => {
    if (src.includes('/etcd') || src.includes('/pki') || src.includes('/kubeconfigs') || src.endsWith('tokens.csv')) return false;
    const inNode = /\/nodes\/[^/]+\/(.*)$/.exec(src);
    if (inNode === null) return true;
    const rest = inNode[1] ?? '';
    return rest.startsWith('logs') || rest.startsWith('pod-logs') || /^[^/]+\.(toml|json)$/.test(rest) || rest === '';
  };
  await cp(workDir, dest, { recursive: true, filter: keep }).catch((err: unknown) => log(`[lab] could not keep logs: ${String(err)}`));
  log(`[lab] logs of this run kept in ${dest}`);
}

/**
 * ClusterIPs come from here, IPv4 and IPv6 (documentation prefixes), so
 * dual-stack Services can be created. Nothing routes them; they only must
 * not overlap the LAN (192.0.2.0/24).
 */
export const SERVICE_CIDR = '203.0.113.0/24,2001:db8:5ec::/112';
const API_PORT = 6443;
// Loopback ports for etcd; fixed because one lab runs per machine (see run-lock.ts).
const ETCD_CLIENT_PORT = 23790;
const ETCD_PEER_PORT = 23800;

export class Lab {
  private released = false;

  private constructor(
    readonly toolchain: Toolchain,
    readonly lan: Lan,
    readonly controlPlane: ControlPlane,
    readonly workDir: string,
    private readonly log: (line: string) => void,
    /** The real nodes, when the lab was started with realNodes. */
    readonly realNodes: RealNodes | undefined,
  ) {}

  static async start(options: LabOptions = {}): Promise<Lab> {
    const log = options.log ?? ((l: string) => console.error(l));
    const started = Date.now();
    assertInsideLab();
    const toolchain = await ensureToolchain(log);
    let workDir: string | undefined;
    let lan: Lan | undefined;
    let controlPlaneStarted: ControlPlane | undefined;
    try {
      workDir = await mkdtemp(join(tmpdir(), RUN_DIR_PREFIX));
      lan = await Lan.create({ nodeCount: options.nodeCount ?? 3, subnet: '192.0.2', workDir });
      const controlPlane = await ControlPlane.start({
        toolchain,
        workDir,
        apiAddress: lan.hostAddress,
        apiPort: API_PORT,
        etcdClientPort: ETCD_CLIENT_PORT,
        etcdPeerPort: ETCD_PEER_PORT,
        serviceCidr: SERVICE_CIDR,
        users: options.users ?? [],
        realNodes:
          options.realNodes === undefined
            ? undefined
            : { names: lan.nodes.map((n) => n.name), nodeMonitorGracePeriod: NODE_MONITOR_GRACE_PERIOD },
        log,
      });
      controlPlaneStarted = controlPlane;
      let realNodes: RealNodes | undefined;
      if (options.realNodes !== undefined) {
        const api = new ApiClient(loadApiAccess(controlPlane.adminKubeconfig));
        try {
          realNodes = await RealNodes.start({
            lan,
            workDir,
            tools: toolchain.node,
            caFile: controlPlane.caCertFile,
            api,
            kubeconfigFor: (u) => controlPlane.kubeconfigFor(u),
            kubeletUser: nodeUser,
            kubeProxyUser: KUBE_PROXY_USER,
            images: [toolchain.node.pauseArchive, ...options.realNodes.images],
            serviceCidrs: SERVICE_CIDR.split(','),
            log,
          });
        } finally {
          api.close();
        }
      }
      log(
        `[lab] up in ${((Date.now() - started) / 1000).toFixed(1)} s: kubernetes ${toolchain.versions.kubernetes}, etcd ${toolchain.versions.etcd}, helm ${toolchain.versions.helm}; ${lan.nodes.length} nodes on ${lan.bridge}`,
      );
      return new Lab(toolchain, lan, controlPlane, workDir, log, realNodes);
    } catch (err) {
      await controlPlaneStarted?.stop().catch(() => undefined);
      await lan?.destroy().catch(() => undefined);
      if (workDir !== undefined) {
        await ManagedProcess.stopAll();
        if (options.keepLogsIn !== undefined) await keepLogs(workDir, options.keepLogsIn, log);
        await unmountUnder(workDir).catch(() => undefined);
        await rm(workDir, { recursive: true, force: true });
      }
      throw err;
    }
  }

  /**
   * Tears everything down. With keepLogsIn, the run's logs (control plane,
   * speakers, captures) are copied there first, for a failed run's post-mortem.
   */
  async stop(keepLogsIn?: string): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      // Nodes first: their software runs in the LAN's namespaces, and their pods talk to the control plane.
      await this.realNodes?.destroy();
      await this.lan.destroy();
      await this.controlPlane.stop();
      // Whatever a failed set-up left behind (a controller that never became ready, outside any LAN namespace):
      // its pipes would keep the test runner alive and the suite would never exit.
      const left = await ManagedProcess.stopAll();
      if (left.length > 0) this.log(`[lab] stopped processes left running: ${left.join(', ')}`);
      if (keepLogsIn !== undefined) await keepLogs(this.workDir, keepLogsIn, this.log);
    } finally {
      await unmountUnder(this.workDir);
      await rm(this.workDir, { recursive: true, force: true });
    }
  }
}
