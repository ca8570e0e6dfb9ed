// Builds the real control plane (kube-apiserver, kube-controller-manager,
// etcd) and helm from their Go modules through the module proxy, into a cache
// outside the repository that every later run and every fresh clone on this
// machine reuses. Nothing here is committed: the wrapper go.mod is generated.
//
// Why a wrapper module: k8s.io/kubernetes (and etcd's server module) points
// its sibling modules at local paths with `replace`, which `go install
// pkg@version` refuses. A module of our own that requires them and pins each
// replaced module to its published version builds the same code.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LabError } from './errors.js';
import { run } from './exec.js';
import { ensureNodeToolchain, type NodeToolchain } from './node-toolchain.js';

/** Kubernetes release under test; its staging modules are published as v0.<minor>.<patch>. */
export const KUBERNETES_VERSION = 'v1.37.2';
/** Helm 3 line, as the chart issue asks (3.21 or newer). */
export const HELM_VERSION = 'v3.22.0';

export interface Toolchain {
  kubeApiserver: string;
  kubeControllerManager: string;
  etcd: string;
  helm: string;
  /** What real nodes run: kubelet, kube-proxy, containerd... (node-toolchain.ts). */
  node: NodeToolchain;
  versions: { kubernetes: string; etcd: string; helm: string };
}

export type ProgressLog = (line: string) => void;

export function cacheRoot(): string {
  const explicit = process.env['BATON_CACHE_DIR'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'baton');
}

/** Staging modules of a release are tagged v0.<minor>.<patch> for release v1.<minor>.<patch>. */
export function stagingVersion(kubernetesVersion: string): string {
  const m = /^v1\.(\d+)\.(\d+)$/.exec(kubernetesVersion);
  if (m === null) throw new LabError('LAB_BUILD_FAILED', `not a Kubernetes release version: ${kubernetesVersion}`);
  return `v0.${m[1]}.${m[2]}`;
}

/** The module paths a go.mod replaces with local directories (its `replace ( a => ./x )` block). */
export function locallyReplacedModules(goMod: string): string[] {
  const out: string[] = [];
  for (const line of goMod.split('\n')) {
    const m = /^\s*(?:replace\s+)?(\S+)\s*=>\s*\.\.?\//.exec(line);
    if (m?.[1] !== undefined) out.push(m[1]);
  }
  return out;
}

/** The etcd version a Kubernetes release pins, from its build/dependencies.yaml. */
export function pinnedEtcdVersion(dependenciesYaml: string): string {
  const m = /-\s+name:\s+"?etcd"?\s*\n\s+version:\s+"?([0-9]+\.[0-9]+\.[0-9]+)"?/.exec(dependenciesYaml);
  if (m?.[1] === undefined) throw new LabError('LAB_BUILD_FAILED', 'build/dependencies.yaml names no etcd version');
  return `v${m[1]}`;
}

export interface GoModuleInfo {
  Dir: string;
  GoMod: string;
}

export async function goModDownload(modulePath: string, version: string, workDir: string): Promise<GoModuleInfo> {
  const { stdout } = await run('go', ['mod', 'download', '-json', `${modulePath}@${version}`], {
    cwd: workDir,
    env: goEnv(),
    timeoutMs: 15 * 60_000,
  });
  return JSON.parse(stdout) as GoModuleInfo;
}

function goEnv(): NodeJS.ProcessEnv {
  // Static binaries, no cgo toolchain needed at run time; never fetch another Go toolchain behind our back.
  return { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false' };
}

export interface WrapperSpec {
  /** Cache folder name, e.g. kubernetes-v1.37.2. */
  id: string;
  require: Array<[string, string]>;
  /** Resolved only when a build is needed: reading it may download a module. */
  replace: () => Promise<Array<[string, string, string]>>;
  /** Packages to build, each into a binary named by `binaries`. */
  packages: Array<{ pkg: string; binary: string }>;
  ldflags?: string;
}

/**
 * Builds a wrapper module's binaries into <cache>/toolchain/<id>/bin unless a
 * completed build is already there. The build goes to a staging folder that
 * is renamed into place only on success, so an interrupted build is redone,
 * never half-used.
 */
export async function buildWrapper(spec: WrapperSpec, log: ProgressLog): Promise<string> {
  const root = join(cacheRoot(), 'toolchain', spec.id);
  const binDir = join(root, 'bin');
  const stamp = join(root, 'complete.json');
  if (existsSync(stamp) && spec.packages.every((p) => existsSync(join(binDir, p.binary)))) return binDir;

  const started = Date.now();
  log(
    `[toolchain] building ${spec.id} (${spec.packages.map((p) => p.binary).join(', ')}) - first run on this machine; later runs reuse ${root}`,
  );
  await rm(root, { recursive: true, force: true });
  const src = join(root, 'src');
  await mkdir(src, { recursive: true });
  const replace = await spec.replace();
  const goMod = [
    `module baton.local/toolchain/${spec.id.replace(/[^a-z0-9.-]/gi, '-')}`,
    '',
    'go 1.26.0',
    '',
    'require (',
    ...spec.require.map(([m, v]) => `\t${m} ${v}`),
    ')',
    '',
    ...(replace.length > 0 ? ['replace (', ...replace.map(([m, to, v]) => `\t${m} => ${to} ${v}`), ')'] : []),
    '',
  ].join('\n');
  await writeFile(join(src, 'go.mod'), goMod);
  await writeFile(
    join(src, 'tools.go'),
    ['//go:build tools', '', 'package tools', '', 'import (', ...spec.packages.map((p) => `\t_ "${p.pkg}"`), ')', ''].join('\n'),
  );
  log(`[toolchain] ${spec.id}: resolving modules (go mod tidy)`);
  await streamGo(['mod', 'tidy'], src, log, `${spec.id} modules`);
  const staging = join(root, 'bin.partial');
  await mkdir(staging, { recursive: true });
  for (const { pkg, binary } of spec.packages) {
    const args = ['build', '-v', '-trimpath', '-o', join(staging, binary)];
    if (spec.ldflags !== undefined) args.push(`-ldflags=${spec.ldflags}`);
    args.push(pkg);
    log(`[toolchain] ${spec.id}: compiling ${binary}`);
    await streamGo(args, src, log, binary);
  }
  await rename(staging, binDir);
  const seconds = Math.round((Date.now() - started) / 1000);
  await writeFile(stamp, JSON.stringify({ id: spec.id, builtAt: new Date().toISOString(), seconds }, null, 2));
  log(`[toolchain] ${spec.id}: done in ${seconds} s`);
  return binDir;
}

// Progress every this many compiled packages: kube-apiserver is ~2,500 packages, so ~25 lines for a cold build.
const PROGRESS_EVERY_PACKAGES = 100;

/** Runs go, printing a progress line every PROGRESS_EVERY_PACKAGES packages and the tail of the output on failure. */
function streamGo(args: string[], cwd: string, log: ProgressLog, label: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, { cwd, env: goEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const started = Date.now();
    let lines = 0;
    const tail: string[] = [];
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        lines++;
        tail.push(line);
        if (tail.length > 40) tail.shift();
        if (lines % PROGRESS_EVERY_PACKAGES === 0) {
          log(`[toolchain] ${label}: ${lines} steps, ${Math.round((Date.now() - started) / 1000)} s`);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => reject(new LabError('LAB_BUILD_FAILED', `go ${args.join(' ')}: ${err.message}`)));
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new LabError('LAB_BUILD_FAILED', `go ${args.join(' ')} failed (exit ${String(code)}):\n${tail.join('\n')}`));
    });
  });
}

/**
 * A wrapper module of k8s.io/kubernetes building the given commands: every
 * staging module the release replaces locally pinned to its published
 * v0.x version, and the version stamped in (without it the binaries report
 * v0.0.0-master, which Helm's kubeVersion checks cannot parse).
 */
export function kubernetesWrapper(id: string, packages: WrapperSpec['packages'], kubeModuleInfo: () => Promise<GoModuleInfo>): WrapperSpec {
  const minor = /^v1\.(\d+)\./.exec(KUBERNETES_VERSION)?.[1] ?? '0';
  return {
    id,
    require: [['k8s.io/kubernetes', KUBERNETES_VERSION]],
    replace: async () =>
      locallyReplacedModules(await readFile((await kubeModuleInfo()).GoMod, 'utf8')).map(
        (m) => [m, m, stagingVersion(KUBERNETES_VERSION)] as [string, string, string],
      ),
    packages,
    ldflags: [
      `-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}`,
      `-X k8s.io/component-base/version.gitMajor=1`,
      `-X k8s.io/component-base/version.gitMinor=${minor}`,
      `-X k8s.io/component-base/version.gitTreeState=clean`,
      '-s -w',
    ].join(' '),
  };
}

/** Builds (first time) or finds (afterwards) every binary the lab needs. */
export async function ensureToolchain(log: ProgressLog = (l) => console.error(l)): Promise<Toolchain> {
  const scratch = join(cacheRoot(), 'toolchain', 'scratch');
  await mkdir(scratch, { recursive: true });

  // The Kubernetes module is downloaded only when something must be read from it.
  let kubeModule: GoModuleInfo | undefined;
  const kubeModuleInfo = async (): Promise<GoModuleInfo> => {
    if (kubeModule === undefined) {
      log(`[toolchain] fetching k8s.io/kubernetes ${KUBERNETES_VERSION} from the module proxy`);
      kubeModule = await goModDownload('k8s.io/kubernetes', KUBERNETES_VERSION, scratch);
    }
    return kubeModule;
  };

  const versionFile = join(cacheRoot(), 'toolchain', `kubernetes-${KUBERNETES_VERSION}.etcd-version`);
  let etcdVersion: string;
  if (existsSync(versionFile)) {
    etcdVersion = (await readFile(versionFile, 'utf8')).trim();
  } else {
    etcdVersion = pinnedEtcdVersion(await readFile(join((await kubeModuleInfo()).Dir, 'build', 'dependencies.yaml'), 'utf8'));
    await writeFile(versionFile, `${etcdVersion}\n`);
  }

  const kubeBin = await buildWrapper(
    kubernetesWrapper(
      `kubernetes-${KUBERNETES_VERSION}`,
      [
        { pkg: 'k8s.io/kubernetes/cmd/kube-apiserver', binary: 'kube-apiserver' },
        { pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager', binary: 'kube-controller-manager' },
      ],
      kubeModuleInfo,
    ),
    log,
  );
  const etcdBin = await buildWrapper(
    {
      id: `etcd-${etcdVersion}`,
      require: [['go.etcd.io/etcd/server/v3', etcdVersion]],
      replace: async () => [],
      packages: [{ pkg: 'go.etcd.io/etcd/server/v3', binary: 'etcd' }],
      ldflags: '-s -w',
    },
    log,
  );
  const helmBin = await buildWrapper(
    {
      id: `helm-${HELM_VERSION}`,
      require: [['helm.sh/helm/v3', HELM_VERSION]],
      replace: async () => [],
      packages: [{ pkg: 'helm.sh/helm/v3/cmd/helm', binary: 'helm' }],
      ldflags: `-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
    },
    log,
  );
  const node = await ensureNodeToolchain(kubeModuleInfo, log);
  return {
    node,
    kubeApiserver: join(kubeBin, 'kube-apiserver'),
    kubeControllerManager: join(kubeBin, 'kube-controller-manager'),
    etcd: join(etcdBin, 'etcd'),
    helm: join(helmBin, 'helm'),
    versions: { kubernetes: KUBERNETES_VERSION, etcd: etcdVersion, helm: HELM_VERSION },
  };
}
