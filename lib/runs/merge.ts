// `merge`: the part files of a sharded compare or score, merged into the outputs (and, for
// compare, the registry run) that one host would have written, exactly.
import { compareFromTopK } from '../compare.js';
import { type Dataset, datasetFingerprint, judgeQueries } from '../data/dataset.js';
import { loadDataset } from '../data/load.js';
import { headlineMetric } from '../defaults.js';
import { invalidParameter, UserError } from '../errors.js';
import { rankingMetrics } from '../evaluate.js';
import { maxK } from '../metrics/index.js';
import { runStart } from '../registry/index.js';
import { checkHeadlineMetric, checkOutDir, writeEvalOutputs } from '../report/outputs.js';
import { evalResultsJson } from '../report/results.js';
import { mergePartials, type Partial, readPartial } from '../score/shards.js';
import { type CompareRun, logCompare } from './compare.js';
import { type LoggingOptions, registryOf, type RunListeners } from './options.js';
import type { CompareExtra, CompareRunKey, ScoreExtra, ScoreRunKey } from './parts.js';
import type { ScoreRun } from './score.js';

export interface MergeRunOptions extends LoggingOptions, RunListeners {
  /** Every part file of one run. */
  parts: string[];
  out: string;
  /** compare parts: the chart's and headline table's metric (default HEADLINE_METRIC). */
  chartMetric?: string;
}

export type MergeRun = (CompareRun | ScoreRun) & { shards: number };

type Part<Run, Extra> = { path: string; partial: Partial<Run, Extra> };

/**
 * Merges every shard of one compare or score run.
 * @throws UserError when the set is incomplete, mixed (naming the setting that differs) or damaged, or the data changed.
 */
export async function runMerge(o: MergeRunOptions): Promise<MergeRun> {
  checkOutDir(o.out);
  if (o.parts.length === 0) throw new UserError('merge: no shard results given', 'ERR_INPUT');
  const parts = o.parts.map((path) => ({ path, partial: readPartial<CompareRunKey | ScoreRunKey, CompareExtra | ScoreExtra>(path) }));
  const command = parts[0].partial.header.run.command;
  if (command === 'score') {
    if (o.chartMetric !== undefined) throw invalidParameter('chartMetric', 'no chart metric: score parts make no chart', o.chartMetric, 'ERR_OPTION');
    return { ...(await mergeScore(parts as Array<Part<ScoreRunKey, ScoreExtra>>, o.out)), shards: parts.length };
  }
  if (command !== 'compare') throw new UserError(`${parts[0].path}: not a shard of a compare or score run`, 'ERR_INPUT');
  return { ...(await mergeCompare(parts as Array<Part<CompareRunKey, CompareExtra>>, o)), shards: parts.length };
}

function checkFingerprint(dataset: Dataset, run: { data: { path: string; fingerprint: string } }): void {
  if (datasetFingerprint(dataset) !== run.data.fingerprint)
    throw new UserError(`${run.data.path}: the dataset changed since the shards ran (its fingerprint differs); run the shards again`, 'ERR_INPUT');
}

async function mergeCompare(parts: Array<Part<CompareRunKey, CompareExtra>>, o: MergeRunOptions): Promise<CompareRun> {
  const run = parts[0].partial.header.run;
  const chartMetric = o.chartMetric ?? headlineMetric(run.k_lists);
  checkHeadlineMetric(chartMetric, run.k_lists);
  const topk = mergePartials(parts, maxK(run.k_lists));
  const dataset = await loadDataset(run.data.path, run.data.load);
  checkFingerprint(dataset, run);
  const extras = parts.map((p) => p.partial.header.extra);
  const { models, names } = extras[0];
  return logCompare(
    { out: o.out, chartMetric, names, registry: registryOf(o), signal: o.signal },
    dataset,
    runStart('compare', dataset, run.dims, run.k_lists, 'cpu', o.commandLine),
    () =>
      compareFromTopK(dataset, { base: topk.base, tuned: topk.tuned }, models, run.k_lists, {
        stats: { seed: run.seed },
        signal: o.signal,
        encodeMs: extras.reduce((n, e) => n + e.encode_ms, 0),
        inferred: extras.reduce((n, e) => n + e.inferred, 0),
      }),
  );
}

async function mergeScore(parts: Array<Part<ScoreRunKey, ScoreExtra>>, out: string): Promise<ScoreRun> {
  const run = parts[0].partial.header.run;
  const merged = mergePartials(parts, maxK(run.k_lists));
  const dataset = await loadDataset(run.data.path, run.data.load);
  checkFingerprint(dataset, run);
  const result = rankingMetrics(dataset, judgeQueries(dataset, run.k_lists.conventions), merged.model, run.k_lists);
  const results = evalResultsJson('score', dataset, result, { inputs: parts[0].partial.header.extra.inputs });
  return { kind: 'score', dataset, result, results, files: writeEvalOutputs(out, results, result, { dataset }) };
}
