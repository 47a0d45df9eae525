// Two kinds of failure, two exit codes: the user can fix their input (2), or something broke
// while running (1). Both carry a one-line message that names the file, line or value.

export class UserError extends Error {
  readonly exitCode = 2;
  constructor(message: string, readonly code = 'ERR_INPUT') {
    super(message);
    this.name = 'UserError';
  }
}

export class RuntimeError extends Error {
  readonly exitCode = 1;
  constructor(message: string, readonly code = 'ERR_RUNTIME', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
