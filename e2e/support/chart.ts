// Installing the chart into the test control plane and running what it
// deploys. There is no kubelet: a test plays it by reading the pod template
// of the Deployment, DaemonSet or Job the chart created, and starting the
// same command (the image's entrypoint is `node dist/src/cli/main.js`) with
// the same arguments and environment, authenticated as the ServiceAccount
// the chart created, not as an admin.
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ground } from '../ground/current.js';
import { run, waitFor, type RunResult } from '../ground/exec.js';
import { ManagedProcess } from '../ground/managed-process.js';
import { CLI } from './baton-process.js';
import { kube } from './kube.js';

export const CHART = resolve('charts/baton');

export async function helm(args: string[], options: { allowFailure?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
  const { workDir, toolchain, controlPlane } = ground();
  const home = join(workDir, 'helm');
  await mkdir(home, { recursive: true });
  return run(toolchain.helm, [...args, `--kubeconfig=${controlPlane.adminKubeconfig}`], {
    env: { ...process.env, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') },
    allowFailure: options.allowFailure,
    timeoutMs: options.timeoutMs ?? 120_000,
  });
}

interface PodSpec {
  serviceAccountName: string;
  containers: Array<{ args?: string[]; env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }> }>;
}

export async function podSpecOf(kind: 'deployments' | 'daemonsets' | 'jobs', namespace: string, name: string): Promise<PodSpec> {
  const group = kind === 'jobs' ? 'batch' : 'apps';
  const obj = await kube().api.get<{ spec: { template: { spec: PodSpec } } }>(`/apis/${group}/v1/namespaces/${namespace}/${kind}/${name}`);
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
export async function runLikePod(label: string, spec: PodSpec, namespace: string, fields: Record<string, string>, options: { node?: string; replaceArgs?: Record<string, string> } = {}): Promise<ManagedProcess> {
  const { controlPlane, lan, workDir } = ground();
  const kubeconfig = await controlPlane.serviceAccountKubeconfig(namespace, spec.serviceAccountName);
  const args = expandedArgs(spec, { 'metadata.namespace': namespace, ...fields }).map((a) => {
    const flag = a.split('=')[0] ?? a;
    const replacement = options.replaceArgs?.[flag];
    return replacement === undefined ? a : `${flag}=${replacement}`;
  });
  const argv = ['--enable-source-maps', CLI, ...args, `--kubeconfig=${kubeconfig}`];
  if (options.node !== undefined) {
    return lan.spawn(lan.node(options.node), label, process.execPath, argv, { logFile: join(workDir, `${label}.log`) });
  }
  return ManagedProcess.spawn(label, process.execPath, argv, { logFile: join(workDir, `${label}.log`) });
}

/**
 * `helm uninstall`, playing the kubelet for the chart's post-delete Job: run
 * its command as its ServiceAccount, then mark it Complete so Helm goes on.
 */
export async function uninstallWithHook(release: string, namespace: string, fullname = 'baton'): Promise<{ cleanupLog: string }> {
  const uninstall = helm(['uninstall', release, '-n', namespace, '--wait', '--timeout=120s'], { timeoutMs: 180_000 });
  const jobName = `${fullname}-cleanup`;
  await waitFor(`the ${jobName} hook Job`, async () => ((await kube().api.get(`/apis/batch/v1/namespaces/${namespace}/jobs/${jobName}`).catch(() => undefined)) !== undefined ? true : undefined), { timeoutMs: 60_000, intervalMs: 200 });
  const spec = await podSpecOf('jobs', namespace, jobName);
  const proc = await runLikePod(`${release}-cleanup`, spec, namespace, { 'metadata.name': `${jobName}-pod` });
  const exit = await proc.waitForExit();
  if (exit.code !== 0) throw new Error(`cleanup hook failed (${String(exit.code)}); see ${proc.logFile}`);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await kube().api.patch(`/apis/batch/v1/namespaces/${namespace}/jobs/${jobName}/status`, {
    status: {
      startTime: now,
      completionTime: now,
      succeeded: 1,
      conditions: [
        { type: 'SuccessCriteriaMet', status: 'True', lastProbeTime: now, lastTransitionTime: now, reason: 'CompletionsReached', message: 'run by the test ground' },
        { type: 'Complete', status: 'True', lastProbeTime: now, lastTransitionTime: now, reason: 'CompletionsReached', message: 'run by the test ground' },
      ],
    },
  });
  await uninstall;
  return { cleanupLog: await readFile(proc.logFile, 'utf8') };
}

export interface AuditUse {
  verb: string;
  group: string;
  resource: string;
  code: number;
}

/** Every request a user made, from the API server's audit log. */
export async function auditedRequests(user: string): Promise<AuditUse[]> {
  const text = await readFile(ground().controlPlane.auditLogPath, 'utf8');
  const out: AuditUse[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.includes(user)) continue;
    const e = JSON.parse(line) as { auditID: string; user: { username: string }; verb: string; objectRef?: { apiGroup?: string; resource?: string; subresource?: string }; responseStatus?: { code?: number } };
    if (e.user.username !== user || e.objectRef?.resource === undefined || seen.has(e.auditID)) continue;
    seen.add(e.auditID);
    const r = e.objectRef.subresource !== undefined ? `${e.objectRef.resource}/${e.objectRef.subresource}` : e.objectRef.resource;
    out.push({ verb: e.verb, group: e.objectRef.apiGroup ?? '', resource: r, code: e.responseStatus?.code ?? 0 });
  }
  return out;
}
