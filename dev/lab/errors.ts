// Errors of the test lab carry a stable code so a failing run says which
// part of the lab broke (a command, a timeout, a busy lock) without
// parsing messages. Same base class as the product's errors
// (src/errors.ts); the codes are listed in docs/errors.md.
import { CodedError } from '../../src/errors.js';

export const LAB_ERROR_CODES = [
  'LAB_COMMAND_FAILED',
  'LAB_TIMEOUT',
  'LAB_LOCKED',
  'LAB_BUILD_FAILED',
  'LAB_PROCESS_EXITED',
  'LAB_NOT_STARTED',
  'LAB_BAD_SETTING',
] as const;
export type LabErrorCode = (typeof LAB_ERROR_CODES)[number];

export class LabError extends CodedError<LabErrorCode> {}
