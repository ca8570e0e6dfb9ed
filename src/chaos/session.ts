// A chaos session: the experiments, once or as a soak on a cron schedule with
// a bounded number of rounds (node-cron), into one report.
import cron from 'node-cron';
import { BatonError } from '../errors.js';
import type { ChaosEnvironment, ExperimentKind } from './experiments.js';
import { type ChaosReport, type ExperimentReport, runExperiment, writeReport } from './runner.js';

export interface SessionOptions {
  experiments: ExperimentKind[];
  ip?: string;
  holdMs?: number;
  /** Probing after each fault is undone (default the runner's); long enough to see what follows it, e.g. rebalancing back. */
  settleMs?: number;
  outDir: string;
  /** Cron expression (six fields allow seconds); without it the experiments run once, now. */
  schedule?: string;
  /** Rounds of the schedule before the soak ends. */
  rounds: number;
  progress: (line: string) => void;
}

export async function runSession(env: ChaosEnvironment, o: SessionOptions): Promise<ChaosReport> {
  for (const kind of o.experiments) {
    if (!env.supports(kind)) throw new BatonError('CONFIG_INVALID', `${kind} needs the local lab (baton chaos --lab)`);
  }
  const reports: ExperimentReport[] = [];
  const round = async (): Promise<void> => {
    for (const kind of o.experiments) {
      const r = await runExperiment(env, kind, reports.length + 1, {
        ip: o.ip,
        holdMs: o.holdMs,
        settleMs: o.settleMs,
        outDir: o.outDir,
        progress: o.progress,
      });
      reports.push(r);
      const target = r.ips.find((i) => i.ip === r.ip);
      o.progress(
        `[chaos] ${kind} ${r.ip}: ${r.holderBefore} -> ${r.holderAfter ?? 'nobody'}, client downtime ${target?.downtimeMs ?? 0} ms, new holder after ${target?.newHolderAfterMs ?? '-'} ms, two-MAC moments ${r.ips.reduce((n, i) => n + i.twoMacMoments.length, 0)}\n`,
      );
    }
  };
  if (o.schedule === undefined) {
    await round();
  } else {
    if (!cron.validate(o.schedule)) throw new BatonError('CONFIG_INVALID', `--schedule: "${o.schedule}" is not a cron expression`);
    await new Promise<void>((resolve, reject) => {
      let done = 0;
      // A tick that falls while a round runs is skipped here and counted, not left to node-cron's
      // noOverlap, which logs a warning on every such tick (a round of every kind takes minutes).
      let running = false;
      let skipped = 0;
      const task = cron.schedule(
        o.schedule as string,
        async () => {
          if (done >= o.rounds) return; // a tick racing the stop below
          if (running) {
            skipped++;
            return;
          }
          running = true;
          try {
            await round();
          } catch (err) {
            void task.stop();
            reject(err);
            return;
          } finally {
            running = false;
          }
          done++;
          if (skipped > 0) o.progress(`[chaos] soak: round ${done} done; ${skipped} tick(s) of the schedule fell while it ran, skipped\n`);
          skipped = 0;
          if (done >= o.rounds) {
            void task.stop();
            resolve();
          }
        },
        { name: 'baton-chaos-soak' },
      );
      o.progress(`[chaos] soak: ${o.rounds} round(s) on "${o.schedule}", next at ${task.getNextRun()?.toISOString() ?? '?'}\n`);
    });
  }
  return writeReport(env, reports, o.outDir);
}
