// What `buildah bud` is given: the Dockerfile read for what the image check
// needs to know (the base image, the runtime stage's USER and ENTRYPOINT),
// and a clean copy of the build context, holding only what .dockerignore
// lets in. The parsing is pure and unit-tested (context.test.ts).
import { cp, mkdir, readdir, readFile, utimes } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

export interface Instruction {
  op: string;
  args: string;
}

/** The Dockerfile's instructions, continuation lines joined, comments and blank lines dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.trim().startsWith('#') || (pending === '' && line.trim() === '')) continue;
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

export interface StageConfig {
  name: string | undefined;
  from: string;
  user: string | undefined;
  entrypoint: string[] | undefined;
}

/** Every stage: its FROM, its name, and the USER and ENTRYPOINT it sets (exec form only). */
export function dockerfileStages(text: string): StageConfig[] {
  const stages: StageConfig[] = [];
  for (const { op, args } of parseDockerfile(text)) {
    if (op === 'FROM') {
      const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(args);
      if (m === null) throw new Error(`FROM ${args}: not understood`);
      stages.push({ from: m[1] as string, name: m[2], user: undefined, entrypoint: undefined });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) continue;
    if (op === 'USER') stage.user = args.trim();
    if (op === 'ENTRYPOINT') {
      const parsed: unknown = JSON.parse(args);
      if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`ENTRYPOINT ${args}: not exec form`);
      stage.entrypoint = parsed;
    }
  }
  return stages;
}

/**
 * The images a Dockerfile builds on, fully qualified the way Docker and
 * buildah read a short name (`node:20` is `docker.io/library/node:20`);
 * stages built FROM an earlier stage are not images.
 */
export function baseImages(text: string): string[] {
  const out: string[] = [];
  const names = new Set<string>();
  for (const stage of dockerfileStages(text)) {
    if (!names.has(stage.from) && stage.from !== 'scratch') {
      const q = qualifyImageName(stage.from);
      if (!out.includes(q)) out.push(q);
    }
    if (stage.name !== undefined) names.add(stage.name);
  }
  return out;
}

/** docker.io's rules: no registry host in the first part means docker.io, and a single part means library/. */
export function qualifyImageName(name: string): string {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) return name;
  return slash < 0 ? `docker.io/library/${name}` : `docker.io/${name}`;
}

/** One .dockerignore pattern as a regular expression: Go's filepath.Match ("*", "?", "[...]") plus "**" for any number of folders. */
function patternRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (pattern.startsWith('**/', i)) {
      re += '(?:.*/)?';
      i += 2;
    } else if (pattern.startsWith('**', i)) {
      re += '.*';
      i += 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${pattern.slice(i + 1, end)}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  // A pattern that names a folder covers everything in it.
  return new RegExp(`^${re}(?:/.*)?$`);
}

/** .dockerignore: later lines win; "!" re-includes; "**" matches any number of folders, none included. */
export function dockerignoreFilter(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).trim().replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, re: patternRegExp(pattern) };
    });
  return (path: string) => {
    let included = true;
    for (const r of rules) if (r.re.test(path)) included = r.negate;
    return included;
  };
}

// Never part of a context, whatever .dockerignore says: the checkout's own build output and tools.
const NEVER = ['.git/', 'node_modules/', 'dist/'];

async function walk(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const rel = relative(base, p);
    if (e.isDirectory()) {
      if (!NEVER.includes(`${rel}/`)) out.push(...(await walk(p, base)));
    } else out.push(rel);
  }
  return out;
}

// Every file and folder of a context gets this time: a fresh clone (CI) or a fresh copy must not look new to the layer cache.
const CONTEXT_MTIME = new Date('2020-01-01T00:00:00Z');

/**
 * Copies the files of repoDir that .dockerignore lets in to contextDir, plus
 * .dockerignore itself (buildah applies it again: the two must agree), and
 * returns the copied paths. The Dockerfile is not part of the context. All
 * get one fixed modification time, so only content and modes tell builds apart.
 */
export async function copyBuildContext(repoDir: string, contextDir: string): Promise<string[]> {
  const ignore = await readFile(join(repoDir, '.dockerignore'), 'utf8').catch(() => '');
  const included = dockerignoreFilter(ignore);
  const files = (await walk(repoDir)).filter(included).sort();
  await mkdir(contextDir, { recursive: true });
  for (const f of files) {
    await mkdir(dirname(join(contextDir, f)), { recursive: true });
    await cp(join(repoDir, f), join(contextDir, f));
  }
  if (ignore !== '') await cp(join(repoDir, '.dockerignore'), join(contextDir, '.dockerignore'));
  const dirs = new Set<string>(['.']);
  for (const f of files) for (let d = dirname(f); d !== '.'; d = dirname(d)) dirs.add(d);
  for (const p of [...files, ...(ignore !== '' ? ['.dockerignore'] : []), ...dirs]) {
    await utimes(join(contextDir, p), CONTEXT_MTIME, CONTEXT_MTIME);
  }
  return files;
}
