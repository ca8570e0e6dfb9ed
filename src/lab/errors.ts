// Errors of the test ground carry a stable code so a failing run says which
// part of the ground broke (a command, a timeout, a busy lock) without
// parsing messages.

export type GroundErrorCode =
  | 'GROUND_COMMAND_FAILED'
  | 'GROUND_TIMEOUT'
  | 'GROUND_LOCKED'
  | 'GROUND_BUILD_FAILED'
  | 'GROUND_PROCESS_EXITED'
  | 'GROUND_NOT_STARTED';

export class GroundError extends Error {
  readonly code: GroundErrorCode;

  constructor(code: GroundErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GroundError';
    this.code = code;
  }
}
