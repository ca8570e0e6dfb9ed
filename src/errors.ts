// Errors with stable codes, one way for all of Baton. Every error Baton
// raises on purpose carries a `code` (logged under the `code` key, used as a
// metric label), so operators, tests and callers match on codes, never on
// message text. Each family keeps its codes in a `const` array, the type is
// derived from it, and docs/errors.md lists every code (src/errors.test.ts
// fails when the two disagree):
//   BatonError  (here)                     Baton's own refusals
//   ApiError    (src/k8s/api-error.ts)     outcomes of Kubernetes API calls
//   InformerError (src/k8s/informer-error.ts) an informer's own failures
//   LabError    (dev/lab/errors.ts)        the test lab, never shipped
//
// Callers read codes with errorCode()/hasCode() instead of casting: they also
// accept Node's own errors (ECONNREFUSED, EEXIST...), whose code is a string
// too.

/** The shared base: an Error with a readonly, stable code. */
export abstract class CodedError<C extends string = string> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export const BATON_ERROR_CODES = [
  'NOT_LEADER',
  'CONFIG_INVALID',
  'KUBECONFIG_INVALID',
  'CACHE_NOT_SYNCED',
  'PACKET_SOCKET_DENIED',
] as const;
export type BatonErrorCode = (typeof BATON_ERROR_CODES)[number];

export class BatonError extends CodedError<BatonErrorCode> {}

/** The string code of any error that has one (Baton's, Node's errno codes), else undefined. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** True when err carries exactly this code. */
export function hasCode(err: unknown, code: string): boolean {
  return errorCode(err) === code;
}
