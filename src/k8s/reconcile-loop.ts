// Runs a reconcile function over a work queue with a few workers. A
// reconcile either finishes (optionally asking to be run again later) or
// throws, and is then retried with backoff. The same key never runs on two
// workers at once (the queue guarantees it).
import { errorCode } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { WorkQueue } from './work-queue.js';

export interface ReconcileResult {
  /** Run this key again after so many ms even if nothing changes (a periodic re-check). */
  requeueAfterMs?: number;
}

// biome-ignore lint/suspicious/noConfusingVoidType: most reconcilers are async functions that return nothing (Promise<void>).
export type Reconcile = (key: string) => Promise<ReconcileResult | void>;

export interface LoopObserver {
  onReconciled?(controller: string, durationMs: number, outcome: 'ok' | 'error'): void;
}

export function runReconcileLoop(options: {
  name: string;
  queue: WorkQueue;
  workers: number;
  reconcile: Reconcile;
  log: Logger;
  observer?: LoopObserver;
}): Promise<void> {
  const { name, queue, reconcile, log, observer } = options;
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const started = performance.now();
      try {
        const result = await reconcile(key);
        queue.forget(key);
        if (result?.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
        observer?.onReconciled?.(name, performance.now() - started, 'ok');
      } catch (err) {
        const retryInMs = queue.addRateLimited(key);
        log.warn({ controller: name, key, err, code: errorCode(err), retryInMs }, 'reconcile failed; retrying');
        observer?.onReconciled?.(name, performance.now() - started, 'error');
      } finally {
        queue.done(key);
      }
    }
  };
  return Promise.all(Array.from({ length: options.workers }, worker)).then(() => undefined);
}
