// The pages behind the lab's Services on real nodes: a DaemonSet of small
// web servers (one pod per node, on the pod network, port 8080 as the seed
// Service's targetPort says), answering with the name of the node that
// served, so a client can see where kube-proxy sent it. It runs Baton's own
// image (the only one the lab has besides pause) with its Node.js, as a
// non-root user with a read-only root, like any well-behaved workload.

import { hasCode } from '../../src/errors.js';
import type { ApiClient } from '../../src/k8s/api-client.js';
import { waitFor } from './exec.js';

export const WEB_PORT = 8080;

const SERVER = `
const name = process.env.NODE_NAME;
require('node:http').createServer((req, res) => { res.setHeader('connection', 'close'); res.end(name); })
  .listen(${WEB_PORT}, '::', () => console.log('serving on', name));
`;

/**
 * Creates (or keeps) the DaemonSet `name` in namespace whose pods carry
 * `labels` (the selectors of the Services it serves), and waits until a
 * pod is ready on every node.
 */
export async function ensureWebDaemonSet(
  api: ApiClient,
  namespace: string,
  name: string,
  labels: Record<string, string>,
  image: string,
  nodeCount: number,
): Promise<void> {
  const body = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, labels },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          // Quick to replace: these pods hold no state.
          terminationGracePeriodSeconds: 1,
          securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'web',
              image,
              imagePullPolicy: 'IfNotPresent',
              command: ['node', '-e', SERVER],
              env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
              ports: [{ name: 'http', containerPort: WEB_PORT }],
              readinessProbe: { tcpSocket: { port: WEB_PORT }, periodSeconds: 1 },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              resources: { requests: { cpu: '5m', memory: '32Mi' }, limits: { memory: '96Mi' } },
            },
          ],
        },
      },
    },
  };
  await api.create(`/apis/apps/v1/namespaces/${namespace}/daemonsets`, body).catch((err: unknown) => {
    if (!hasCode(err, 'K8S_ALREADY_EXISTS')) throw err;
  });
  await waitFor(
    `web pods ready on ${nodeCount} nodes (${namespace}/${name})`,
    async () => {
      const ds = await api.get<{ status?: { numberReady?: number } }>(`/apis/apps/v1/namespaces/${namespace}/daemonsets/${name}`);
      return (ds.status?.numberReady ?? 0) >= nodeCount ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}
