// Runs experiments: pick the target IP and its holder, probe every external
// IP from the client's side, inject the fault, hold it, undo it, let things
// settle, and turn what the client saw into a report and a picture. A live
// progress line says what is happening meanwhile.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyseIp, type IpAnalysis } from './analysis.js';
import { type ChaosEnvironment, EXPERIMENTS, type ExperimentKind } from './experiments.js';
import type { ProbeEvent } from './probe-events.js';
import { renderTimeline } from './timeline-svg.js';

export interface ExperimentReport {
  kind: ExperimentKind;
  what: string;
  ip: string;
  holderBefore: string;
  holderAfter: string | undefined;
  startedAt: string;
  /** ms from the start of probing. */
  injectedAtMs: number;
  recoveredAtMs: number;
  endedAtMs: number;
  ips: Array<
    Omit<IpAnalysis, 'holders' | 'outages' | 'garps'> & {
      holders: Array<{ fromMs: number; toMs: number; node: string | undefined; mac: string }>;
      outages: Array<{ fromMs: number; toMs: number }>;
      garps: Array<{ atMs: number; node: string | undefined; mac: string }>;
    }
  >;
  picture: string;
}

export interface RunOptions {
  /** Probing before the fault, to know who answered (default 1.5 s). */
  baselineMs?: number;
  /** How long the fault lasts (default per kind). */
  holdMs?: number;
  /** Probing after the fault is undone (default 3 s). */
  settleMs?: number;
  /** Target IP; default a random one. */
  ip?: string;
  outDir: string;
  progress?: (line: string) => void;
}

export async function runExperiment(env: ChaosEnvironment, kind: ExperimentKind, n: number, o: RunOptions): Promise<ExperimentReport> {
  if (!env.supports(kind)) throw new Error(`${kind} needs the local lab (baton chaos --lab)`);
  const ips = await env.externalIps();
  if (ips.length === 0) throw new Error('no external IP to probe: give a Service an address first');
  const ip = o.ip ?? (ips[Math.floor(Math.random() * ips.length)] as string);
  if (!ips.includes(ip)) throw new Error(`${ip} is not an external IP Baton announces`);
  const holder = await env.holderOf(ip);
  if (holder === undefined) throw new Error(`${ip} has no holder right now`);

  const events: ProbeEvent[] = [];
  const probe = await env.startProbe(ips, (e) => events.push(e));
  const start = Date.now();
  const progress = setInterval(() => o.progress?.(progressLine(kind, ip, holder, events, start, env)), 500);
  let injectedAt = 0;
  let recoveredAt = 0;
  try {
    await sleep(o.baselineMs ?? 1_500);
    injectedAt = Date.now();
    await env.inject(kind, ip, holder);
    await sleep(o.holdMs ?? EXPERIMENTS[kind].holdMs);
    await env.recover(kind, ip, holder);
    recoveredAt = Date.now();
    await sleep(o.settleMs ?? 3_000);
  } finally {
    clearInterval(progress);
    await probe.stop();
  }
  const endedAt = Date.now();
  const analyses = ips.map((i) => analyseIp(events, i, injectedAt, endedAt));
  const picture = join(o.outDir, `${String(n).padStart(2, '0')}-${kind}.svg`);
  await mkdir(o.outDir, { recursive: true });
  const target = analyses.find((a) => a.ip === ip);
  const moments = analyses.reduce((n, a) => n + a.twoMacMoments.length, 0);
  await writeFile(
    picture,
    renderTimeline({
      title: `${kind} on ${ip} (held by ${holder}): client outage ${target?.downtimeMs ?? 0} ms, new holder after ${target?.newHolderAfterMs ?? '-'} ms, two MACs ${moments === 0 ? 'never' : `${moments}×`}`,
      subtitle: EXPERIMENTS[kind].what,
      startedAt: start,
      injectedAt,
      recoveredAt,
      endedAt,
      ips: analyses,
      nodeOfMac: (m) => env.nodeOfMac(m),
    }),
  );
  await renderPng(picture);
  const rel = (t: number): number => Math.round(t - start);
  return {
    kind,
    what: EXPERIMENTS[kind].what,
    ip,
    holderBefore: holder,
    holderAfter: await env.holderOf(ip),
    startedAt: new Date(start).toISOString(),
    injectedAtMs: rel(injectedAt),
    recoveredAtMs: rel(recoveredAt),
    endedAtMs: rel(endedAt),
    ips: analyses.map((a) => ({
      ...a,
      holders: a.holders.map((h) => ({ fromMs: rel(h.from), toMs: rel(h.to), node: env.nodeOfMac(h.mac), mac: h.mac })),
      outages: a.outages.map((g) => ({ fromMs: rel(g.from), toMs: rel(g.to) })),
      garps: a.garps.map((g) => ({ atMs: rel(g.t), node: env.nodeOfMac(g.mac), mac: g.mac })),
      twoMacMoments: a.twoMacMoments.map((m) => ({ t: rel(m.t), macs: m.macs })),
    })),
    picture,
  };
}

function progressLine(
  kind: ExperimentKind,
  ip: string,
  holder: string,
  events: readonly ProbeEvent[],
  start: number,
  env: ChaosEnvironment,
): string {
  const mine = events.filter((e) => e.ip === ip);
  const lastAnswer = [...mine].reverse().find((e) => e.kind === 'arp-reply' || e.kind === 'garp') as
    | Extract<ProbeEvent, { mac: string }>
    | undefined;
  const failed = mine.filter((e) => e.kind === 'http' && !e.ok).length;
  const lastPage = [...mine].reverse().find((e) => e.kind === 'http') as Extract<ProbeEvent, { kind: 'http' }> | undefined;
  const answering = lastAnswer === undefined ? 'nobody' : (env.nodeOfMac(lastAnswer.mac) ?? lastAnswer.mac);
  return `[chaos] ${kind} ${ip} (was ${holder}) +${((Date.now() - start) / 1000).toFixed(1)}s: ARP answered by ${answering}, page ${lastPage?.ok === true ? `served by ${lastPage.from}` : 'failing'}, ${failed} failed loads`;
}

/** A PNG next to the SVG when this machine can render one (rsvg-convert, Debian's librsvg2-bin); the SVG alone otherwise. */
async function renderPng(svg: string): Promise<void> {
  await new Promise<void>((resolve) => {
    execFile('rsvg-convert', ['-o', svg.replace(/\.svg$/, '.png'), svg], () => resolve());
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface ChaosReport {
  environment: 'lab' | 'cluster';
  startedAt: string;
  experiments: ExperimentReport[];
  summary: Array<{
    kind: ExperimentKind;
    ip: string;
    holderBefore: string;
    holderAfter: string | undefined;
    downtimeMs: number;
    newHolderAfterMs: number | undefined;
    twoMacMoments: number;
  }>;
}

/** Writes report.json and index.html (every picture, with a summary table) into outDir. */
export async function writeReport(env: ChaosEnvironment, experiments: ExperimentReport[], outDir: string): Promise<ChaosReport> {
  const report: ChaosReport = {
    environment: env.name,
    startedAt: experiments[0]?.startedAt ?? new Date().toISOString(),
    experiments,
    summary: experiments.map((e) => {
      const target = e.ips.find((i) => i.ip === e.ip);
      return {
        kind: e.kind,
        ip: e.ip,
        holderBefore: e.holderBefore,
        holderAfter: e.holderAfter,
        downtimeMs: target?.downtimeMs ?? 0,
        newHolderAfterMs: target?.newHolderAfterMs,
        twoMacMoments: e.ips.reduce((n, i) => n + i.twoMacMoments.length, 0),
      };
    }),
  };
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'report.json'), JSON.stringify(report, null, 2));
  const rows = report.summary.map(
    (s) =>
      `<tr><td>${s.kind}</td><td>${s.ip}</td><td>${s.holderBefore} → ${s.holderAfter ?? '—'}</td><td>${s.downtimeMs} ms</td><td>${s.newHolderAfterMs ?? '—'}</td><td>${s.twoMacMoments}</td></tr>`,
  );
  const pictures = experiments.map((e) => `<h2>${e.kind}</h2><img src="${e.picture.split('/').pop()}" alt="${e.kind} timeline">`);
  await writeFile(
    join(outDir, 'index.html'),
    [
      '<!doctype html><meta charset="utf-8"><title>Baton chaos report</title>',
      '<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 10px;border-bottom:1px solid #ddd}img{max-width:100%}</style>',
      `<h1>Baton chaos report (${report.environment}, ${report.startedAt})</h1>`,
      '<table><tr><th>experiment</th><th>IP</th><th>holder</th><th>client downtime</th><th>new holder after (ms)</th><th>two-MAC moments</th></tr>',
      ...rows,
      '</table>',
      ...pictures,
    ].join('\n'),
  );
  return report;
}
