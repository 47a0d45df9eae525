// results.json and per_query.jsonl: what a run keeps. JSON keys are snake_case.
import type { CompareResult } from '../compare.js';
import { countsJson, type Dataset } from '../data/dataset.js';
import type { EvalResult, ModelEvalResult } from '../evaluate.js';
import type { Difference } from '../stats/index.js';
import { VERSION } from '../version.js';

export function datasetSummary(dataset: Dataset, result: EvalResult) {
  return { name: dataset.name, source: dataset.source, split: dataset.split ?? null, ...countsJson(result.counts) };
}

function header(command: string, dataset: Dataset, result: EvalResult) {
  return {
    emb_bench_version: VERSION,
    command,
    created: new Date().toISOString(),
    dataset: datasetSummary(dataset, result),
    dims: result.dims,
    k_lists: result.kLists,
  };
}

/** The model as results.json and the registry describe it. */
export function modelJson(r: ModelEvalResult, name?: string) {
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
) {
  const model = 'model' in result ? result : null;
  return {
    ...header(command, dataset, result),
    engine: result.engine,
    ...(extra.inputs ? { inputs: extra.inputs } : {}),
    ...(model ? { model: modelJson(model, extra.modelName), encode_ms: model.encodeMs, inferred_texts: model.inferred } : {}),
    timings_ms: result.timingsMs,
    warnings: dataset.warnings,
    metrics: result.metrics,
  };
}

export type EvalResultsJson = ReturnType<typeof evalResultsJson>;

const differenceJson = (d: Difference) => ({
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
export function compareResultsJson(dataset: Dataset, result: CompareResult, names: { base?: string; tuned?: string } = {}) {
  const side = (r: ModelEvalResult, name?: string) => {
    const { files: _files, ...model } = modelJson(r, name);
    return { model, engine: r.engine, encode_ms: r.encodeMs, score_ms: r.timingsMs.score, inferred_texts: r.inferred, metrics: r.metrics };
  };
  return {
    ...header('compare', dataset, result.base),
    base: side(result.base, names.base),
    tuned: side(result.tuned, names.tuned),
    differences: Object.fromEntries(Object.entries(result.differences).map(([k, d]) => [k, differenceJson(d)])),
    stats: result.stats,
    timings_ms: result.timingsMs,
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

export type CompareResultsJson = ReturnType<typeof compareResultsJson>;
