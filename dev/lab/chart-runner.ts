// Baton's Helm chart in the lab: install it into the lab's control plane and
// run what it deploys. There is no kubelet, so the lab plays it: it reads the
// pod template of the Deployment, DaemonSet or Job the chart created and
// starts the same command (the image's entrypoint is `node
// dist/src/cli/main.js`) with the same arguments and environment,
// authenticated as the ServiceAccount the chart created, never as an admin.
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ApiClient } from '../../src/k8s/api-client.js';
import { type RunResult, run, waitFor } from './exec.js';
import type { Lab } from './lab.js';
import { ManagedProcess } from './managed-process.js';

export const CHART = resolve('charts/baton');
export const CLI = resolve('dist/src/cli/main.js');

export async function helm(lab: Lab, args: string[], options: { allowFailure?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
  const home = join(lab.workDir, 'helm');
  await mkdir(home, { recursive: true });
  return run(lab.toolchain.helm, [...args, `--kubeconfig=${lab.controlPlane.adminKubeconfig}`], {
    // Helm's caches and settings stay in the run's folder, not in the user's home.
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
    },
    allowFailure: options.allowFailure,
    timeoutMs: options.timeoutMs ?? 120_000,
  });
}

export interface PodSpec {
  serviceAccountName: string;
  containers: Array<{ args?: string[]; env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }> }>;
}

export async function podSpecOf(
  api: ApiClient,
  kind: 'deployments' | 'daemonsets' | 'jobs',
  namespace: string,
  name: string,
): Promise<PodSpec> {
  const group = kind === 'jobs' ? 'batch' : 'apps';
  const obj = await api.get<{ spec: { template: { spec: PodSpec } } }>(`/apis/${group}/v1/namespaces/${namespace}/${kind}/${name}`);
  return obj.spec.template.spec;
}

/** The container's arguments with $(VAR) references expanded as the kubelet would, from the pod's fieldRefs. */
export function expandedArgs(spec: PodSpec, fields: Record<string, string>): string[] {
  const container = spec.containers[0];
  const vars: Record<string, string> = {};
  for (const e of container?.env ?? []) {
    const path = e.valueFrom?.fieldRef?.fieldPath;
    const value = e.value ?? (path !== undefined ? fields[path] : undefined);
    if (value === undefined) throw new Error(`no value for env ${e.name} (fieldRef ${String(path)})`);
    vars[e.name] = value;
  }
  return (container?.args ?? []).map((a) => a.replace(/\$\(([A-Z_][A-Z0-9_]*)\)/g, (m, v: string) => vars[v] ?? m));
}

/** Starts the command a pod of `spec` would run; in a node's namespace when `node` is given (hostNetwork). */
export async function runLikePod(
  lab: Lab,
  label: string,
  spec: PodSpec,
  namespace: string,
  fields: Record<string, string>,
  options: { node?: string; replaceArgs?: Record<string, string> } = {},
): Promise<ManagedProcess> {
  const { controlPlane, lan, workDir } = lab;
  const kubeconfig = await controlPlane.serviceAccountKubeconfig(namespace, spec.serviceAccountName);
  const args = expandedArgs(spec, { 'metadata.namespace': namespace, ...fields }).map((a) => {
    const flag = a.split('=')[0] ?? a;
    const replacement = options.replaceArgs?.[flag];
    return replacement === undefined ? a : `${flag}=${replacement}`;
  });
  const argv = ['--enable-source-maps', CLI, ...args, `--kubeconfig=${kubeconfig}`];
  if (options.node !== undefined)
    return lan.spawn(lan.node(options.node), label, process.execPath, argv, { logFile: join(workDir, `${label}.log`) });
  return ManagedProcess.spawn(label, process.execPath, argv, { logFile: join(workDir, `${label}.log`) });
}

/** One installed release and the processes that stand for its pods. */
export class ChartRelease {
  readonly controllers: ManagedProcess[] = [];
  readonly speakers = new Map<string, ManagedProcess>();
  // Loopback ports for controller replicas' metrics: in the lab they share one network, not a pod each.
  private nextPort = 17_500;

  constructor(
    readonly lab: Lab,
    readonly api: ApiClient,
    readonly namespace: string,
    readonly release = 'baton',
    readonly fullname = 'baton',
  ) {}

  install(extraArgs: string[] = []): Promise<RunResult> {
    return helm(this.lab, ['install', this.release, CHART, '-n', this.namespace, '--create-namespace', ...extraArgs]);
  }

  async startControllers(replicas: number): Promise<void> {
    const spec = await podSpecOf(this.api, 'deployments', this.namespace, `${this.fullname}-controller`);
    for (let i = 0; i < replicas; i++) {
      const port = this.nextPort++;
      const proc = await runLikePod(
        this.lab,
        `${this.release}-controller-${i}`,
        spec,
        this.namespace,
        { 'metadata.name': `${this.fullname}-controller-${i}` },
        {
          replaceArgs: { '--metrics-address': `127.0.0.1:${port}` },
        },
      );
      this.controllers.push(proc);
      await waitFor(
        'the controller to be ready',
        async () => {
          proc.assertRunning();
          return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
    }
  }

  /** The metrics URL of a speaker (hostNetwork: the node's address, the chart's port). */
  speakerUrl(nodeName: string): string {
    return `http://${this.lab.lan.node(nodeName).ip}:7473`;
  }

  async startSpeaker(nodeName: string): Promise<ManagedProcess> {
    const spec = await podSpecOf(this.api, 'daemonsets', this.namespace, `${this.fullname}-speaker`);
    const node = this.lab.lan.node(nodeName);
    const proc = await runLikePod(
      this.lab,
      `${this.release}-speaker-${nodeName}`,
      spec,
      this.namespace,
      { 'spec.nodeName': nodeName, 'status.hostIP': node.ip },
      { node: nodeName },
    );
    this.speakers.set(nodeName, proc);
    await waitFor(
      `speaker ${nodeName} ready`,
      async () => {
        proc.assertRunning();
        return (await fetch(`${this.speakerUrl(nodeName)}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    return proc;
  }

  async startSpeakers(): Promise<void> {
    for (const n of this.lab.lan.nodes) await this.startSpeaker(n.name);
  }

  /** Starts again the controller replicas that exited (their pods' restartPolicy would). */
  async reviveControllers(): Promise<void> {
    const exited = this.controllers.filter((p) => !p.running).length;
    if (exited === 0) return;
    const alive = this.controllers.filter((p) => p.running);
    this.controllers.length = 0;
    this.controllers.push(...alive);
    await this.startControllers(exited);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.speakers.values()].map((p) => p.stop('SIGTERM')));
    await Promise.all(this.controllers.map((p) => p.stop('SIGTERM')));
    this.speakers.clear();
    this.controllers.length = 0;
  }

  /**
   * `helm uninstall`, playing the kubelet for the chart's post-delete Job:
   * run its command as its ServiceAccount, then mark it Complete so Helm goes on.
   */
  async uninstall(): Promise<{ cleanupLog: string }> {
    const uninstalling = helm(this.lab, ['uninstall', this.release, '-n', this.namespace, '--wait', '--timeout=120s'], {
      timeoutMs: 180_000,
    });
    const jobName = `${this.fullname}-cleanup`;
    const jobPath = `/apis/batch/v1/namespaces/${this.namespace}/jobs/${jobName}`;
    await waitFor(
      `the ${jobName} hook Job`,
      async () => ((await this.api.get(jobPath).catch(() => undefined)) !== undefined ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const spec = await podSpecOf(this.api, 'jobs', this.namespace, jobName);
    const proc = await runLikePod(this.lab, `${this.release}-cleanup`, spec, this.namespace, { 'metadata.name': `${jobName}-pod` });
    const exit = await proc.waitForExit();
    if (exit.code !== 0) throw new Error(`cleanup hook failed (${String(exit.code)}); see ${proc.logFile}`);
    const t = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const done = { lastProbeTime: t, lastTransitionTime: t, reason: 'CompletionsReached', message: 'run by the Baton lab' };
    await this.api.patch(`${jobPath}/status`, {
      status: {
        startTime: t,
        completionTime: t,
        succeeded: 1,
        conditions: [
          { type: 'SuccessCriteriaMet', status: 'True', ...done },
          { type: 'Complete', status: 'True', ...done },
        ],
      },
    });
    await uninstalling;
    return { cleanupLog: await readFile(proc.logFile, 'utf8') };
  }
}

export interface AuditUse {
  verb: string;
  group: string;
  resource: string;
  code: number;
}

/** Every request a user made, from the API server's audit log. */
export async function auditedRequests(lab: Lab, user: string): Promise<AuditUse[]> {
  const text = await readFile(lab.controlPlane.auditLogPath, 'utf8');
  const out: AuditUse[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.includes(user)) continue;
    const e = JSON.parse(line) as {
      auditID: string;
      user: { username: string };
      verb: string;
      objectRef?: { apiGroup?: string; resource?: string; subresource?: string };
      responseStatus?: { code?: number };
    };
    if (e.user.username !== user || e.objectRef?.resource === undefined || seen.has(e.auditID)) continue;
    seen.add(e.auditID);
    const r = e.objectRef.subresource !== undefined ? `${e.objectRef.resource}/${e.objectRef.subresource}` : e.objectRef.resource;
    out.push({ verb: e.verb, group: e.objectRef.apiGroup ?? '', resource: r, code: e.responseStatus?.code ?? 0 });
  }
  return out;
}
