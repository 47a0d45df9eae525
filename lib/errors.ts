// Two kinds of failure, two exit codes: the user can fix their input (2), or something broke
// while running (1). Both carry a one-line message that names the file, line or value, and a
// code from one list (the native engine's codes are on it too).

export type ErrorCode =
  // input files and values
  | 'ERR_INPUT'
  | 'ERR_NOT_FOUND'
  | 'ERR_OPTION'
  | 'ERR_JSON'
  | 'ERR_CSV'
  | 'ERR_PARQUET'
  | 'ERR_NPY'
  | 'ERR_NPY_DTYPE'
  | 'ERR_NPY_VALUE'
  | 'ERR_QRELS'
  | 'ERR_EMPTY'
  | 'ERR_ROWS'
  | 'ERR_FIELD'
  | 'ERR_FORMAT'
  | 'ERR_ENCODING'
  | 'ERR_DUPLICATE_ID'
  // models
  | 'ERR_NOT_MODEL'
  | 'ERR_MODEL_CONFIG'
  | 'ERR_POOLING'
  | 'ERR_TOKENIZER'
  | 'ERR_ONNX'
  | 'ERR_GRAPH'
  | 'ERR_INFERENCE'
  | 'ERR_EMBEDDING_VALUE'
  | 'ERR_NO_CUDA_EP'
  // training runs
  | 'ERR_TRAINING_OUTPUT'
  | 'ERR_TRAINER_STATE'
  // the Hugging Face Hub
  | 'ERR_NETWORK'
  | 'ERR_HUB_AUTH'
  // outputs, registry
  | 'ERR_OUT'
  | 'ERR_REGISTRY'
  | 'ERR_REGISTRY_VERSION'
  // the scoring engine (native/engine.h uses the same names)
  | 'ERR_INVALID_ARG'
  | 'ERR_NON_FINITE'
  | 'ERR_OOM'
  | 'ERR_CUDA'
  | 'ERR_NO_DEVICE'
  | 'ERR_NO_CUDA_BUILD'
  | 'ERR_NATIVE'
  // the run itself
  | 'ERR_INTERRUPTED'
  | 'ERR_RUNTIME';

/** Input the user can fix: exit code 2. `param` names the library parameter it is about. */
export class UserError extends Error {
  readonly exitCode = 2;
  constructor(
    message: string,
    readonly code: ErrorCode,
    readonly param?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Something broke while running: exit code 1. */
export class RuntimeError extends Error {
  readonly exitCode = 1;
  constructor(
    message: string,
    readonly code: ErrorCode = 'ERR_RUNTIME',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}

/** The run was stopped (SIGINT/SIGTERM through an AbortSignal): nothing was written. */
export class InterruptedError extends Error {
  readonly code: ErrorCode = 'ERR_INTERRUPTED';
  constructor(readonly reason: string) {
    super(`interrupted (${reason})`);
    this.name = 'InterruptedError';
  }
}

/** One shape for every bad parameter value: `name: expected X, got Y`. */
export function invalidParameter(name: string, expected: string, actual: unknown, code: ErrorCode = 'ERR_OPTION'): UserError {
  const shown = typeof actual === 'string' ? JSON.stringify(actual) : String(actual);
  return new UserError(`${name}: expected ${expected}, got ${shown}`, code, name);
}

/** Throws InterruptedError when the signal has fired; call between and inside long phases. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError(String(signal.reason ?? 'aborted'));
}
