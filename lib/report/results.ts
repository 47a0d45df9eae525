// results.json and per_query.jsonl: what a run keeps.
import { join } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import type { EvalResult } from '../evaluate.js';
import { writeAtomic, writeJson } from '../files.js';
import { VERSION } from '../version.js';

export function datasetSummary(dataset: Dataset, result: EvalResult) {
  return { name: dataset.name, source: dataset.source, split: dataset.split ?? null, ...result.counts };
}

export function evalResultsJson(command: string, dataset: Dataset, result: EvalResult, extra: Record<string, unknown> = {}) {
  return {
    emb_bench_version: VERSION,
    command,
    created: new Date().toISOString(),
    dataset: datasetSummary(dataset, result),
    dims: result.dims,
    k_lists: result.kLists,
    engine: result.engine,
    ...extra,
    timings_ms: result.timingsMs,
    warnings: dataset.warnings,
    metrics: result.metrics,
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

export function writeEvalOutputs(outDir: string, resultsJson: object, perQuery: Record<string, EvalResult>): string[] {
  const files = [join(outDir, 'per_query.jsonl'), join(outDir, 'results.json')];
  writeAtomic(files[0], perQueryJsonl(perQuery));
  writeJson(files[1], resultsJson);
  return files;
}
