// results.json and per_query.jsonl: what a run keeps. JSON keys are snake_case; the shape is
// declared here (EvalResultsJson, CompareResultsJson) and in schema/results.schema.json, which
// the package ships; RESULTS_SCHEMA_VERSION changes whenever a field changes meaning or goes.
import type { CompareResult } from '../compare.js';
import { countsJson, type Dataset, datasetCounts, judgeQueries } from '../data/dataset.js';
import { type EvalResult, indexSizes, type ModelEvalResult } from '../evaluate.js';
import type { Difference } from '../stats/index.js';
import type { KLists } from '../metrics/index.js';
import type { TrainingResult } from '../training.js';
import { VERSION } from '../version.js';

/** The version of results.json's shape (schema/results.schema.json). */
export const RESULTS_SCHEMA_VERSION = 1;

export interface DatasetJson {
  name: string;
  source: string;
  split: string | null;
  queries: number;
  scored_queries: number;
  corpus: number;
  relevant_pairs: number;
}

export interface ModelJson {
  path: string;
  name: string;
  /** sha256 over every file that decides the embeddings. */
  sha256: string;
  width: number;
  pooling: string[];
  prompts: { query: string; document: string };
  max_seq_length: number;
  normalize: boolean;
  files: string[];
}

interface ResultsHeader {
  schema_version: typeof RESULTS_SCHEMA_VERSION;
  emb_bench_version: string;
  command: string;
  /** ISO 8601. */
  created: string;
  dataset: DatasetJson;
  dims: number[];
  k_lists: KLists;
}

/** results.json of `score` and `eval`. */
export interface EvalResultsJson extends ResultsHeader {
  command: 'score' | 'eval';
  engine: string;
  /** score: the embedding files. */
  inputs?: Record<string, string>;
  /** eval: the model. */
  model?: ModelJson;
  encode_ms?: number;
  inferred_texts?: number;
  timings_ms: { score: number; metrics: number };
  warnings: string[];
  /** `dim_{d}_cosine_{metric}` (and `dim_{d}_{precision}_cosine_{metric}`) -> mean over the scored queries. */
  metrics: Record<string, number>;
  /** With quantized precisions: how they were scored, their sizes and their tests against float32. */
  quantization?: QuantizationJson;
}

/** A run's quantized precisions in results.json (schema: definitions/quantization). */
export interface QuantizationJson {
  precisions: string[];
  rescore_multiplier: number;
  calibration: { source: string; rows: number };
  ranges: { min: number[]; max: number[] } | null;
  kernel: string;
  sizes: Array<{ dim: number; precision: string; bytes_per_vector: number; index_bytes: number }>;
  /** Keyed like the quantized metrics: quantized - float32 at the same dim. */
  versus_float32: Record<string, DifferenceJson>;
  timings_ms: Record<string, number>;
  warnings: string[];
}

export function quantizationJson(r: EvalResult): QuantizationJson | undefined {
  const q = r.quantization;
  if (!q) return undefined;
  return {
    precisions: q.precisions,
    rescore_multiplier: q.rescoreMultiplier,
    calibration: q.calibration,
    ranges: q.ranges ? { min: Array.from(q.ranges.min), max: Array.from(q.ranges.max) } : null,
    kernel: q.kernel,
    sizes: indexSizes(q.precisions, r.dims, r.counts.corpus).map((s) => ({
      dim: s.dim,
      precision: s.precision,
      bytes_per_vector: s.bytesPerVector,
      index_bytes: s.indexBytes,
    })),
    versus_float32: Object.fromEntries(Object.entries(q.versusFloat32).map(([k, d]) => [k, differenceJson(d)])),
    timings_ms: q.timingsMs,
    warnings: q.warnings,
  };
}

/** One difference tuned - base: the library's Difference in snake_case (ciLow -> ci_low, pValue -> p_value, pHolm -> p_holm). */
export interface DifferenceJson {
  base: number;
  tuned: number;
  diff: number;
  ci_low: number;
  ci_high: number;
  p_value: number;
  p_holm: number;
  significant: boolean;
}

export interface CompareSideJson {
  model: Omit<ModelJson, 'files'>;
  engine: string;
  encode_ms: number;
  score_ms: number;
  inferred_texts: number;
  metrics: Record<string, number>;
  quantization?: QuantizationJson;
}

/** results.json of `compare`. */
export interface CompareResultsJson extends ResultsHeader {
  command: 'compare';
  base: CompareSideJson;
  tuned: CompareSideJson;
  /** Keyed like the metrics. */
  differences: Record<string, DifferenceJson>;
  stats: CompareResult['stats'];
  timings_ms: { total: number };
  warnings: string[];
}

export function datasetSummary(dataset: Dataset, result: EvalResult): DatasetJson {
  return { name: dataset.name, source: dataset.source, split: dataset.split ?? null, ...countsJson(result.counts) };
}

function header(command: string, dataset: Dataset, result: EvalResult): ResultsHeader {
  return {
    schema_version: RESULTS_SCHEMA_VERSION,
    emb_bench_version: VERSION,
    command,
    created: new Date().toISOString(),
    dataset: datasetSummary(dataset, result),
    dims: result.dims,
    k_lists: result.kLists,
  };
}

/** The model as results.json and the registry describe it. */
export function modelJson(r: ModelEvalResult, name?: string): ModelJson {
  const m = r.model;
  return {
    path: m.path,
    name: name ?? m.name,
    sha256: m.sha256,
    width: m.width,
    pooling: m.pooling,
    prompts: m.prompts,
    max_seq_length: m.maxSeqLength,
    normalize: m.normalize,
    files: m.files,
  };
}

/** results.json of `score` (precomputed embeddings: `inputs` names them) or `eval` (a model). */
export function evalResultsJson(
  command: 'score' | 'eval',
  dataset: Dataset,
  result: EvalResult | ModelEvalResult,
  extra: { inputs?: Record<string, string>; modelName?: string } = {},
): EvalResultsJson {
  const model = 'model' in result ? result : null;
  return {
    ...header(command, dataset, result),
    command,
    engine: result.engine,
    ...(extra.inputs ? { inputs: extra.inputs } : {}),
    ...(model ? { model: modelJson(model, extra.modelName), encode_ms: model.encodeMs, inferred_texts: model.inferred } : {}),
    timings_ms: result.timingsMs,
    warnings: dataset.warnings,
    metrics: result.metrics,
    ...(result.quantization ? { quantization: quantizationJson(result) } : {}),
  };
}

const differenceJson = (d: Difference): DifferenceJson => ({
  base: d.base,
  tuned: d.tuned,
  diff: d.diff,
  ci_low: d.ciLow,
  ci_high: d.ciHigh,
  p_value: d.pValue,
  p_holm: d.pHolm,
  significant: d.significant,
});

/** results.json of `compare`. */
export function compareResultsJson(dataset: Dataset, result: CompareResult, names: { base?: string; tuned?: string } = {}): CompareResultsJson {
  const side = (r: ModelEvalResult, name?: string): CompareSideJson => {
    const { files: _files, ...model } = modelJson(r, name);
    return {
      model,
      engine: r.engine,
      encode_ms: r.encodeMs,
      score_ms: r.timingsMs.score,
      inferred_texts: r.inferred,
      metrics: r.metrics,
      ...(r.quantization ? { quantization: quantizationJson(r) } : {}),
    };
  };
  return {
    ...header('compare', dataset, result.base),
    command: 'compare',
    base: side(result.base, names.base),
    tuned: side(result.tuned, names.tuned),
    differences: Object.fromEntries(Object.entries(result.differences).map(([k, d]) => [k, differenceJson(d)])),
    stats: result.stats,
    timings_ms: result.timingsMs,
    warnings: dataset.warnings,
  };
}

/** One checkpoint of a training run in results.json. */
export interface CheckpointJson {
  /** `checkpoint-500`, or `final` for the model at the run's root. */
  name: string;
  step: number | null;
  epoch: number | null;
  model: Omit<ModelJson, 'files'>;
  encode_ms: number;
  score_ms: number;
  inferred_texts: number;
  metrics: Record<string, number>;
  /** The trainer's training log at this step (loss, learning_rate, ...). */
  train_log: Record<string, number>;
  /** The trainer's own evaluator numbers for keys emb-bench computes, side by side. */
  trainer: Array<{ key: string; trainer_key: string; ours: number; trainer: number; agrees: boolean; note?: string }>;
  /** compare: the chart metric against the base at each dim. */
  against_base?: Record<string, DifferenceJson>;
}

/** results.json of `eval` or `compare` on a training run (every checkpoint). */
export interface TrainingResultsJson extends ResultsHeader {
  command: 'training';
  run: { name: string; path: string };
  /** The metric that picks the best checkpoint. */
  metric: string;
  /** compare: the base model. */
  base: CompareSideJson | null;
  /** In step order. */
  checkpoints: CheckpointJson[];
  /** Per dim: the best checkpoint, the earliest within its noise, and every other against the best (base = the best, tuned = the checkpoint). */
  picks: Array<{ dim: number; best: string; best_value: number; earliest: string; against_best: Record<string, DifferenceJson> }>;
  /** Checkpoints the trainer deleted before they could be read. */
  skipped: string[];
  stats: { samples: number; permutations: number; seed: number; alpha: number; interval: string; test: string; correction: string };
  timings_ms: { total: number };
  warnings: string[];
}

/** results.json of a training run. */
export function trainingResultsJson(
  dataset: Dataset,
  result: TrainingResult,
  o: { runName: string; runPath: string; baseName?: string; kLists: KLists; totalMs: number; interval: string; test: string },
): TrainingResultsJson {
  const counts = result.checkpoints[0]?.result.counts ?? result.base?.counts ?? datasetCounts(dataset, judgeQueries(dataset, o.kLists.conventions));
  const side = (r: ModelEvalResult, name?: string) => {
    const { files: _files, ...model } = modelJson(r, name);
    return { model, engine: r.engine, encode_ms: r.encodeMs, score_ms: r.timingsMs.score, inferred_texts: r.inferred, metrics: r.metrics };
  };
  const diffs = (d: Record<string, Difference>) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, differenceJson(v)]));
  const { correction, samples, permutations, seed, alpha } = result.stats;
  return {
    schema_version: RESULTS_SCHEMA_VERSION,
    emb_bench_version: VERSION,
    command: 'training',
    created: new Date().toISOString(),
    dataset: { name: dataset.name, source: dataset.source, split: dataset.split ?? null, ...countsJson(counts) },
    dims: result.dims,
    k_lists: o.kLists,
    run: { name: o.runName, path: o.runPath },
    metric: result.metric,
    base: result.base ? side(result.base, o.baseName) : null,
    checkpoints: result.checkpoints.map((c) => {
      const { engine: _engine, ...s } = side(c.result, o.runName);
      return {
        name: c.checkpoint.name,
        step: c.checkpoint.step,
        epoch: c.checkpoint.epoch,
        ...s,
        train_log: c.trainLog,
        trainer: c.trainer.map((t) => ({
          key: t.key,
          trainer_key: t.trainerKey,
          ours: t.ours,
          trainer: t.trainer,
          agrees: t.agrees,
          ...(t.note ? { note: t.note } : {}),
        })),
        ...(result.base ? { against_base: diffs(result.againstBase[c.checkpoint.name] ?? {}) } : {}),
      };
    }),
    picks: result.picks.map((p) => ({ dim: p.dim, best: p.best, best_value: p.bestValue, earliest: p.earliest, against_best: diffs(p.againstBest) })),
    skipped: result.skipped,
    stats: { samples, permutations, seed, alpha, interval: o.interval, test: o.test, correction },
    timings_ms: { total: o.totalMs },
    warnings: dataset.warnings,
  };
}

/** One JSON object per scored query: its id and every metric at every dim. */
export function perQueryJsonl(results: Record<string, EvalResult>): string {
  const entries = Object.entries(results);
  const [, first] = entries[0];
  const lines = first.queryIds.map((id, q) => {
    const row: Record<string, unknown> = { query_id: id };
    for (const [label, r] of entries) {
      const values: Record<string, number> = {};
      for (const [key, arr] of Object.entries(r.perQuery)) values[key] = arr[q];
      row[label] = values;
    }
    return JSON.stringify(row);
  });
  return lines.join('\n') + '\n';
}
