// Builds Baton's image for real: `buildah bud` of the repository's Dockerfile
// on a clean copy of the build context, on the local stand-in of its base
// image (base-image.ts), with buildah's layer cache, then exports it as an
// OCI archive into the machine's cache for a container runtime to import.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { LabError } from '../lab/errors.js';
import { cacheRoot } from '../lab/toolchain.js';
import { ensureBaseImage, standInFor } from './base-image.js';
import { buildah, buildahEnv, hostNetworkState, imageId, removeCniLeftovers, requireBuildah, withBuildLock } from './buildah.js';
import { baseImages, copyBuildContext } from './context.js';

/** The host's CA bundle, mounted into every RUN step (and nowhere in the image): the registry is reached through it. */
export const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** The image the chart runs: values.yaml's image.repository, tagged image.tag or else the chart's appVersion. */
export function chartImageName(valuesYaml: string, chartYaml: string): string {
  const values = parse(valuesYaml) as { image?: { repository?: string; tag?: string } };
  const chart = parse(chartYaml) as { appVersion?: string | number };
  const repository = values.image?.repository;
  const tag = values.image?.tag !== undefined && values.image.tag !== '' ? values.image.tag : chart.appVersion;
  if (repository === undefined || tag === undefined)
    throw new LabError('LAB_BUILD_FAILED', 'the chart names no image (image.repository, appVersion)');
  return `${repository}:${String(tag)}`;
}

export interface BudSummary {
  /** Steps other than FROM, and how many of them buildah took from its layer cache. */
  steps: number;
  cached: number;
}

/** Counts what `buildah bud` printed: its STEP lines (FROM aside) and its "Using cache" lines. */
export function summarizeBud(output: string): BudSummary {
  let steps = 0;
  let cached = 0;
  for (const line of output.split('\n')) {
    if (/^(\[\d+\/\d+\] )?STEP \d+\/\d+: (?!FROM )/.test(line)) steps++;
    if (/^--> Using cache [0-9a-f]{64}/.test(line)) cached++;
  }
  return { steps, cached };
}

// What of a build's output goes to the test log; all of it goes to a file.
const SHOWN = /^(\[\d+\/\d+\] )?STEP |^--> Using cache|^COMMIT|^Successfully|npm (error|ERR!)|^(Error|error):/;

function streamBuild(args: string[], logFile: string, log: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('buildah', args, { env: buildahEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const file = createWriteStream(logFile);
    const lines: string[] = [];
    let partial = '';
    const onData = (chunk: Buffer): void => {
      file.write(chunk);
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (SHOWN.test(line)) log(`[image]   ${line.length > 200 ? `${line.slice(0, 200)}...` : line}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => reject(new LabError('LAB_BUILD_FAILED', `buildah: ${err.message}`)));
    child.on('close', (code) => {
      if (partial !== '') lines.push(partial);
      file.end();
      if (code === 0) resolve(lines.join('\n'));
      else
        reject(
          new LabError(
            'LAB_BUILD_FAILED',
            `buildah bud failed (exit ${String(code)}); full log ${logFile}; last lines:\n${lines.slice(-40).join('\n')}`,
          ),
        );
    });
  });
}

export interface ImageBuild {
  name: string;
  id: string;
  baseName: string;
  baseId: string;
  /** Seconds to build the stand-in base this time (0: it was there). */
  baseSeconds: number;
  budSeconds: number;
  pushSeconds: number;
  summary: BudSummary;
  /** Undefined when the build was not exported. */
  archive: string | undefined;
  archiveBytes: number;
  buildahVersion: string;
}

export function imageArchivePath(): string {
  return join(cacheRoot(), 'images', 'baton.oci.tar');
}

/**
 * Builds the image of the checkout at repoDir (base first, when missing) and
 * exports it to <cache>/images/baton.oci.tar. Fails on any leftover of CNI's
 * default network in the host namespace, after removing it.
 */
export async function buildImage(
  repoDir: string,
  log: (line: string) => void,
  options: { exportArchive?: boolean } = {},
): Promise<ImageBuild> {
  const buildahVersion = await requireBuildah();
  if (!existsSync(HOST_CA_BUNDLE)) throw new LabError('LAB_BUILD_FAILED', `${HOST_CA_BUNDLE} is missing (package ca-certificates)`);
  const dockerfile = await readFile(join(repoDir, 'Dockerfile'), 'utf8');
  const bases = baseImages(dockerfile);
  if (bases.length !== 1)
    throw new LabError('LAB_BUILD_FAILED', `the Dockerfile builds on ${bases.length} images, expected one: ${bases.join(', ')}`);
  const standIn = standInFor(bases[0] as string);
  const name = chartImageName(
    await readFile(join(repoDir, 'charts/baton/values.yaml'), 'utf8'),
    await readFile(join(repoDir, 'charts/baton/Chart.yaml'), 'utf8'),
  );
  await mkdir(join(cacheRoot(), 'images'), { recursive: true });

  const network = await hostNetworkState();
  let outcome: { ok: true; build: ImageBuild } | { ok: false; error: unknown };
  try {
    const build = await withBuildLock(join(cacheRoot(), 'images', 'build.lock'), log, async () => {
      const base = await ensureBaseImage(standIn, log);
      const work = await mkdtemp(join(tmpdir(), 'baton-image-'));
      try {
        const context = join(work, 'context');
        const files = await copyBuildContext(repoDir, context);
        log(`[image] context: ${files.length} files (.dockerignore applied)`);
        const previous = await imageId(name);
        const iidFile = join(work, 'iid');
        const started = Date.now();
        const output = await streamBuild(
          [
            'bud',
            '--pull=never',
            // Never CNI: see dev/image/buildah.ts.
            '--network=host',
            '--layers',
            // Also remove the working containers of a failed build.
            '--force-rm',
            '-v',
            `${HOST_CA_BUNDLE}:${HOST_CA_BUNDLE}:ro`,
            '--iidfile',
            iidFile,
            '-t',
            name,
            '-f',
            join(repoDir, 'Dockerfile'),
            context,
          ],
          join(work, 'bud.log'),
          log,
        );
        const budSeconds = (Date.now() - started) / 1000;
        const id = (await readFile(iidFile, 'utf8')).trim().replace(/^sha256:/, '');
        // The image this tag named before is now untagged and would only pile up.
        if (previous !== undefined && previous !== id) await buildah(['rmi', previous], { allowFailure: true });

        let archive: string | undefined;
        const pushStarted = Date.now();
        if (options.exportArchive !== false) {
          // Written beside and renamed into place: a reader never sees half an archive.
          archive = imageArchivePath();
          const partial = `${archive}.partial`;
          await rm(partial, { force: true });
          await buildah(['push', '--quiet', id, `oci-archive:${partial}:${name}`]);
          await rename(partial, archive);
        }
        const pushSeconds = (Date.now() - pushStarted) / 1000;
        return {
          name,
          id,
          baseName: standIn.name,
          baseId: base.id,
          baseSeconds: base.seconds,
          budSeconds,
          pushSeconds,
          summary: summarizeBud(output),
          archive,
          archiveBytes: archive === undefined ? 0 : (await stat(archive)).size,
          buildahVersion,
        };
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
    outcome = { ok: true, build };
  } catch (error) {
    outcome = { ok: false, error };
  }
  // A leftover in the host namespace outranks the build's own result.
  const leftovers = await removeCniLeftovers(network);
  if (leftovers.length > 0) {
    throw new LabError('LAB_BUILD_FAILED', `the build left CNI state in the host namespace (removed): ${leftovers.join(', ')}`);
  }
  if (!outcome.ok) throw outcome.error;
  return outcome.build;
}
