// The main job: base vs fine-tuned at every Matryoshka dim. Both models are checked before any
// encoding, each is encoded once, every dim is scored in one pass, and each difference gets a
// paired bootstrap interval and a randomization-test p-value (Holm-corrected across dims).
import type { Dataset } from './data/dataset.js';
import { Encoder, type EncoderOptions } from './encode/encoder.js';
import { evaluateModel, type EvalOptions, type ModelEvalResult } from './evaluate.js';
import { DEFAULT_K_LISTS, metricNames } from './metrics/index.js';
import { compareMetrics, DEFAULT_STATS, STATS_METHODS, type Difference, type StatsOptions } from './stats/index.js';
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

/**
 * Evaluates both models on the dataset and tests every difference.
 * @throws UserError on a bad model, dims or data; InterruptedError once options.signal fires.
 */
export async function compare(base: string, tuned: string, dataset: Dataset, options: CompareOptions = {}): Promise<CompareResult> {
  const t0 = performance.now();
  const encoderOptions = { signal: options.signal, ...options.encoder };
  // Load both models and check the dims before encoding anything; each is loaded once.
  const encoders: Encoder[] = [];
  try {
    for (const path of [base, tuned]) encoders.push(await Encoder.load(path, encoderOptions));
    const widths = await Promise.all(encoders.map((e) => e.width()));
    const dims = options.dims ?? [Math.min(...widths)];
    encoders.forEach((e, i) => checkDims(dims, widths[i], `model ${e.spec.name}`));
    const kLists = options.kLists ?? DEFAULT_K_LISTS;
    const evalOptions = { ...options, dims, kLists };
    const baseResult = await evaluateModel(encoders[0], dataset, evalOptions);
    const tunedResult = await evaluateModel(encoders[1], dataset, evalOptions);
    const stats = { ...DEFAULT_STATS, ...options.stats };
    const differences = await compareMetrics(dims, metricNames(kLists), baseResult.perQuery, tunedResult.perQuery, stats, options.signal);
    return {
      dims,
      base: baseResult,
      tuned: tunedResult,
      differences,
      stats: { ...stats, interval: STATS_METHODS.interval(stats), test: STATS_METHODS.test, correction: STATS_METHODS.correction },
      timingsMs: { total: performance.now() - t0 },
    };
  } finally {
    await Promise.all(encoders.map((e) => e.close()));
  }
}
