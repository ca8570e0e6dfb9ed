// Errors of the test lab carry a stable code so a failing run says which
// part of the lab broke (a command, a timeout, a busy lock) without
// parsing messages.

export type LabErrorCode =
  | 'LAB_COMMAND_FAILED'
  | 'LAB_TIMEOUT'
  | 'LAB_LOCKED'
  | 'LAB_BUILD_FAILED'
  | 'LAB_PROCESS_EXITED'
  | 'LAB_NOT_STARTED';

export class LabError extends Error {
  readonly code: LabErrorCode;

  constructor(code: LabErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabError';
    this.code = code;
  }
}
