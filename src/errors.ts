// Baton's own errors carry a stable code, logged under the `code` key and
// used as a metric label, so operators and tests match on codes, not text.

export type BatonErrorCode = 'NOT_LEADER' | 'CONFIG_INVALID' | 'CACHE_NOT_SYNCED';

export class BatonError extends Error {
  readonly code: BatonErrorCode;

  constructor(code: BatonErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BatonError';
    this.code = code;
  }
}
