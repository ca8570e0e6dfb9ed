// A real Kubernetes control plane for tests: etcd, kube-apiserver and
// kube-controller-manager as local processes. RBAC on, static tokens for the
// admin and per-test users, ServiceAccount tokens signed and issued
// (TokenRequest), and only the controllers Baton's behaviour depends on:
// ServiceAccounts, EndpointSlices, aggregated ClusterRoles, namespace
// deletion and garbage collection. There is no kubelet and no node
// lifecycle controller: tests own Node objects and their conditions.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { apiRequest } from './api-request.js';
import { LabError } from './errors.js';
import { waitFor } from './exec.js';
import { writeKubeconfig } from './kubeconfig.js';
import { ManagedProcess } from './managed-process.js';
import { createPki, type Pki } from './pki.js';
import type { Toolchain } from './toolchain.js';

export interface ControlPlaneOptions {
  toolchain: Toolchain;
  /** Folder for data, certificates, kubeconfigs and logs of this run. */
  workDir: string;
  /** Address kube-apiserver listens on: the LAN's host address, so node namespaces reach it. */
  apiAddress: string;
  apiPort: number;
  /** Loopback ports for etcd's client and peer listeners. */
  etcdClientPort: number;
  etcdPeerPort: number;
  /** ClusterIP ranges (comma-separated, IPv4 first); never routed anywhere, but must not overlap the LAN. */
  serviceCidr: string;
  /** Extra static-token users (names), each gets a kubeconfig; they belong to no group but system:authenticated. */
  users: readonly string[];
  /**
   * Real nodes (kubelets) will join: the control plane then also runs the
   * scheduler and the controllers pods need (deployments, daemonsets, jobs,
   * node lifecycle...), authorizes kubelets with the Node authorizer and
   * NodeRestriction, and has identities for each node and for kube-proxy.
   */
  realNodes?: { names: readonly string[]; nodeMonitorGracePeriod: string };
  log: (line: string) => void;
}

/** Controllers the lab runs (kube-controller-manager names). Everything else stays off on purpose. */
export const LAB_CONTROLLERS = [
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'endpointslice-controller',
  'endpointslice-mirroring-controller',
  'clusterrole-aggregation-controller',
  'namespace-controller',
  'garbage-collector-controller',
] as const;

/** What pods scheduled onto real nodes need besides (a Deployment's ReplicaSets, a DaemonSet's pods, the hook Job, drain's PDBs...). */
export const REAL_NODE_CONTROLLERS = [
  'deployment-controller',
  'replicaset-controller',
  'daemonset-controller',
  'job-controller',
  'disruption-controller',
  'pod-garbage-collector-controller',
  'node-lifecycle-controller',
  'taint-eviction-controller',
  'ttl-after-finished-controller',
] as const;

/** The identity kube-proxy uses (bound to system:node-proxier by the default RBAC). */
export const KUBE_PROXY_USER = 'system:kube-proxy';
const SCHEDULER_USER = 'system:kube-scheduler';
export const nodeUser = (node: string): string => `system:node:${node}`;

const ADMIN_USER = 'lab-admin';
const KCM_USER = 'system:kube-controller-manager';
// Tokens live a day: no test run lasts that long, and it is the API server's own default ceiling.
const SA_TOKEN_SECONDS = 86_400;
const READY_TIMEOUT_MS = 120_000;

export class ControlPlane {
  readonly server: string;
  readonly adminKubeconfig: string;
  readonly caCertFile: string;
  private readonly opts: ControlPlaneOptions;
  private readonly pki: Pki;
  private readonly tokens: Map<string, string>;
  private readonly ca: Buffer;
  private etcd: ManagedProcess | undefined;
  private apiserver: ManagedProcess | undefined;
  private kcm: ManagedProcess | undefined;
  private scheduler: ManagedProcess | undefined;
  private readonly dirs: { logs: string; kubeconfigs: string; etcdData: string; pki: string };

  private constructor(opts: ControlPlaneOptions, pki: Pki, tokens: Map<string, string>, ca: Buffer, dirs: ControlPlane['dirs']) {
    this.opts = opts;
    this.pki = pki;
    this.tokens = tokens;
    this.ca = ca;
    this.dirs = dirs;
    this.server = `https://${opts.apiAddress}:${opts.apiPort}`;
    this.caCertFile = pki.caCert;
    this.adminKubeconfig = join(dirs.kubeconfigs, `${ADMIN_USER}.kubeconfig`);
  }

  static async start(opts: ControlPlaneOptions): Promise<ControlPlane> {
    const started = Date.now();
    const dirs = {
      logs: join(opts.workDir, 'logs'),
      kubeconfigs: join(opts.workDir, 'kubeconfigs'),
      etcdData: join(opts.workDir, 'etcd'),
      pki: join(opts.workDir, 'pki'),
    };
    for (const d of Object.values(dirs)) await mkdir(d, { recursive: true, mode: 0o700 });
    const serviceIp = firstServiceIp(opts.serviceCidr.split(',')[0] ?? '');
    const pki = await createPki({
      dir: dirs.pki,
      ipSans: [opts.apiAddress, '127.0.0.1', serviceIp],
      dnsSans: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    });
    const tokens = new Map<string, string>();
    const nodeUsers = opts.realNodes === undefined ? [] : [...opts.realNodes.names.map(nodeUser), KUBE_PROXY_USER, SCHEDULER_USER];
    for (const user of [ADMIN_USER, KCM_USER, ...opts.users, ...nodeUsers]) tokens.set(user, randomBytes(24).toString('hex'));
    const ca = await readFile(pki.caCert);
    const cp = new ControlPlane(opts, pki, tokens, ca, dirs);
    await cp.writeTokenFile();
    // Metadata (who, verb, resource, response code) of every request once it completed; no bodies.
    await writeFile(
      join(opts.workDir, 'audit-policy.yaml'),
      ['apiVersion: audit.k8s.io/v1', 'kind: Policy', 'omitStages: [RequestReceived]', 'rules:', '  - level: Metadata', ''].join('\n'),
    );
    for (const user of tokens.keys()) await cp.writeUserKubeconfig(user);
    try {
      await cp.startEtcd();
      await cp.startApiServer();
      await cp.startControllerManager();
      if (opts.realNodes !== undefined) await cp.startScheduler();
    } catch (err) {
      await cp.stop();
      throw err;
    }
    opts.log(`[lab] control plane ready at ${cp.server} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return cp;
  }

  /** Kubeconfig of a static-token user given in options.users (or the admin). */
  kubeconfigFor(user: string): string {
    if (!this.tokens.has(user))
      throw new LabError('LAB_NOT_STARTED', `no static identity ${user}; declare it in ControlPlaneOptions.users`);
    return join(this.dirs.kubeconfigs, `${user.replaceAll(':', '_')}.kubeconfig`);
  }

  /** Issues a token for a ServiceAccount through TokenRequest and writes a kubeconfig that uses it. */
  async serviceAccountKubeconfig(namespace: string, name: string): Promise<string> {
    const res = await this.adminRequest('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: SA_TOKEN_SECONDS },
    });
    if (res.status !== 201) {
      throw new LabError('LAB_COMMAND_FAILED', `TokenRequest for ${namespace}/${name}: HTTP ${res.status}: ${res.body}`);
    }
    const token = (JSON.parse(res.body) as { status: { token: string } }).status.token;
    return writeKubeconfig(join(this.dirs.kubeconfigs, `sa-${namespace}-${name}.kubeconfig`), {
      server: this.server,
      caCertFile: this.pki.caCert,
      user: `system:serviceaccount:${namespace}:${name}`,
      token,
      namespace,
    });
  }

  /** A request as the admin, for the lab's own probes and setup. */
  adminRequest(method: string, path: string, body?: unknown): ReturnType<typeof apiRequest> {
    return apiRequest(this.server, this.ca, this.tokens.get(ADMIN_USER) as string, method, path, body);
  }

  get apiServerRunning(): boolean {
    return this.apiserver?.running === true;
  }

  /** kube-apiserver's pid, for benchmarks that read its CPU time. */
  get apiServerPid(): number | undefined {
    return this.apiserver?.running === true ? this.apiserver.pid : undefined;
  }

  /** etcd's client URL (loopback), for benchmarks that read its revision. */
  get etcdUrl(): string {
    return `http://127.0.0.1:${this.opts.etcdClientPort}`;
  }

  /** Stops kube-apiserver (SIGTERM, as an orderly restart would). etcd and the controller manager keep running. */
  async stopApiServer(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.apiserver?.stop(signal);
    this.apiserver = undefined;
  }

  async startApiServer(): Promise<void> {
    if (this.apiserver?.running === true) return;
    const o = this.opts;
    this.apiserver = ManagedProcess.spawn(
      'kube-apiserver',
      o.toolchain.kubeApiserver,
      [
        `--etcd-servers=http://127.0.0.1:${o.etcdClientPort}`,
        `--bind-address=${o.apiAddress}`,
        `--advertise-address=${o.apiAddress}`,
        `--secure-port=${o.apiPort}`,
        `--tls-cert-file=${this.pki.servingCert}`,
        `--tls-private-key-file=${this.pki.servingKey}`,
        `--client-ca-file=${this.pki.caCert}`,
        `--token-auth-file=${join(this.opts.workDir, 'tokens.csv')}`,
        ...(o.realNodes === undefined
          ? ['--authorization-mode=RBAC']
          : [
              '--authorization-mode=Node,RBAC',
              '--enable-admission-plugins=NodeRestriction',
              // `kubectl logs` and friends: the API server calls kubelets with a client certificate of the lab's CA.
              `--kubelet-client-certificate=${this.pki.kubeletClientCert}`,
              `--kubelet-client-key=${this.pki.kubeletClientKey}`,
              '--kubelet-preferred-address-types=InternalIP',
            ]),
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${this.pki.serviceAccountPub}`,
        `--service-account-signing-key-file=${this.pki.serviceAccountKey}`,
        '--api-audiences=https://kubernetes.default.svc.cluster.local',
        `--service-cluster-ip-range=${o.serviceCidr}`,
        '--allow-privileged=true',
        '--profiling=false',
        // Who did what: the chart's tests prove from this log that each RBAC rule is used, none missing.
        `--audit-policy-file=${join(this.opts.workDir, 'audit-policy.yaml')}`,
        `--audit-log-path=${this.auditLogPath}`,
        '--audit-log-format=json',
        '--audit-log-maxsize=0',
        '--v=1',
      ],
      { logFile: join(this.dirs.logs, 'kube-apiserver.log') },
    );
    const proc = this.apiserver;
    await waitFor(
      'kube-apiserver /readyz',
      async () => {
        proc.assertRunning();
        const res = await this.adminRequest('GET', '/readyz');
        return res.status === 200 ? true : undefined;
      },
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 250 },
    ).catch((err: unknown) => {
      throw withLogHint(err, proc.logFile);
    });
  }

  async restartApiServer(): Promise<void> {
    await this.stopApiServer();
    await this.startApiServer();
  }

  /**
   * Restarts kube-controller-manager. After a long API server outage its
   * informers back off (client-go: up to 30 s, doubled by jitter) and its
   * namespace controller acts only a minute or more after the server is back;
   * a test that stopped the server restarts it so the tests after it do not
   * wait on that. Baton itself never depends on the controller manager.
   */
  async restartControllerManager(): Promise<void> {
    await this.kcm?.stop('SIGTERM', 5_000);
    await this.startControllerManager();
  }

  /** Stops everything, newest first. Safe to call twice and after a failed start. */
  async stop(): Promise<void> {
    await this.scheduler?.stop('SIGTERM', 5_000);
    await this.kcm?.stop('SIGTERM', 5_000);
    await this.apiserver?.stop('SIGTERM', 10_000);
    await this.etcd?.stop('SIGTERM', 5_000);
    this.scheduler = this.kcm = this.apiserver = this.etcd = undefined;
  }

  /** The API server's audit log: one JSON event per request, at Metadata level. */
  get auditLogPath(): string {
    return join(this.dirs.logs, 'audit.log');
  }

  /**
   * Signals etcd: SIGSTOP freezes it (every write through the API server
   * hangs, open watches stay open and go quiet, as in an etcd leader
   * election or a stalled disk), SIGCONT lets it go on. Returns etcd's
   * pid, so the caller can check its state (schedulingState).
   */
  signalEtcd(sig: 'SIGSTOP' | 'SIGCONT'): number {
    const pid = this.etcd?.running === true ? this.etcd.pid : undefined;
    if (pid === undefined) throw new LabError('LAB_NOT_STARTED', 'etcd is not running');
    process.kill(pid, sig);
    return pid;
  }

  /** PIDs of the running control-plane processes, for leak checks. */
  pids(): number[] {
    return [this.etcd, this.apiserver, this.kcm, this.scheduler].flatMap((p) =>
      p?.running === true && p.pid !== undefined ? [p.pid] : [],
    );
  }

  private async startEtcd(): Promise<void> {
    const o = this.opts;
    const client = `http://127.0.0.1:${o.etcdClientPort}`;
    const peer = `http://127.0.0.1:${o.etcdPeerPort}`;
    this.etcd = ManagedProcess.spawn(
      'etcd',
      o.toolchain.etcd,
      [
        '--name=lab',
        `--data-dir=${this.dirs.etcdData}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=lab=${peer}`,
        // The data is thrown away after the run; fsync only slows every write on a shared disk.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      { logFile: join(this.dirs.logs, 'etcd.log') },
    );
    const proc = this.etcd;
    await waitFor(
      'etcd /health',
      async () => {
        proc.assertRunning();
        const res = await fetch(`${client}/health`);
        return res.ok ? true : undefined;
      },
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 100 },
    ).catch((err: unknown) => {
      throw withLogHint(err, proc.logFile);
    });
  }

  private async startControllerManager(): Promise<void> {
    const o = this.opts;
    const kubeconfig = this.kubeconfigFor(KCM_USER);
    this.kcm = ManagedProcess.spawn(
      'kube-controller-manager',
      o.toolchain.kubeControllerManager,
      [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        '--bind-address=127.0.0.1',
        // 0 turns its HTTPS endpoint off: nothing here scrapes it, and a fixed port could clash.
        '--secure-port=0',
        `--controllers=${[...LAB_CONTROLLERS, ...(o.realNodes === undefined ? [] : REAL_NODE_CONTROLLERS)].join(',')}`,
        ...(o.realNodes === undefined ? [] : [`--node-monitor-grace-period=${o.realNodes.nodeMonitorGracePeriod}`]),
        '--use-service-account-credentials=true',
        `--service-account-private-key-file=${this.pki.serviceAccountKey}`,
        `--root-ca-file=${this.pki.caCert}`,
        `--service-cluster-ip-range=${o.serviceCidr}`,
        '--leader-elect=false',
        '--v=1',
      ],
      { logFile: join(this.dirs.logs, 'kube-controller-manager.log') },
    );
    const proc = this.kcm;
    // The ServiceAccount controller creating "default" proves the controller manager is up and authorized.
    await waitFor(
      'kube-controller-manager to create the default ServiceAccount',
      async () => {
        proc.assertRunning();
        const res = await this.adminRequest('GET', '/api/v1/namespaces/default/serviceaccounts/default');
        return res.status === 200 ? true : undefined;
      },
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 250 },
    ).catch((err: unknown) => {
      throw withLogHint(err, proc.logFile);
    });
  }

  private async startScheduler(): Promise<void> {
    const kubeconfig = this.kubeconfigFor(SCHEDULER_USER);
    this.scheduler = ManagedProcess.spawn(
      'kube-scheduler',
      this.opts.toolchain.node.kubeScheduler,
      [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        '--bind-address=127.0.0.1',
        // 0 turns its HTTPS endpoint off, as for the controller manager.
        '--secure-port=0',
        '--leader-elect=false',
        '--v=1',
      ],
      { logFile: join(this.dirs.logs, 'kube-scheduler.log') },
    );
  }

  private async writeTokenFile(): Promise<void> {
    const rows = [...this.tokens].map(([user, token]) => {
      const groups = user === ADMIN_USER ? ',"system:masters"' : user.startsWith('system:node:') ? ',"system:nodes"' : '';
      return `${token},${user},uid-${user.replaceAll(':', '-')}${groups}`;
    });
    await writeFile(join(this.opts.workDir, 'tokens.csv'), `${rows.join('\n')}\n`, { mode: 0o600 });
  }

  private async writeUserKubeconfig(user: string): Promise<void> {
    await writeKubeconfig(this.kubeconfigFor(user), {
      server: this.server,
      caCertFile: this.pki.caCert,
      user,
      token: this.tokens.get(user) as string,
    });
  }
}

/** The API server gives the first address of the service range to the `kubernetes` Service; its certificate must name it. */
export function firstServiceIp(cidr: string): string {
  const [base] = cidr.split('/');
  const octets = (base ?? '').split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new LabError('LAB_COMMAND_FAILED', `bad service CIDR ${cidr}`);
  }
  const n = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const first = n + 1;
  return [first >>> 24, (first >>> 16) & 255, (first >>> 8) & 255, first & 255].join('.');
}

function withLogHint(err: unknown, logFile: string): unknown {
  if (err instanceof LabError && !err.message.includes(logFile)) {
    return new LabError(err.code, `${err.message} (log: ${logFile})`, { cause: err });
  }
  return err;
}
