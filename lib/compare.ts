// The main job: base vs fine-tuned at every Matryoshka dim. Both models are checked before any
// encoding, each is encoded once, every dim is scored in one pass, and each difference gets a
// paired bootstrap interval and a randomization-test p-value (Holm-corrected across dims).
import type { Dataset } from './data/dataset.js';
import { Encoder, type EncoderOptions } from './encode/encoder.js';
import { evaluateModel, type EvalOptions, type ModelEvalResult } from './evaluate.js';
import { DEFAULT_K_LISTS, metricKey, metricNames, type KLists } from './metrics/index.js';
import { compareMetrics, type Difference, type StatsOptions } from './stats/index.js';
import { checkDims } from './score/index.js';

export interface CompareOptions extends EvalOptions {
  encoder?: EncoderOptions;
  stats?: StatsOptions;
}

export interface CompareResult {
  dims: number[];
  base: ModelEvalResult;
  tuned: ModelEvalResult;
  /** Keyed like the metrics: `dim_768_cosine_ndcg@10` -> difference tuned - base. */
  differences: Record<string, Difference>;
  stats: Required<StatsOptions> & { interval: string; test: string; correction: string };
  timingsMs: { total: number };
}

export async function compare(base: string, tuned: string, dataset: Dataset, options: CompareOptions = {}): Promise<CompareResult> {
  const t0 = performance.now();
  // Load both models and check the dims before encoding anything; each is loaded once.
  const encoders: Encoder[] = [];
  try {
    for (const path of [base, tuned]) encoders.push(await Encoder.load(path, options.encoder));
    const widths = await Promise.all(encoders.map((e) => e.width()));
    const dims = options.dims ?? [Math.min(...widths)];
    encoders.forEach((e, i) => checkDims(dims, widths[i], `model ${e.spec.name}`));
    const kLists = options.kLists ?? DEFAULT_K_LISTS;
    const evalOptions = { ...options, dims, kLists };
    const baseResult = await evaluateModel(encoders[0], dataset, evalOptions);
    const tunedResult = await evaluateModel(encoders[1], dataset, evalOptions);
    return summarize(dims, kLists, baseResult, tunedResult, options.stats, t0);
  } finally {
    await Promise.all(encoders.map((e) => e.close()));
  }
}

function summarize(
  dims: number[],
  kLists: KLists,
  baseResult: ModelEvalResult,
  tunedResult: ModelEvalResult,
  statsOptions: StatsOptions | undefined,
  t0: number,
): CompareResult {
  const stats = { samples: 10000, permutations: 10000, seed: 0, alpha: 0.05, ...statsOptions };
  const differences = compareMetrics(dims, metricNames(kLists), metricKey, baseResult.perQuery, tunedResult.perQuery, stats);
  return {
    dims,
    base: baseResult,
    tuned: tunedResult,
    differences,
    stats: {
      ...stats,
      interval: `${stats.samples}-sample paired bootstrap, 95% percentile interval`,
      test: 'paired randomization (sign-flip) test, two-sided',
      correction: 'Holm across dims, per metric',
    },
    timingsMs: { total: performance.now() - t0 },
  };
}
