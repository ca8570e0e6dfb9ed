// Runs a Dockerfile's build steps without a Docker engine (none runs on this
// machine): each stage gets a folder standing for its root filesystem, COPY
// copies from the build context (filtered by .dockerignore) or an earlier
// stage, RUN runs in the stage's WORKDIR with the stage's ENV. What cannot be
// checked this way is reported, not skipped silently: the base image itself
// and the packages its package manager installs.
import { cp, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { run } from '../../dev/lab/exec.js';

export interface DockerfileRun {
  stages: Map<string, string>;
  notChecked: string[];
  entrypoint: string[];
  user: string | undefined;
}

interface Instruction {
  op: string;
  args: string;
}

export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^(\w+)\s+(.*)$/s.exec(full);
    if (m !== null) out.push({ op: (m[1] as string).toUpperCase(), args: m[2] as string });
  }
  return out;
}

/** .dockerignore: later lines win; "!" re-includes; "*" and "**" as in Go's filepath.Match plus "**". */
export function dockerignoreFilter(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/\/$/, '');
      const re = new RegExp(
        `^${pattern
          .split('**')
          .map((part) =>
            part
              .split('*')
              .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
              .join('[^/]*'),
          )
          .join('.*')}(/.*)?$`,
      );
      return { negate, re };
    });
  return (path: string) => {
    let included = true;
    for (const r of rules) if (r.re.test(path)) included = r.negate;
    return included;
  };
}

async function walk(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p, base)));
    else out.push(relative(base, p));
  }
  return out;
}

export async function runDockerfile(contextDir: string, workDir: string, log: (line: string) => void): Promise<DockerfileRun> {
  const instructions = parseDockerfile(await readFile(join(contextDir, 'Dockerfile'), 'utf8'));
  const included = dockerignoreFilter(await readFile(join(contextDir, '.dockerignore'), 'utf8').catch(() => ''));
  const contextFiles = (await walk(contextDir)).filter(
    (f) => !f.startsWith('node_modules/') && !f.startsWith('.git/') && !f.startsWith('dist/') && included(f),
  );
  const stages = new Map<string, string>();
  const notChecked: string[] = [];
  let root = '';
  let workdir = '/';
  let env: Record<string, string> = {};
  let entrypoint: string[] = [];
  let user: string | undefined;
  for (const { op, args } of instructions) {
    switch (op) {
      case 'FROM': {
        const m = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args) as RegExpExecArray;
        root = join(workDir, m[2] ?? `stage-${stages.size}`);
        await mkdir(root, { recursive: true });
        stages.set(m[2] ?? `stage-${stages.size}`, root);
        const baseNote = `base image ${m[1]} (this machine's Node.js ${process.version} stands in for it)`;
        // Both stages usually start from the same base; say so once.
        if (!notChecked.includes(baseNote)) notChecked.push(baseNote);
        workdir = '/';
        env = {};
        break;
      }
      case 'WORKDIR':
        workdir = args.startsWith('/') ? args : join(workdir, args);
        await mkdir(join(root, workdir), { recursive: true });
        break;
      case 'ENV':
        for (const m of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1] as string] = (m[2] as string).replace(/^"|"$/g, '');
        break;
      case 'USER':
        user = args;
        break;
      case 'ENTRYPOINT':
        entrypoint = JSON.parse(args) as string[];
        break;
      case 'COPY': {
        const from = /--from=(\S+)\s+/.exec(args)?.[1];
        const parts = args.replace(/--from=\S+\s+/, '').split(/\s+/);
        const dest = parts.pop() as string;
        const destPath = join(root, dest.startsWith('/') ? dest : join(workdir, dest));
        for (const src of parts) {
          if (from !== undefined) {
            const srcPath = join(stages.get(from) as string, src.startsWith('/') ? src : join(workdir, src));
            const isDir = (await stat(srcPath)).isDirectory();
            await mkdir(isDir ? destPath : dirname(destPath), { recursive: true });
            await cp(
              srcPath,
              isDir || dest.endsWith('/') ? (isDir ? destPath : join(destPath, src.split('/').pop() as string)) : destPath,
              { recursive: true },
            );
          } else {
            const matches = contextFiles.filter((f) => f === src.replace(/\/$/, '') || f.startsWith(src.endsWith('/') ? src : `${src}/`));
            if (matches.length === 0) throw new Error(`COPY ${src}: nothing in the build context (after .dockerignore)`);
            for (const f of matches) {
              const target = src.endsWith('/')
                ? join(destPath, relative(src, f))
                : dest.endsWith('/')
                  ? join(destPath, f.split('/').pop() as string)
                  : destPath;
              await mkdir(dirname(target), { recursive: true });
              await cp(join(contextDir, f), target);
            }
          }
        }
        break;
      }
      case 'RUN': {
        if (/^\s*apt-get\b/.test(args)) {
          notChecked.push(`RUN ${args.slice(0, 60)}... (packages of the base image's distribution)`);
          break;
        }
        log(`[image] ${stages.size === 0 ? '' : [...stages.keys()].at(-1)}: RUN ${args}`);
        await run('sh', ['-c', args], { cwd: join(root, workdir), env: { ...process.env, ...env }, timeoutMs: 900_000 });
        break;
      }
      default:
        throw new Error(`Dockerfile instruction ${op} is not understood by this check`);
    }
  }
  return { stages, notChecked, entrypoint, user };
}
