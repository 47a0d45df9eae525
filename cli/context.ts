// What every command shares: the first SIGINT/SIGTERM asks the running work to stop (it stops
// at its next check, marks its registry run interrupted and writes nothing); a second one
// exits at once. Warnings and progress go to stderr.
import { InterruptedError, type ProgressListener, RuntimeError, UserError } from '../lib/index.js';
import { stripControl } from './format.js';
import { progressBar } from './progress.js';

export interface Context {
  signal: AbortSignal;
  onProgress: ProgressListener;
  onWarning: (message: string) => void;
}

const controller = new AbortController();
const exitCode = (signal: string) => (signal === 'SIGTERM' ? 143 : 130);

/** An error no command caught (a failure inside a library's own callback) is one line too, not a stack. */
export function installErrorHandlers(verbose: boolean): void {
  const fatal = (e: unknown) => {
    process.exitCode = reportError(e, verbose);
    process.exit();
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}

export function installSignalHandlers(): void {
  const handle = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`\nemb-bench: interrupted (${signal}), exiting now\n`);
      process.exit(exitCode(signal));
    }
    controller.abort(signal);
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}

/** Resolves at the first SIGINT/SIGTERM (for commands that serve until stopped). */
export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    if (controller.signal.aborted) resolve();
    controller.signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export function warn(message: string): void {
  process.stderr.write(`emb-bench: warning: ${stripControl(message)}\n`);
}

export function context({ quiet = false } = {}): Context {
  return { signal: controller.signal, onProgress: progressBar(!quiet && process.stderr.isTTY === true), onWarning: warn };
}

// Library parameters as the command line spells them.
const FLAGS: Record<string, string> = {
  dims: '--dims',
  device: '--device',
  out: '--out',
  split: '--split',
  threads: '--threads',
  chartMetric: '--chart-metric',
  stage: '--stage',
  registry: '--registry',
  seed: '--seed',
  format: '--format',
  version: 'VERSION',
  shard: '--shard',
  allowWrite: '--allow-write',
  arithmetic: '--arithmetic',
  kernel: '--kernel',
  where: '--where',
  since: '--since',
  tag: '--tag',
  checkpoints: '--checkpoints',
  moversDim: '--movers-dim',
  retrievedK: '--retrieved-k',
  trecRun: '--trec-run',
  ranxRun: '--ranx-run',
  mtebResults: '--mteb-results',
  data: '--data',
  tuned: '<tuned>',
};

/** A failed allocation: the heap, an ArrayBuffer, or WebAssembly memory under a virtual-memory limit. */
function isAllocationFailure(e: Error): boolean {
  return e instanceof RangeError && /out of memory|cannot allocate|allocation failed/i.test(e.message);
}

/** One line on stderr (the stack too with --verbose); returns the exit code. */
export function reportError(e: unknown, verbose: boolean): number {
  const err = e as Error & { exitCode?: number; param?: string };
  let message = err.message ?? String(e);
  // A library message about a parameter starts with its name: "dims: ...", "out DIR: ...".
  if (err instanceof UserError && err.param && FLAGS[err.param] && new RegExp(`^${err.param}[: ]`).test(message))
    message = FLAGS[err.param] + message.slice(err.param.length);
  if (err instanceof InterruptedError) {
    process.stderr.write(`emb-bench: ${message}\n`);
    return exitCode(err.reason);
  }
  if (!verbose && isAllocationFailure(err)) {
    process.stderr.write(
      `emb-bench: out of memory (${stripControl(message.split('\n')[0])}); a virtual-memory limit (ulimit -v) may be below what this run needs\n`,
    );
    return 1;
  }
  process.stderr.write(`emb-bench: ${verbose && err.stack ? err.stack : stripControl(message)}\n`);
  if (err instanceof UserError || err instanceof RuntimeError) return err.exitCode;
  return typeof err.exitCode === 'number' ? err.exitCode : 1;
}
