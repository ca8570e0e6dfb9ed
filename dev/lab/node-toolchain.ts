// What a real lab node runs, built like the control plane (toolchain.ts):
// kubelet, kube-proxy, kube-scheduler and kubectl from the same k8s.io/kubernetes
// wrapper module (the Go build cache already holds most of their packages),
// containerd 2.4 with its runc shim and ctr, and crictl, from their Go
// modules; plus the pause image, compiled from the release's own pause.c.
// runc and the CNI plugins come from Debian (scripts/setup.sh): runc needs
// cgo and libseccomp to build, and Debian's 1.1 speaks the same CLI to
// containerd's shim.
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from './errors.js';
import { run } from './exec.js';
import { buildWrapper, cacheRoot, type GoModuleInfo, KUBERNETES_VERSION, kubernetesWrapper, type ProgressLog } from './toolchain.js';

/** containerd release: Kubernetes 1.37's support matrix starts at 2.3/2.4 (containerd RELEASES.md). */
export const CONTAINERD_VERSION = 'v2.4.2';
/** crictl of the same minor as the kubelet (cri-tools is versioned with Kubernetes). */
export const CRICTL_VERSION = 'v1.37.0';
/**
 * The sandbox image name containerd 2.4 uses by default; the lab's own
 * build of the release's pause.c is tagged with it, so no registry is asked.
 */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10.2';
/** Where Debian's containernetworking-plugins install bridge, host-local, loopback and portmap. */
export const DEBIAN_CNI_BIN_DIR = '/usr/lib/cni';

export interface NodeToolchain {
  kubelet: string;
  kubeProxy: string;
  kubeScheduler: string;
  kubectl: string;
  containerd: string;
  /** Folder of containerd-shim-runc-v2 (containerd finds its shim on PATH). */
  shimDir: string;
  ctr: string;
  crictl: string;
  runc: string;
  cniBinDir: string;
  /** OCI archive of PAUSE_IMAGE, imported into every node's containerd. */
  pauseArchive: string;
  versions: { containerd: string; crictl: string; runc: string };
}

export async function ensureNodeToolchain(kubeModuleInfo: () => Promise<GoModuleInfo>, log: ProgressLog): Promise<NodeToolchain> {
  const kubeBin = await buildWrapper(
    kubernetesWrapper(
      `kubernetes-node-${KUBERNETES_VERSION}`,
      [
        { pkg: 'k8s.io/kubernetes/cmd/kubelet', binary: 'kubelet' },
        { pkg: 'k8s.io/kubernetes/cmd/kube-proxy', binary: 'kube-proxy' },
        { pkg: 'k8s.io/kubernetes/cmd/kube-scheduler', binary: 'kube-scheduler' },
        // What an operator drains a node with (and what the tests read pod logs through).
        { pkg: 'k8s.io/kubernetes/cmd/kubectl', binary: 'kubectl' },
      ],
      kubeModuleInfo,
    ),
    log,
  );
  const containerdBin = await buildWrapper(
    {
      id: `containerd-${CONTAINERD_VERSION}`,
      require: [['github.com/containerd/containerd/v2', CONTAINERD_VERSION]],
      replace: async () => [],
      packages: [
        { pkg: 'github.com/containerd/containerd/v2/cmd/containerd', binary: 'containerd' },
        { pkg: 'github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2', binary: 'containerd-shim-runc-v2' },
        { pkg: 'github.com/containerd/containerd/v2/cmd/ctr', binary: 'ctr' },
      ],
      ldflags: `-s -w -X github.com/containerd/containerd/v2/version.Version=${CONTAINERD_VERSION}`,
    },
    log,
  );
  const crictlBin = await buildWrapper(
    {
      id: `cri-tools-${CRICTL_VERSION}`,
      require: [['sigs.k8s.io/cri-tools', CRICTL_VERSION]],
      replace: async () => [],
      packages: [{ pkg: 'sigs.k8s.io/cri-tools/cmd/crictl', binary: 'crictl' }],
      ldflags: `-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=${CRICTL_VERSION}`,
    },
    log,
  );
  const runc = '/usr/sbin/runc';
  if (!existsSync(runc)) throw new LabError('LAB_BUILD_FAILED', `${runc} is missing: scripts/setup.sh installs Debian's runc`);
  if (!existsSync(join(DEBIAN_CNI_BIN_DIR, 'bridge')))
    throw new LabError(
      'LAB_BUILD_FAILED',
      `no CNI plugins in ${DEBIAN_CNI_BIN_DIR}: scripts/setup.sh installs containernetworking-plugins`,
    );
  const runcVersion = /runc version (\S+)/.exec((await run(runc, ['--version'])).stdout)?.[1] ?? 'unknown';
  return {
    kubelet: join(kubeBin, 'kubelet'),
    kubeProxy: join(kubeBin, 'kube-proxy'),
    kubeScheduler: join(kubeBin, 'kube-scheduler'),
    kubectl: join(kubeBin, 'kubectl'),
    containerd: join(containerdBin, 'containerd'),
    shimDir: containerdBin,
    ctr: join(containerdBin, 'ctr'),
    crictl: join(crictlBin, 'crictl'),
    runc,
    cniBinDir: DEBIAN_CNI_BIN_DIR,
    pauseArchive: await ensurePauseImage(kubeModuleInfo, log),
    versions: { containerd: CONTAINERD_VERSION, crictl: CRICTL_VERSION, runc: runcVersion },
  };
}

/**
 * The pause image as an OCI archive: the release's build/pause/linux/pause.c
 * compiled statically (as its Makefile does) into an image of that one file,
 * run as 65535 like the upstream image. Built once per machine.
 */
async function ensurePauseImage(kubeModuleInfo: () => Promise<GoModuleInfo>, log: ProgressLog): Promise<string> {
  const dir = join(cacheRoot(), 'toolchain', `pause-${KUBERNETES_VERSION}`);
  const archive = join(dir, 'pause.oci.tar');
  if (existsSync(archive)) return archive;
  log(`[toolchain] building ${PAUSE_IMAGE} from the release's pause.c`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const source = join((await kubeModuleInfo()).Dir, 'build', 'pause', 'linux', 'pause.c');
  const binary = join(dir, 'pause');
  const version = PAUSE_IMAGE.split(':')[1] ?? 'lab';
  await run('gcc', ['-Os', '-Wall', '-Werror', '-static', `-DVERSION=v${version}-baton-lab`, '-o', binary, source]);
  await run('strip', [binary]);
  const containerfile = join(dir, 'Containerfile');
  await writeFile(containerfile, ['FROM scratch', 'COPY pause /pause', 'USER 65535:65535', 'ENTRYPOINT ["/pause"]', ''].join('\n'));
  await run('buildah', ['bud', '--pull=never', '--network=none', '-t', PAUSE_IMAGE, '-f', containerfile, dir], { timeoutMs: 5 * 60_000 });
  const partial = `${archive}.partial`;
  await run('buildah', ['push', PAUSE_IMAGE, `oci-archive:${partial}:${PAUSE_IMAGE}`], { timeoutMs: 5 * 60_000 });
  await run('mv', [partial, archive]);
  return archive;
}
