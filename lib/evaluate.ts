// Embeddings -> top-k at every dim -> sentence-transformers' metrics, per query and averaged.
import type { Dataset, DatasetCounts } from './data/dataset.js';
import { datasetCounts, judgeQueries, type JudgedQueries } from './data/dataset.js';
import type { Matrix } from './data/matrix.js';
import { takeRows } from './data/matrix.js';
import { checkAborted, UserError } from './errors.js';
import { computeMetrics, computeTrecMetrics, DEFAULT_K_LISTS, maxK, metricKey, metricNames, qualifiedName, trecOrder, type KLists } from './metrics/index.js';
import { checkDims, scoreTopK } from './score/index.js';
import type { Arithmetic, Device, KernelChoice, TopKResult } from './score/types.js';
import { Encoder, type EncoderOptions } from './encode/encoder.js';
import {
  bytesPerVector,
  calibrationRanges,
  checkPrecisions,
  DEFAULT_RESCORE_MULTIPLIER,
  MIN_CALIBRATION_ROWS,
  type Precision,
  type QuantizedPrecision,
  type Ranges,
  scoreQuantized,
} from './score/quantized.js';
import { type Difference, pairedTests, type StatsOptions } from './stats/index.js';
import type { ModelSpec } from './encode/model.js';

export interface EvalOptions {
  /** Matryoshka dims (default: the embeddings' full width). */
  dims?: number[];
  kLists?: KLists;
  threads?: number;
  device?: Device;
  /** CPU arithmetic and micro-kernel (ScoreOptions): how the scores are computed, never what they are. */
  arithmetic?: Arithmetic;
  kernel?: KernelChoice;
  /** Stops the run between (and inside) its phases with InterruptedError. */
  signal?: AbortSignal;
  /** Quantized precisions scored beside float32, each against it (lib/score/quantized.ts). */
  quantization?: QuantizationOptions;
  /** The paired tests of each quantized precision against float32. */
  stats?: StatsOptions;
}

export interface QuantizationOptions {
  /** Any of float32, int8, uint8, binary, ubinary; float32 is always scored (the reference). */
  precisions: Precision[];
  /** Rescore the first stage's top k x M with the float32 query (default 2, as sentence-transformers; 0: none). */
  rescoreMultiplier?: number;
  /**
   * What the int8 / uint8 ranges come from: embeddings (rows of the model's full width), or texts
   * the model embeds as documents; default: the corpus embeddings.
   */
  calibration?: Matrix | { texts: string[] };
}

/** What the quantized precisions were scored with, beside their metrics. */
export interface QuantizationResult {
  /** float32 first, then the quantized ones asked for. */
  precisions: Precision[];
  rescoreMultiplier: number;
  calibration: { source: 'corpus' | 'embeddings' | 'texts'; rows: number };
  /** The int8 / uint8 ranges (per column, up to the widest dim); null without those precisions. */
  ranges: Ranges | null;
  /** The quantized first stage's kernel. */
  kernel: string;
  timingsMs: Record<string, number>;
  /** Each quantized metric minus float32's at its dim, keyed like the quantized metric; Holm per metric across every (dim, precision). */
  versusFloat32: Record<string, Difference>;
  warnings: string[];
  /** Each quantized precision's final lists (retrieved.jsonl writes them). */
  tops: Partial<Record<QuantizedPrecision, TopKResult>>;
}

/** Bytes a vector takes and the corpus's index takes, per (dim, precision). */
export function indexSizes(
  precisions: Precision[],
  dims: number[],
  corpusRows: number,
): Array<{ dim: number; precision: Precision; bytesPerVector: number; indexBytes: number }> {
  return dims.flatMap((dim) =>
    precisions.map((precision) => ({
      dim,
      precision,
      bytesPerVector: bytesPerVector(precision, dim),
      indexBytes: bytesPerVector(precision, dim) * corpusRows,
    })),
  );
}

export interface EvalResult {
  dims: number[];
  kLists: KLists;
  /** `dim_{d}_cosine_{metric}` -> mean over scored queries, as sentence-transformers reports. */
  metrics: Record<string, number>;
  /** Same keys, one value per scored query (in `queryIds` order). */
  perQuery: Record<string, Float64Array>;
  queryIds: string[];
  counts: DatasetCounts;
  engine: string;
  timingsMs: { score: number; metrics: number };
  /** The ranked lists the metrics were computed from (retrieved.jsonl and TREC run files write them). */
  top?: TopKResult;
  /** With options.quantization: its settings; the metrics and perQuery then hold every precision's keys. */
  quantization?: QuantizationResult;
}

/** Scores precomputed embeddings (row i = the dataset's query / document i). */
export async function evaluateEmbeddings(dataset: Dataset, queryEmbeddings: Matrix, corpusEmbeddings: Matrix, options: EvalOptions = {}): Promise<EvalResult> {
  if (queryEmbeddings.rows !== dataset.queries.ids.length)
    throw new UserError(`query embeddings have ${queryEmbeddings.rows} rows but the dataset has ${dataset.queries.ids.length} queries`, 'ERR_ROWS');
  if (corpusEmbeddings.rows !== dataset.corpus.ids.length)
    throw new UserError(`corpus embeddings have ${corpusEmbeddings.rows} rows but the dataset has ${dataset.corpus.ids.length} documents`, 'ERR_ROWS');
  const judged = judgeQueries(dataset, options.kLists?.conventions);
  // Only queries with a relevant document are scored (as the evaluator does; trec: a judged one).
  const queries = judged.queryRows.length === dataset.queries.ids.length ? queryEmbeddings : takeRows(queryEmbeddings, judged.queryRows);
  const calibration = options.quantization?.calibration;
  if (calibration && 'texts' in calibration)
    throw new UserError('calibration: texts need a model to embed them; with precomputed embeddings give calibration embeddings', 'ERR_OPTION', 'calibration');
  return evaluateJudged(dataset, judged, queries, corpusEmbeddings, options, calibration);
}

/** Scores the judged queries' embeddings (one row per judged.queryRows entry). */
async function evaluateJudged(
  dataset: Dataset,
  judged: JudgedQueries,
  queries: Matrix,
  corpusEmbeddings: Matrix,
  options: EvalOptions,
  calibration?: Matrix,
): Promise<EvalResult> {
  const dims = options.dims ?? [corpusEmbeddings.cols];
  const kLists = options.kLists ?? DEFAULT_K_LISTS;
  const quantized = checkQuantization(options.quantization);
  checkAborted(options.signal);
  const t0 = performance.now();
  const top = await scoreTopK(queries, corpusEmbeddings, {
    dims,
    k: maxK(kLists),
    threads: options.threads,
    device: options.device,
    arithmetic: options.arithmetic,
    kernel: options.kernel,
  });
  const result = rankingMetrics(dataset, judged, top, kLists, performance.now() - t0, options.signal);
  if (!quantized) return result;
  return addQuantized(result, dataset, judged, queries, corpusEmbeddings, calibration, quantized, options);
}

/** The quantization options checked (precisions, multiplier); null when only float32 is asked for. @throws UserError naming the option. */
export function checkQuantization(
  q: QuantizationOptions | undefined,
): (QuantizationOptions & { rescoreMultiplier: number; quantized: QuantizedPrecision[] }) | null {
  if (!q) return null;
  const precisions = checkPrecisions(q.precisions);
  const quantized = precisions.filter((p): p is QuantizedPrecision => p !== 'float32');
  const rescoreMultiplier = q.rescoreMultiplier ?? DEFAULT_RESCORE_MULTIPLIER;
  if (!Number.isInteger(rescoreMultiplier) || rescoreMultiplier < 0 || rescoreMultiplier > 1000)
    throw new UserError(`rescore-multiplier: expected an integer from 0 (no rescoring) to 1000, got ${rescoreMultiplier}`, 'ERR_OPTION', 'rescoreMultiplier');
  return quantized.length ? { ...q, rescoreMultiplier, quantized } : null;
}

/**
 * Scores every quantized precision at every dim and adds its metrics (keys
 * `dim_{d}_{precision}_cosine_{metric}`) and its tests against float32 at the same dim.
 */
async function addQuantized(
  result: EvalResult,
  dataset: Dataset,
  judged: JudgedQueries,
  queries: Matrix,
  corpus: Matrix,
  calibration: Matrix | undefined,
  q: QuantizationOptions & { rescoreMultiplier: number; quantized: QuantizedPrecision[] },
  options: EvalOptions,
): Promise<EvalResult> {
  const dims = result.dims;
  const width = Math.max(...dims);
  const scalar = q.quantized.some((p) => p === 'int8' || p === 'uint8');
  const calib = calibration ?? corpus;
  const warnings: string[] = [];
  if (scalar && calib.rows < MIN_CALIBRATION_ROWS)
    warnings.push(
      `int8/uint8 ranges computed from ${calib.rows} embedding${calib.rows === 1 ? '' : 's'}: quantization is more stable with ranges from ${MIN_CALIBRATION_ROWS} or more (sentence-transformers warns the same)`,
    );
  const ranges = scalar ? calibrationRanges(calib, width) : null;
  const runs = await scoreQuantized(queries, corpus, {
    dims,
    k: maxK(result.kLists),
    precisions: q.quantized,
    rescoreMultiplier: q.rescoreMultiplier,
    ranges: ranges ?? undefined,
    threads: options.threads,
    kernel: options.kernel,
    device: options.device,
    signal: options.signal,
  });
  const metrics = { ...result.metrics };
  const perQuery = { ...result.perQuery };
  const names = metricNames(result.kLists);
  const tests: Array<{ key: string; family: string; a: Float64Array; b: Float64Array }> = [];
  for (const run of runs) {
    const m = rankingMetrics(dataset, judged, run.top, result.kLists, 0, options.signal);
    for (const dim of dims)
      for (const name of names) {
        const key = metricKey(dim, qualifiedName(run.precision, name));
        metrics[key] = m.metrics[metricKey(dim, name)];
        perQuery[key] = m.perQuery[metricKey(dim, name)];
        tests.push({ key, family: name, a: result.perQuery[metricKey(dim, name)], b: perQuery[key] });
      }
  }
  const versusFloat32 = await pairedTests(tests, options.stats, options.signal);
  return {
    ...result,
    metrics,
    perQuery,
    quantization: {
      precisions: ['float32', ...q.quantized],
      rescoreMultiplier: q.rescoreMultiplier,
      calibration: { source: calibration ? (q.calibration && 'texts' in q.calibration ? 'texts' : 'embeddings') : 'corpus', rows: calib.rows },
      ranges,
      kernel: runs[0].kernel,
      timingsMs: Object.fromEntries(runs.map((r) => [r.precision, r.ms])),
      versusFloat32,
      warnings,
      tops: Object.fromEntries(runs.map((r) => [r.precision, r.top])),
    },
  };
}

/**
 * The metrics of the judged queries' top-k lists (one row per judged.queryRows entry) in the
 * k lists' conventions: what scoring gives, or what merging shards gives. Under trec the lists
 * are put in trec_eval's order first (and identical ids left out where asked): the result's
 * `top` is then that order, as the run files write it.
 */
export function rankingMetrics(dataset: Dataset, judged: JudgedQueries, scored: TopKResult, kLists: KLists, scoreMs = 0, signal?: AbortSignal): EvalResult {
  const t1 = performance.now();
  const metrics: Record<string, number> = {};
  const perQuery: Record<string, Float64Array> = {};
  const queryIds = judged.queryRows.map((r) => dataset.queries.ids[r]);
  const trec = kLists.conventions === 'trec';
  if (trec && !judged.graded) throw new Error('rankingMetrics: trec conventions need judgeQueries(dataset, "trec")');
  if (kLists.ignoreIdenticalIds && !trec)
    throw new UserError("kLists: ignoreIdenticalIds needs conventions 'trec' (sentence-transformers' evaluator keeps such documents)", 'ERR_OPTION', 'kLists');
  const top = trec ? trecOrder(scored, dataset.corpus.ids, queryIds, kLists.ignoreIdenticalIds === true) : scored;
  top.dims.forEach((dim, o) => {
    checkAborted(signal);
    const ranked = (q: number) => top.indices[o].subarray(q * top.k, (q + 1) * top.k);
    const m = trec && judged.graded ? computeTrecMetrics(ranked, judged.graded, kLists) : computeMetrics(ranked, judged, kLists);
    m.names.forEach((name, i) => {
      metrics[metricKey(dim, name)] = m.mean[i];
      perQuery[metricKey(dim, name)] = m.perQuery[i];
    });
  });
  return {
    dims: [...top.dims],
    kLists,
    metrics,
    perQuery,
    queryIds,
    counts: datasetCounts(dataset, judged),
    engine: top.engine,
    timingsMs: { score: scoreMs, metrics: performance.now() - t1 },
    top,
  };
}

export interface ModelEvalResult extends EvalResult {
  model: ModelSpec & { width: number };
  encodeMs: number;
  /** Texts the model embedded (the rest came from the cache). */
  inferred: number;
}

/**
 * Encodes the documents and the queries once with the model (rows in the dataset's order);
 * `queryRows` limits the queries to those rows, in that order.
 */
export async function embedDataset(encoder: Encoder, dataset: Dataset, queryRows?: number[]): Promise<{ queries: Matrix; corpus: Matrix; ms: number }> {
  const t0 = performance.now();
  const corpus = await encoder.encode(dataset.corpus.texts, { kind: 'document' });
  const texts = queryRows ? queryRows.map((r) => dataset.queries.texts[r]) : dataset.queries.texts;
  const queries = await encoder.encode(texts, { kind: 'query' });
  return { queries, corpus, ms: performance.now() - t0 };
}

/**
 * Encodes the dataset with one model and scores it at every dim.
 * @throws UserError on a bad model, dims or data; InterruptedError once options.signal fires.
 */
export async function evaluateModel(
  model: string | Encoder,
  dataset: Dataset,
  options: EvalOptions & { encoder?: EncoderOptions } = {},
): Promise<ModelEvalResult> {
  const encoder = typeof model === 'string' ? await Encoder.load(model, { signal: options.signal, ...options.encoder }) : model;
  try {
    if (options.dims) checkDims(options.dims, await encoder.width(), `model ${encoder.spec.name}`);
    const before = encoder.inferred;
    // Only the queries that get scored (those with a relevant document) are encoded.
    const judged = judgeQueries(dataset, options.kLists?.conventions);
    const { queries, corpus, ms } = await embedDataset(encoder, dataset, judged.queryRows);
    const given = options.quantization?.calibration;
    const calibration = given && 'texts' in given ? await encoder.encode(given.texts, { kind: 'document' }) : given;
    const result = await evaluateJudged(dataset, judged, queries, corpus, options, calibration);
    return { ...result, model: { ...encoder.spec, width: corpus.cols }, encodeMs: ms, inferred: encoder.inferred - before };
  } finally {
    if (typeof model === 'string') await encoder.close();
  }
}
