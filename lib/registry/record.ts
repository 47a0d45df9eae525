// Logging a command's run to the registry: started before the work, finished (or marked failed
// or interrupted) after it, so the registry never holds partial metrics of a run.
import { cpus, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import type { Dataset } from '../data/dataset.js';
import { datasetFingerprint, judgeQueries, datasetCounts } from '../data/dataset.js';
import { engineInfo } from '../score/index.js';
import { VERSION } from '../version.js';
import { Registry, type RunModelRecord, type RunStart } from './index.js';
import { onInterrupt } from '../interrupt.js';

export interface LogOptions {
  /** Registry file; null: do not log. */
  registry: string | null;
}

function software(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const version = (pkg: string) => {
    try {
      return (require(`${pkg}/package.json`) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  return { 'emb-bench': VERSION, node: process.version, 'onnxruntime-node': version('onnxruntime-node'), tokenizers: version('tokenizers'), engine: engineInfo().kernel };
}

function hardware(device: string): Record<string, unknown> {
  const info = engineInfo();
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30), device, gpu: device === 'cuda' ? info.cuda : null };
}

export function runStart(command: string, dataset: Dataset, dims: number[] | undefined, kLists: unknown, device: string): RunStart {
  return {
    command,
    argv: process.argv.slice(2),
    dataset: { name: dataset.name, fingerprint: datasetFingerprint(dataset), counts: datasetCounts(dataset, judgeQueries(dataset)) },
    dims,
    kLists,
    software: software(),
    hardware: hardware(device),
  };
}

/** Runs `work` as a logged run: an error ends it as failed, SIGINT/SIGTERM as interrupted. */
export async function loggedRun(
  log: LogOptions,
  start: RunStart,
  work: () => Promise<{ models: RunModelRecord[]; artifacts: string[] }>,
): Promise<string | null> {
  if (log.registry === null) {
    await work();
    return null;
  }
  const registry = new Registry(log.registry);
  const runId = registry.startRun(start);
  const forget = onInterrupt((signal) => {
    registry.endRun(runId, 'interrupted', signal);
    registry.close();
    process.stderr.write(`emb-bench: run ${runId} marked interrupted\n`);
  });
  try {
    const { models, artifacts } = await work();
    registry.finishRun(runId, models, artifacts);
    return runId;
  } catch (e) {
    registry.endRun(runId, 'failed', (e as Error).message);
    throw e;
  } finally {
    forget();
    if (registry.db.open) registry.close();
  }
}
