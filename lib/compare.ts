// The main job: base vs fine-tuned at every Matryoshka dim. Both models are checked before any
// encoding, each is encoded once, every dim is scored in one pass, and each difference gets a
// paired bootstrap interval and a randomization-test p-value (Holm-corrected across dims).
import { type Dataset, judgeQueries } from './data/dataset.js';
import { Encoder, type EncoderOptions } from './encode/encoder.js';
import { evaluateModel, type EvalOptions, type ModelEvalResult, rankingMetrics } from './evaluate.js';
import { DEFAULT_K_LISTS, type KLists, maxK, metricNames, qualifiedName } from './metrics/index.js';
import { type Shard, shardRange } from './score/shards.js';
import type { TopKResult } from './score/types.js';
import { compareMetrics, DEFAULT_STATS, STATS_METHODS, type Difference, type StatsOptions } from './stats/index.js';
import { checkDims, scoreSlice } from './score/index.js';

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
export async function compare(base: string | Encoder, tuned: string | Encoder, dataset: Dataset, options: CompareOptions = {}): Promise<CompareResult> {
  const t0 = performance.now();
  return withModels(base, tuned, options, async (encoders, dims, kLists) => {
    const evalOptions = { ...options, dims, kLists };
    const baseResult = await evaluateModel(encoders[0], dataset, evalOptions);
    const tunedResult = await evaluateModel(encoders[1], dataset, evalOptions);
    return testDifferences(baseResult, tunedResult, options, t0);
  });
}

/**
 * Loads both models once (a model given as an Encoder is used as it is, and left open) and
 * checks the dims against both before anything is encoded.
 */
export async function withModels<T>(
  base: string | Encoder,
  tuned: string | Encoder,
  options: CompareOptions,
  work: (encoders: Encoder[], dims: number[], kLists: KLists, widths: number[]) => Promise<T>,
): Promise<T> {
  const encoderOptions = { signal: options.signal, ...options.encoder };
  const encoders: Encoder[] = [];
  const loaded: Encoder[] = [];
  try {
    for (const model of [base, tuned]) {
      const encoder = typeof model === 'string' ? await Encoder.load(model, encoderOptions) : model;
      if (encoder !== model) loaded.push(encoder);
      encoders.push(encoder);
    }
    const widths = await Promise.all(encoders.map((e) => e.width()));
    const dims = options.dims ?? [Math.min(...widths)];
    encoders.forEach((e, i) => checkDims(dims, widths[i], `model ${e.spec.name}`));
    return await work(encoders, dims, options.kLists ?? DEFAULT_K_LISTS, widths);
  } finally {
    await Promise.all(loaded.map((e) => e.close()));
  }
}

/** The paired tests of every metric at every dim, Holm-corrected across dims. */
export async function testDifferences(base: ModelEvalResult, tuned: ModelEvalResult, options: CompareOptions, t0 = performance.now()): Promise<CompareResult> {
  const stats = { ...DEFAULT_STATS, ...options.stats };
  // with quantized precisions, base vs tuned at every (dim, precision), Holm per metric across all of them
  const precisions = base.quantization?.precisions ?? ['float32'];
  const names = precisions.flatMap((p) => metricNames(base.kLists).map((n) => qualifiedName(p, n)));
  const differences = await compareMetrics(base.dims, names, base.perQuery, tuned.perQuery, stats, options.signal);
  return {
    dims: base.dims,
    base,
    tuned,
    differences,
    stats: { ...stats, interval: STATS_METHODS.interval(stats), test: STATS_METHODS.test, correction: STATS_METHODS.correction },
    timingsMs: { total: performance.now() - t0 },
  };
}

export interface CompareShardResult {
  dims: number[];
  kLists: KLists;
  corpus: { start: number; end: number; total: number };
  /** The shard's top-k per role, with indices into the whole corpus. */
  topk: { base: TopKResult; tuned: TopKResult };
  models: { base: ModelEvalResult['model']; tuned: ModelEvalResult['model'] };
  encodeMs: number;
  inferred: number;
}

/**
 * Shard `shard` of a compare: both models (checked as compare checks them) embed the scored
 * queries and the shard's slice of the corpus, and score that slice; merging the shards'
 * lists (score/shards.ts) and compareFromTopK give compare's result, exactly.
 */
export async function compareShard(base: string, tuned: string, dataset: Dataset, shard: Shard, options: CompareOptions = {}): Promise<CompareShardResult> {
  return withModels(base, tuned, options, async (encoders, dims, kLists, widths) => {
    const judged = judgeQueries(dataset, kLists.conventions);
    const total = dataset.corpus.ids.length;
    const range = shardRange(total, shard);
    const t0 = performance.now();
    const inferredBefore = encoders.map((e) => e.inferred);
    const topk: TopKResult[] = [];
    for (const encoder of encoders) {
      const queries = await encoder.encode(
        judged.queryRows.map((r) => dataset.queries.texts[r]),
        { kind: 'query' },
      );
      const corpus = await encoder.encode(dataset.corpus.texts.slice(range.start, range.end), { kind: 'document' });
      topk.push(await scoreSlice(queries, corpus, range.start, dims, maxK(kLists), options));
    }
    return {
      dims,
      kLists,
      corpus: { ...range, total },
      topk: { base: topk[0], tuned: topk[1] },
      models: { base: { ...encoders[0].spec, width: widths[0] }, tuned: { ...encoders[1].spec, width: widths[1] } },
      encodeMs: performance.now() - t0,
      inferred: encoders.reduce((n, e, i) => n + e.inferred - inferredBefore[i], 0),
    };
  });
}

/** compare's result from the merged top-k lists of its shards. */
export async function compareFromTopK(
  dataset: Dataset,
  topk: { base: TopKResult; tuned: TopKResult },
  models: CompareShardResult['models'],
  kLists: KLists,
  options: CompareOptions & { encodeMs?: number; inferred?: number } = {},
): Promise<CompareResult> {
  const judged = judgeQueries(dataset, kLists.conventions);
  const side = (role: 'base' | 'tuned'): ModelEvalResult => ({
    ...rankingMetrics(dataset, judged, topk[role], kLists, 0, options.signal),
    model: models[role],
    encodeMs: options.encodeMs ?? 0,
    inferred: options.inferred ?? 0,
  });
  return testDifferences(side('base'), side('tuned'), options);
}
