// An informer's own failures, as opposed to the API server's refusals
// (those are ApiErrors). Each one ends a list/watch attempt; the informer
// logs it under `code` and retries with backoff. Listed in docs/errors.md.
import { CodedError } from '../errors.js';

export const INFORMER_ERROR_CODES = [
  /** The watch brought no byte for longer than its silence limit: the connection is taken for dead. */
  'INFORMER_WATCH_IDLE',
  /** The server ended a watch normally, right after opening it, before any event: counted as a failure (no hot loop). */
  'INFORMER_WATCH_TOO_SHORT',
  /** A line of the watch stream was not a JSON watch event. */
  'INFORMER_BAD_EVENT',
  /** stop() was called; the open watch was abandoned. Never surfaces past stop(). */
  'INFORMER_STOPPED',
] as const;
export type InformerErrorCode = (typeof INFORMER_ERROR_CODES)[number];

export class InformerError extends CodedError<InformerErrorCode> {}
