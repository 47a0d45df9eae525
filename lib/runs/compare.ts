// `compare`: base vs fine-tuned, whole (outputs, registry run) or one shard of it (a part file
// for `merge`).
import { mkdirSync } from 'node:fs';
import { type CompareResult, compare, compareShard, withModels } from '../compare.js';
import type { Dataset } from '../data/dataset.js';
import type { LoadOptions } from '../data/load.js';
import { DEFAULT_SEED } from '../defaults.js';
import { checkAborted } from '../errors.js';
import { loggedRun, reachRegistry, type RunStart, runStart } from '../registry/index.js';
import { checkMoversDim, stageCompareOutputs } from '../report/outputs.js';
import { type CompareResultsJson, compareResultsJson } from '../report/results.js';
import { engineArithmetic } from '../score/engine.js';
import { type Shard, shardRange, writePartial } from '../score/shards.js';
import { datasetOf } from './eval.js';
import {
  encoderOptions,
  type EncodingOptions,
  type LoggingOptions,
  registryOf,
  refuseQuantized,
  reportingOptions,
  type RetrievalOutputOptions,
  retrievalOutputs,
  runKLists,
  type RunListeners,
  type ScoringOptions,
} from './options.js';
import { checkTrecIds } from '../report/retrieved.js';
import { type CompareExtra, type CompareRunKey, dataKey, loadKey, modelSettings, partPath } from './parts.js';
import { modelRecord } from './records.js';

export interface CompareRunOptions extends ScoringOptions, EncodingOptions, LoggingOptions, RunListeners, RetrievalOutputOptions {
  base: string;
  tuned: string;
  /** Names in results.json, the report and the registry (default: the folders' names). */
  names?: { base?: string; tuned?: string };
  data: string | Dataset;
  load?: LoadOptions;
  /** Output folder (default DEFAULT_OUT_DIR); a shard's part file goes there too. */
  out?: string;
  /** The chart's and headline table's metric (default HEADLINE_METRIC). */
  chartMetric?: string;
  /** Seed of the bootstrap and randomization test (default DEFAULT_SEED). */
  seed?: number;
  /** Run only this shard: its partial top-k lists, for runMerge. */
  shard?: Shard;
  /** The dim of the report's gained and lost queries (default: the smallest). */
  moversDim?: number;
}

export interface CompareRun {
  kind: 'compare';
  dataset: Dataset;
  result: CompareResult;
  results: CompareResultsJson;
  chartMetric: string;
  files: string[];
  runId: string | null;
  notes: string[];
}

export interface CompareShardRun {
  kind: 'compare-shard';
  shard: Shard;
  corpus: { start: number; end: number; total: number };
  /** The part file written. */
  part: string;
}

/**
 * Compares two models on one dataset at every dim (or runs one shard of that compare).
 * @throws UserError on bad input; InterruptedError once `signal` fires (nothing written).
 */
export async function runCompare(o: CompareRunOptions): Promise<CompareRun | CompareShardRun> {
  // Every option is checked before any data is read or any model encodes.
  if (o.shard) refuseQuantized(o, 'in shards (--shard)');
  const { chartMetric, kLists: asked, out, scoring } = reportingOptions(o);
  const retrieval = retrievalOutputs(o);
  const dataset = await datasetOf(o.data, o.load, o);
  if (o.trecRun !== undefined) checkTrecIds(dataset);
  const kLists = runKLists(dataset, asked, o);
  const options = { ...scoring, kLists, signal: o.signal, encoder: encoderOptions(o) };
  if (o.shard) return compareShardRun(o, o.shard, dataset, out, options);
  const seed = o.seed ?? DEFAULT_SEED;
  // The models are loaded and the dims checked against them before the registry hears of a run:
  // a model that is not there or a dim it does not have is a usage error, not a failed run.
  const registry = registryOf(o);
  await reachRegistry(registry);
  return withModels(o.base, o.tuned, options, (encoders, dims) => {
    checkMoversDim(o.moversDim, dims); // a usage error, before the registry hears of a run
    return logCompare(
      { out, chartMetric, names: o.names, registry, signal: o.signal, moversDim: o.moversDim, retrievedK: o.retrievedK, retrieval },
      dataset,
      runStart('compare', dataset, o.dims, kLists, o.device ?? 'cpu', o.commandLine),
      () => compare(encoders[0], encoders[1], dataset, { ...options, stats: { seed } }),
    );
  });
}

/** Runs `work` (a compare, or a merge of its shards) as a logged registry run and writes its outputs. */
export async function logCompare(
  o: {
    out: string;
    chartMetric: string;
    names?: { base?: string; tuned?: string };
    registry: string | null;
    signal?: AbortSignal;
    moversDim?: number;
    retrievedK?: number;
    retrieval?: ReturnType<typeof retrievalOutputs>;
  },
  dataset: Dataset,
  start: RunStart,
  work: () => Promise<CompareResult>,
): Promise<CompareRun> {
  let done: Pick<CompareRun, 'result' | 'results'> | undefined;
  const logged = await loggedRun(o.registry, start, async () => {
    const result = await work();
    const names = { base: o.names?.base ?? result.base.model.name, tuned: o.names?.tuned ?? result.tuned.model.name };
    const results = compareResultsJson(dataset, result, names);
    checkAborted(o.signal);
    done = { result, results };
    return {
      models: [modelRecord('base', result.base, names.base, 'base_model_eval'), modelRecord('tuned', result.tuned, names.tuned, 'finetuned_model_eval')],
      outputs: stageCompareOutputs(o.out, dataset, result, { chartMetric: o.chartMetric, names, moversDim: o.moversDim, retrievedK: o.retrievedK }),
    };
  });
  const trec = o.retrieval?.write(dataset, { base: done!.result.base, tuned: done!.result.tuned }) ?? [];
  return { kind: 'compare', dataset, chartMetric: o.chartMetric, ...done!, ...logged, files: [...logged.files, ...trec] };
}

async function compareShardRun(
  o: CompareRunOptions,
  shard: Shard,
  dataset: Dataset,
  out: string,
  options: Parameters<typeof compareShard>[4],
): Promise<CompareShardRun> {
  const r = await compareShard(o.base, o.tuned, dataset, shard, options);
  checkAborted(o.signal);
  const part = partPath(out, 'compare', shard);
  const run: CompareRunKey = {
    command: 'compare',
    models: { base: modelSettings(r.models.base), tuned: modelSettings(r.models.tuned) },
    data: { ...dataKey(dataset), load: loadKey(o.load) },
    dims: r.dims,
    k_lists: r.kLists,
    seed: o.seed ?? DEFAULT_SEED,
    arithmetic: engineArithmetic(o),
  };
  const extra: CompareExtra = { models: r.models, names: { ...o.names }, encode_ms: r.encodeMs, inferred: r.inferred, engine: r.topk.base.engine };
  mkdirSync(out, { recursive: true });
  writePartial(part, { run, shard, corpus: r.corpus, extra }, { base: r.topk.base, tuned: r.topk.tuned });
  return { kind: 'compare-shard', shard, corpus: { ...shardRange(r.corpus.total, shard), total: r.corpus.total }, part };
}
