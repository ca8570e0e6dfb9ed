// Failures of API calls, with a stable code per HTTP outcome so callers branch
// on `err.code === 'K8S_CONFLICT'` instead of parsing messages.

export type ApiErrorCode =
  | 'K8S_BAD_REQUEST'
  | 'K8S_UNAUTHORIZED'
  | 'K8S_FORBIDDEN'
  | 'K8S_NOT_FOUND'
  | 'K8S_CONFLICT'
  | 'K8S_ALREADY_EXISTS'
  | 'K8S_GONE'
  | 'K8S_INVALID'
  | 'K8S_TOO_MANY_REQUESTS'
  | 'K8S_SERVER_ERROR'
  | 'K8S_UNAVAILABLE'
  | 'K8S_TIMEOUT'
  | 'K8S_CONNECTION_FAILED';

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  /** HTTP status, 0 when no answer came back. */
  readonly status: number;
  /** The API server's Status.reason (Conflict, AlreadyExists...), when it sent one. */
  readonly reason: string | undefined;

  constructor(code: ApiErrorCode, status: number, message: string, reason?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.code = code;
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

/** True for failures worth retrying after a pause: the server was busy, gone, or unreachable. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  return ['K8S_TOO_MANY_REQUESTS', 'K8S_SERVER_ERROR', 'K8S_UNAVAILABLE', 'K8S_TIMEOUT', 'K8S_CONNECTION_FAILED'].includes(err.code);
}
