// `eval`: one model on one dataset at every dim, written as a set and logged.
import type { Dataset } from '../data/dataset.js';
import { loadDataset, type LoadOptions } from '../data/load.js';
import { DEFAULT_OUT_DIR } from '../defaults.js';
import { checkAborted } from '../errors.js';
import { Encoder } from '../encode/encoder.js';
import { evaluateModel, type ModelEvalResult } from '../evaluate.js';
import { checkDims } from '../score/engine.js';
import { loggedRun, reachRegistry, runStart } from '../registry/index.js';
import { checkOutDir, stageEvalOutputs } from '../report/outputs.js';
import { type EvalResultsJson, evalResultsJson } from '../report/results.js';
import {
  encoderOptions,
  type EncodingOptions,
  type LoggingOptions,
  registryOf,
  type RetrievalOutputOptions,
  retrievalOutputs,
  runKLists,
  type RunListeners,
  type ScoringOptions,
  scoringOptions,
} from './options.js';
import { checkTrecIds } from '../report/retrieved.js';
import { modelRecord } from './records.js';

export interface EvalRunOptions extends ScoringOptions, EncodingOptions, LoggingOptions, RunListeners, RetrievalOutputOptions {
  /** A model folder, .onnx file, or Hub id. */
  model: string;
  /** The model's name in results.json and the registry (default: its folder's name). */
  modelName?: string;
  /** A dataset path or Hub id (read with `load`), or a loaded Dataset. */
  data: string | Dataset;
  load?: LoadOptions;
  /** Output folder (default DEFAULT_OUT_DIR). */
  out?: string;
}

export interface EvalRun {
  dataset: Dataset;
  result: ModelEvalResult;
  results: EvalResultsJson;
  /** The files written. */
  files: string[];
  /** The registry run, null when not logged. */
  runId: string | null;
  /** What the registry said worth telling. */
  notes: string[];
}

/** Reads `data` (a path through loadDataset, with the run's listeners) or takes it as loaded. */
export async function datasetOf(data: string | Dataset, load: LoadOptions | undefined, l: RunListeners): Promise<Dataset> {
  if (typeof data !== 'string') return data;
  const dataset = await loadDataset(data, { ...load, hub: { onProgress: l.onProgress, onWarning: l.onWarning, signal: l.signal, ...load?.hub } });
  dataset.warnings.forEach((w) => l.onWarning?.(w));
  return dataset;
}

/**
 * Evaluates one model: encodes the dataset once, scores every dim, writes results.json and
 * per_query.jsonl into `out` as a set, and logs the run.
 * @throws UserError on bad input; InterruptedError once `signal` fires (nothing written).
 */
export async function runEval(o: EvalRunOptions): Promise<EvalRun> {
  const out = o.out ?? DEFAULT_OUT_DIR;
  const scoring = scoringOptions(o);
  checkOutDir(out);
  const retrieval = retrievalOutputs(o);
  const dataset = await datasetOf(o.data, o.load, o);
  if (o.trecRun !== undefined) checkTrecIds(dataset);
  const kLists = runKLists(dataset, o.kLists, o);
  let done: Pick<EvalRun, 'result' | 'results'> | undefined;
  const registry = registryOf(o);
  await reachRegistry(registry);
  // Loaded, and the dims checked against it, before the registry hears of a run: a model that is
  // not there or a dim it does not have is a usage error, not a failed run.
  const encoder = await Encoder.load(o.model, encoderOptions(o));
  try {
    if (o.dims) checkDims(o.dims, await encoder.width(), `model ${encoder.spec.name}`);
  } catch (e) {
    await encoder.close();
    throw e;
  }
  const logged = await loggedRun(registry, runStart('eval', dataset, o.dims, kLists, o.device ?? 'cpu', o.commandLine), async () => {
    const result = await evaluateModel(encoder, dataset, { ...scoring, kLists, signal: o.signal });
    const results = evalResultsJson('eval', dataset, result, { modelName: o.modelName });
    checkAborted(o.signal);
    done = { result, results };
    return {
      models: [modelRecord('model', result, o.modelName, 'model_eval')],
      outputs: stageEvalOutputs(out, results, result, { dataset, retrievedK: o.retrievedK }),
    };
  }).finally(() => encoder.close());
  const files = [...logged.files, ...retrieval.write(dataset, { model: done!.result })];
  return { dataset, ...done!, ...logged, files };
}
