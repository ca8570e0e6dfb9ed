// Failures of API calls, with a stable code per HTTP outcome so callers branch
// on hasCode(err, 'K8S_CONFLICT') instead of parsing messages. The codes are
// listed in docs/errors.md.
import { CodedError } from '../errors.js';

export const API_ERROR_CODES = [
  'K8S_BAD_REQUEST',
  'K8S_UNAUTHORIZED',
  'K8S_FORBIDDEN',
  'K8S_NOT_FOUND',
  'K8S_CONFLICT',
  'K8S_ALREADY_EXISTS',
  'K8S_GONE',
  'K8S_INVALID',
  'K8S_TOO_MANY_REQUESTS',
  'K8S_SERVER_ERROR',
  'K8S_UNAVAILABLE',
  'K8S_TIMEOUT',
  'K8S_CONNECTION_FAILED',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export class ApiError extends CodedError<ApiErrorCode> {
  /** HTTP status, 0 when no answer came back. */
  readonly status: number;
  /** The API server's Status.reason (Conflict, AlreadyExists...), when it sent one. */
  readonly reason: string | undefined;

  constructor(code: ApiErrorCode, status: number, message: string, reason?: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
    this.reason = reason;
  }
}

export function codeForStatus(status: number, reason: string | undefined): ApiErrorCode {
  switch (status) {
    case 400:
      return 'K8S_BAD_REQUEST';
    case 401:
      return 'K8S_UNAUTHORIZED';
    case 403:
      return 'K8S_FORBIDDEN';
    case 404:
      return 'K8S_NOT_FOUND';
    case 409:
      // One status, two meanings: a create that found the name taken, or a write whose resourceVersion is stale.
      return reason === 'AlreadyExists' ? 'K8S_ALREADY_EXISTS' : 'K8S_CONFLICT';
    case 410:
      return 'K8S_GONE';
    case 422:
      return 'K8S_INVALID';
    case 429:
      return 'K8S_TOO_MANY_REQUESTS';
    case 503:
      return 'K8S_UNAVAILABLE';
    case 504:
      return 'K8S_TIMEOUT';
    default:
      return status >= 500 ? 'K8S_SERVER_ERROR' : 'K8S_BAD_REQUEST';
  }
}

/** The fields of a metav1.Status that say what went wrong. */
export interface WireStatus {
  code?: number;
  reason?: string;
  message?: string;
}

/**
 * The ApiError for a Status the server sent: as the body of a failed
 * request, or as the object of a watch's ERROR event. A Status without a
 * code is the server's own trouble, read as 500.
 */
export function errorFromStatus(status: WireStatus, context: string): ApiError {
  const code = status.code ?? 500;
  return new ApiError(
    codeForStatus(code, status.reason),
    code,
    `${context}: ${code} ${status.message ?? status.reason ?? ''}`.trim(),
    status.reason,
  );
}

// Failures worth retrying after a pause: the server was busy, failing, or unreachable; nothing about the request was wrong.
const TRANSIENT_CODES: ReadonlySet<ApiErrorCode> = new Set([
  'K8S_TOO_MANY_REQUESTS',
  'K8S_SERVER_ERROR',
  'K8S_UNAVAILABLE',
  'K8S_TIMEOUT',
  'K8S_CONNECTION_FAILED',
]);

/** True for failures worth retrying after a pause: the server was busy, gone, or unreachable. */
export function isTransient(err: unknown): boolean {
  return err instanceof ApiError && TRANSIENT_CODES.has(err.code);
}
