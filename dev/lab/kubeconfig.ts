// Kubeconfig files for the identities of a run. Written as JSON, which every
// kubeconfig reader accepts (YAML is a superset), so no YAML writer is needed.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';

export interface KubeconfigSpec {
  server: string;
  caCertFile: string;
  user: string;
  token: string;
  namespace?: string;
}

export function renderKubeconfig(spec: KubeconfigSpec): string {
  const ca = readFileSync(spec.caCertFile).toString('base64');
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'baton-lab', cluster: { server: spec.server, 'certificate-authority-data': ca } }],
      users: [{ name: spec.user, user: { token: spec.token } }],
      contexts: [
        {
          name: spec.user,
          context: { cluster: 'baton-lab', user: spec.user, ...(spec.namespace !== undefined ? { namespace: spec.namespace } : {}) },
        },
      ],
      'current-context': spec.user,
    },
    null,
    2,
  );
}

export async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<string> {
  await writeFile(path, renderKubeconfig(spec), { mode: 0o600 });
  return path;
}
