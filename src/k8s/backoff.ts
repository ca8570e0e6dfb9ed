// Capped exponential backoff with equal jitter, for retries against the API
// server. Equal jitter (half the step fixed, half random) rather than full
// jitter (anything from 0 to the step): every speaker of a DaemonSet loses
// the API server at the same moment, so their retries must spread (the
// random half), yet no retry may come at once (the fixed half): with full
// jitter an unlucky draw of ~0 ms retries immediately, which against a proxy
// that accepts and drops every request is the hot loop backoff exists to
// prevent. The pause after n failures lies in [step/2, step), step =
// min(max, initial * 2^(n-1)).

export interface BackoffOptions {
  /** Step after the first failure. */
  initialMs: number;
  /** Largest step. */
  maxMs: number;
  /** Uniform in [0, 1); injected so tests pin the jitter. Default Math.random. */
  random?: () => number;
}

// 2^30 * any sane initial step is far beyond any cap: the exponent stops growing there so the step never overflows.
const MAX_EXPONENT = 30;

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private failures = 0;

  constructor(options: BackoffOptions) {
    if (!(options.initialMs > 0) || options.maxMs < options.initialMs) throw new RangeError('backoff needs 0 < initialMs <= maxMs');
    this.initialMs = options.initialMs;
    this.maxMs = options.maxMs;
    this.random = options.random ?? Math.random;
  }

  /** Counts one more failure and returns the pause before the next attempt. */
  next(): number {
    this.failures++;
    const step = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.failures - 1, MAX_EXPONENT));
    return step / 2 + (step / 2) * this.random();
  }

  /** After a success: the next failure starts again from initialMs. */
  reset(): void {
    this.failures = 0;
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.failures;
  }
}
