// Embeddings -> top-k at every dim -> sentence-transformers' metrics, per query and averaged.
import type { Dataset, DatasetCounts } from './data/dataset.js';
import { datasetCounts, judgeQueries, type JudgedQueries } from './data/dataset.js';
import type { Matrix } from './data/matrix.js';
import { takeRows } from './data/matrix.js';
import { checkAborted, UserError } from './errors.js';
import { computeMetrics, computeTrecMetrics, DEFAULT_K_LISTS, maxK, metricKey, trecOrder, type KLists } from './metrics/index.js';
import { checkDims, scoreTopK } from './score/index.js';
import type { Arithmetic, Device, KernelChoice, TopKResult } from './score/types.js';
import { Encoder, type EncoderOptions } from './encode/encoder.js';
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
  return evaluateJudged(dataset, judged, queries, corpusEmbeddings, options);
}

/** Scores the judged queries' embeddings (one row per judged.queryRows entry). */
async function evaluateJudged(dataset: Dataset, judged: JudgedQueries, queries: Matrix, corpusEmbeddings: Matrix, options: EvalOptions): Promise<EvalResult> {
  const dims = options.dims ?? [corpusEmbeddings.cols];
  const kLists = options.kLists ?? DEFAULT_K_LISTS;
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
  return rankingMetrics(dataset, judged, top, kLists, performance.now() - t0, options.signal);
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
    const result = await evaluateJudged(dataset, judged, queries, corpus, options);
    return { ...result, model: { ...encoder.spec, width: corpus.cols }, encodeMs: ms, inferred: encoder.inferred - before };
  } finally {
    if (typeof model === 'string') await encoder.close();
  }
}
