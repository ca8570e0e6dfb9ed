// Baton's Helm chart in the lab, installed as a user installs it: `helm
// install` into the lab's control plane, and the real nodes' kubelets run
// what it deploys from the image built from the Dockerfile (imported into
// every node, pulled IfNotPresent): the scheduler places the controller's
// pods, the DaemonSet controller the speakers', the kubelet probes them and
// runs the post-delete hook Job. Nothing here starts a Baton process itself.
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ApiClient } from '../../src/k8s/api-client.js';
import type { List } from '../../src/k8s/types.js';
import { LabError } from './errors.js';
import { type RunResult, run, waitFor } from './exec.js';
import type { Lab } from './lab.js';

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
    timeoutMs: options.timeoutMs ?? 180_000,
  });
}

/** kubectl of the lab's release, as the admin: what an operator types. */
export function kubectl(lab: Lab, args: string[], options: { allowFailure?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
  return run(lab.toolchain.node.kubectl, [`--kubeconfig=${lab.controlPlane.adminKubeconfig}`, ...args], {
    allowFailure: options.allowFailure,
    timeoutMs: options.timeoutMs ?? 180_000,
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

export interface Pod {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
  };
  spec: { nodeName?: string; containers: Array<{ name: string; image: string }> };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: Array<{ type: string; status: string }>;
    containerStatuses?: Array<{ name: string; ready: boolean; restartCount: number; imageID?: string; state?: Record<string, unknown> }>;
  };
}

export const podReady = (p: Pod): boolean =>
  p.metadata.deletionTimestamp === undefined && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

interface Workload {
  metadata: { generation?: number };
  spec: { replicas?: number };
  status?: {
    observedGeneration?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    replicas?: number;
    desiredNumberScheduled?: number;
    numberReady?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
  };
}

/** One installed release and its pods, as the cluster runs them. */
export class ChartRelease {
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

  upgrade(extraArgs: string[]): Promise<RunResult> {
    return helm(this.lab, ['upgrade', this.release, CHART, '-n', this.namespace, ...extraArgs]);
  }

  private get deploymentPath(): string {
    return `/apis/apps/v1/namespaces/${this.namespace}/deployments/${this.fullname}-controller`;
  }

  private get daemonSetPath(): string {
    return `/apis/apps/v1/namespaces/${this.namespace}/daemonsets/${this.fullname}-speaker`;
  }

  /**
   * Waits until the controller Deployment and the speaker DaemonSet are
   * rolled out: every pod of the current template scheduled, started and
   * ready by its readiness probe, as `kubectl rollout status` would say.
   */
  async waitRolledOut(timeoutMs = 180_000): Promise<void> {
    const nodes = this.lab.lan.nodes.length;
    await waitFor(
      `release ${this.release} rolled out (controller Deployment and ${nodes} speakers ready)`,
      async () => {
        const [dep, ds] = await Promise.all([this.api.get<Workload>(this.deploymentPath), this.api.get<Workload>(this.daemonSetPath)]);
        const want = dep.spec.replicas ?? 1;
        const d = dep.status ?? {};
        const s = ds.status ?? {};
        const depDone =
          d.observedGeneration === dep.metadata.generation && d.updatedReplicas === want && d.readyReplicas === want && d.replicas === want;
        const dsDone =
          s.observedGeneration === ds.metadata.generation &&
          s.desiredNumberScheduled === nodes &&
          s.updatedNumberScheduled === nodes &&
          s.numberReady === nodes;
        return depDone && dsDone ? true : undefined;
      },
      { timeoutMs, intervalMs: 500 },
    ).catch(async (err: unknown) => {
      throw new LabError('LAB_TIMEOUT', `${(err as Error).message}; pods: ${await this.describePods()}`, { cause: err });
    });
  }

  /** The component's pods, those being deleted left out (a rollout's old pods that are still terminating). */
  async pods(component: 'speaker' | 'controller' | 'cleanup'): Promise<Pod[]> {
    const list = await this.api.list<List<Pod>>(`/api/v1/namespaces/${this.namespace}/pods`, {
      labelSelector: `app.kubernetes.io/instance=${this.release},app.kubernetes.io/component=${component}`,
    });
    return list.items.filter((p) => p.metadata.deletionTimestamp === undefined);
  }

  /** The speaker pod the DaemonSet runs on a node now (the newest, if an old one is still terminating). */
  async speakerPod(node: string): Promise<Pod | undefined> {
    const pods = (await this.pods('speaker')).filter((p) => p.spec.nodeName === node && p.metadata.deletionTimestamp === undefined);
    return pods.sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''))[0];
  }

  /** Waits for a ready speaker pod on the node other than `not` (a pod replaced after a deletion or a crash). */
  async waitSpeakerReady(node: string, options: { not?: string; timeoutMs?: number } = {}): Promise<Pod> {
    return waitFor(
      `a ready speaker pod on ${node}`,
      async () => {
        const pod = await this.speakerPod(node);
        return pod !== undefined && pod.metadata.uid !== options.not && podReady(pod) ? pod : undefined;
      },
      { timeoutMs: options.timeoutMs ?? 90_000, intervalMs: 250 },
    );
  }

  /** The metrics URL of a speaker (hostNetwork: the node's address, the chart's port). */
  speakerUrl(nodeName: string): string {
    return `http://${this.lab.lan.node(nodeName).ip}:7473`;
  }

  /** Deletes a pod as `kubectl delete pod` does: its kubelet sends SIGTERM and waits the grace period. */
  async deletePod(pod: Pod, gracePeriodSeconds?: number): Promise<void> {
    await this.api.delete(
      `/api/v1/namespaces/${this.namespace}/pods/${pod.metadata.name}`,
      gracePeriodSeconds === undefined ? undefined : { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds },
    );
  }

  /** Waits until a pod is gone from the API (its kubelet confirmed the end of its containers). */
  async waitPodGone(pod: Pod, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `pod ${pod.metadata.name} to be gone`,
      async () => {
        const p = await this.api.get<Pod>(`/api/v1/namespaces/${this.namespace}/pods/${pod.metadata.name}`).catch(() => undefined);
        return p === undefined || p.metadata.uid !== pod.metadata.uid ? true : undefined;
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  /** `helm uninstall --wait`: the post-delete hook Job runs on a real node, and Helm waits for it. */
  async uninstall(): Promise<RunResult> {
    return helm(this.lab, ['uninstall', this.release, '-n', this.namespace, '--wait', '--timeout=180s'], { timeoutMs: 240_000 });
  }

  /** Uninstalls the release if it is there (a test's cleanup after a failure); never throws. */
  async uninstallIfInstalled(): Promise<void> {
    const status = await helm(this.lab, ['status', this.release, '-n', this.namespace], { allowFailure: true }).catch(() => undefined);
    if (status === undefined || status.exitCode !== 0) return;
    await this.uninstall().catch(() => undefined);
  }

  /** One line per pod of the release: where it runs and how it is, for a failing wait's message. */
  async describePods(): Promise<string> {
    const list = await this.api
      .list<List<Pod>>(`/api/v1/namespaces/${this.namespace}/pods`, { labelSelector: `app.kubernetes.io/instance=${this.release}` })
      .catch(() => ({ items: [] as Pod[] }));
    return (
      list.items
        .map(
          (p) =>
            `${p.metadata.name}@${p.spec.nodeName ?? '-'} ${p.status?.phase ?? '?'} ready=${podReady(p)} ${JSON.stringify(p.status?.containerStatuses?.map((c) => c.state) ?? [])}`,
        )
        .join('; ') || 'none'
    );
  }
}

export interface AuditUse {
  verb: string;
  group: string;
  resource: string;
  code: number;
  /** When the API server received it (epoch ms). */
  at: number;
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
      requestReceivedTimestamp?: string;
    };
    if (e.user.username !== user || e.objectRef?.resource === undefined || seen.has(e.auditID)) continue;
    seen.add(e.auditID);
    const r = e.objectRef.subresource !== undefined ? `${e.objectRef.resource}/${e.objectRef.subresource}` : e.objectRef.resource;
    out.push({
      verb: e.verb,
      group: e.objectRef.apiGroup ?? '',
      resource: r,
      code: e.responseStatus?.code ?? 0,
      at: Date.parse(e.requestReceivedTimestamp ?? '') || 0,
    });
  }
  return out;
}
