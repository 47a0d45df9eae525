// Logging a command's run to the registry: started before the work, finished (or marked failed
// or interrupted) after it, so the registry never holds partial metrics of a run.
import type { Dataset } from '../data/dataset.js';
import { countsJson, datasetFingerprint, judgeQueries, datasetCounts } from '../data/dataset.js';
import { InterruptedError } from '../errors.js';
import type { KLists } from '../metrics/index.js';
import { hardware, software } from '../host.js';
import { Registry, type RunModelRecord, type RunStart } from './registry.js';
import { redact } from './store.js';

/** The registry's record of a run as it starts; `argv` is the command line (its credentials are dropped). */
export function runStart(command: string, dataset: Dataset, dims: number[] | undefined, kLists: unknown, device: string, argv: string[] = []): RunStart {
  return {
    command,
    argv: argv.map(redact), // a --registry URL's password is never stored
    dataset: {
      name: dataset.name,
      fingerprint: datasetFingerprint(dataset),
      counts: countsJson(datasetCounts(dataset, judgeQueries(dataset, (kLists as KLists | undefined)?.conventions))),
    },
    dims,
    kLists,
    software: software(),
    hardware: { ...hardware(device) },
  };
}

/**
 * Opens the registry at `location` (null: none) and closes it again: a run checks that its
 * registry is there before it loads models or reads data, so an unreachable one fails it at once.
 */
export async function reachRegistry(location: string | null): Promise<void> {
  if (location !== null) await (await Registry.open(location)).close();
}

/** A run's outputs, written but not yet in place (lib/report's StagedOutputs). */
export interface PendingOutputs {
  files: Array<{ staged: string; target: string }>;
  commit(): string[];
  discard(): void;
}

export interface RunWork {
  models: RunModelRecord[];
  /** The output files, staged: recorded (bytes, size and sha256) before they are moved into place. */
  outputs: PendingOutputs;
}

export interface LoggedRun {
  /** null when not logged. */
  runId: string | null;
  /** Notes from the registry worth telling the user. */
  notes: string[];
  /** The outputs, in place. */
  files: string[];
}

/**
 * Runs `work` as a logged run in the registry at `location` (a path or a postgres:// URL;
 * null: not logged), in this order: the work (an error ends the run as failed, an
 * InterruptedError as interrupted), the run's record committed with its artifacts' bytes, then
 * the outputs moved into place. A record that cannot be written leaves the previous outputs as
 * they were (the run is failed); outputs that cannot be moved take the record back (revokeRun).
 * `onStart` receives the run id as soon as it exists.
 */
export async function loggedRun(location: string | null, start: RunStart, work: () => Promise<RunWork>, onStart?: (runId: string) => void): Promise<LoggedRun> {
  if (location === null) return { runId: null, notes: [], files: (await work()).outputs.commit() };
  // Opened (and for PostgreSQL, connected) before any work: an unreachable registry fails the
  // command at once, never after an hour of encoding.
  const registry = await Registry.open(location);
  try {
    const runId = await registry.startRun(start);
    onStart?.(runId);
    let result: RunWork;
    try {
      result = await work();
    } catch (e) {
      const [status, reason] = e instanceof InterruptedError ? (['interrupted', e.reason] as const) : (['failed', (e as Error).message] as const);
      // the work's error is what the user needs; a registry that fails too (lost connection) must not hide it
      await registry.endRun(runId, status, reason).catch(() => undefined);
      throw e;
    }
    let notes: string[];
    try {
      notes = await registry.finishRun(
        runId,
        result.models,
        result.outputs.files.map((f) => ({ path: f.target, staged: f.staged })),
      );
    } catch (e) {
      result.outputs.discard();
      await registry.endRun(runId, 'failed', `recording the results failed: ${(e as Error).message}`).catch(() => undefined);
      throw e;
    }
    try {
      return { runId, notes, files: result.outputs.commit() };
    } catch (e) {
      await registry.revokeRun(runId, `the outputs could not be put in place: ${(e as Error).message}`).catch(() => undefined);
      throw e;
    }
  } finally {
    await registry.close().catch(() => undefined);
  }
}
