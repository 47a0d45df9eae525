// Logging a command's run to the registry: started before the work, finished (or marked failed
// or interrupted) after it, so the registry never holds partial metrics of a run.
import type { Dataset } from '../data/dataset.js';
import { datasetFingerprint, judgeQueries, datasetCounts } from '../data/dataset.js';
import { InterruptedError } from '../errors.js';
import { hardware, software } from '../host.js';
import { countsJson } from '../report/results.js';
import { Registry, type RunModelRecord, type RunStart } from './registry.js';

export function runStart(command: string, dataset: Dataset, dims: number[] | undefined, kLists: unknown, device: string): RunStart {
  return {
    command,
    argv: process.argv.slice(2),
    dataset: { name: dataset.name, fingerprint: datasetFingerprint(dataset), counts: countsJson(datasetCounts(dataset, judgeQueries(dataset))) },
    dims,
    kLists,
    software: software(),
    hardware: { ...hardware(device) },
  };
}

export interface RunWork {
  models: RunModelRecord[];
  /** Output files, recorded with size and sha256. */
  artifacts: string[];
}

export interface LoggedRun {
  /** null when not logged. */
  runId: string | null;
  /** Notes from the registry worth telling the user. */
  notes: string[];
}

/**
 * Runs `work` as a logged run in the registry at `registryPath` (null: not logged): an error
 * ends it as failed, an InterruptedError as interrupted, and the error is rethrown.
 * `onStart` receives the run id as soon as it exists.
 */
export async function loggedRun(
  registryPath: string | null,
  start: RunStart,
  work: () => Promise<RunWork>,
  onStart?: (runId: string) => void,
): Promise<LoggedRun> {
  if (registryPath === null) {
    await work();
    return { runId: null, notes: [] };
  }
  const registry = new Registry(registryPath);
  try {
    const runId = registry.startRun(start);
    onStart?.(runId);
    try {
      const { models, artifacts } = await work();
      return { runId, notes: registry.finishRun(runId, models, artifacts) };
    } catch (e) {
      if (e instanceof InterruptedError) registry.endRun(runId, 'interrupted', e.reason);
      else registry.endRun(runId, 'failed', (e as Error).message);
      throw e;
    }
  } finally {
    registry.close();
  }
}
