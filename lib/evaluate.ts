// Embeddings -> top-k at every dim -> sentence-transformers' metrics, per query and averaged.
import type { Dataset } from './data/dataset.js';
import { datasetCounts, judgeQueries } from './data/dataset.js';
import type { Matrix } from './data/matrix.js';
import { takeRows } from './data/matrix.js';
import { UserError } from './errors.js';
import { computeMetrics, DEFAULT_K_LISTS, maxK, metricKey, type KLists } from './metrics/index.js';
import { scoreTopK } from './score/index.js';

export interface EvalOptions {
  /** Matryoshka dims (default: the embeddings' full width). */
  dims?: number[];
  kLists?: KLists;
  threads?: number;
  device?: 'cpu' | 'cuda';
}

export interface EvalResult {
  dims: number[];
  kLists: KLists;
  /** `dim_{d}_cosine_{metric}` -> mean over scored queries, as sentence-transformers reports. */
  metrics: Record<string, number>;
  /** Same keys, one value per scored query (in `queryIds` order). */
  perQuery: Record<string, Float64Array>;
  queryIds: string[];
  counts: ReturnType<typeof datasetCounts>;
  engine: string;
  timingsMs: { score: number; metrics: number };
}

export async function evaluateEmbeddings(
  dataset: Dataset,
  queryEmbeddings: Matrix,
  corpusEmbeddings: Matrix,
  options: EvalOptions = {},
): Promise<EvalResult> {
  if (queryEmbeddings.rows !== dataset.queries.ids.length)
    throw new UserError(`query embeddings have ${queryEmbeddings.rows} rows but the dataset has ${dataset.queries.ids.length} queries`, 'ERR_ROWS');
  if (corpusEmbeddings.rows !== dataset.corpus.ids.length)
    throw new UserError(`corpus embeddings have ${corpusEmbeddings.rows} rows but the dataset has ${dataset.corpus.ids.length} documents`, 'ERR_ROWS');
  const dims = options.dims ?? [corpusEmbeddings.cols];
  const kLists = options.kLists ?? DEFAULT_K_LISTS;
  const judged = judgeQueries(dataset);
  // Only queries with a relevant document are scored (as the evaluator does).
  const queries = judged.queryRows.length === dataset.queries.ids.length ? queryEmbeddings : takeRows(queryEmbeddings, judged.queryRows);

  const t0 = performance.now();
  const top = await scoreTopK(queries, corpusEmbeddings, { dims, k: maxK(kLists), threads: options.threads, device: options.device });
  const t1 = performance.now();

  const metrics: Record<string, number> = {};
  const perQuery: Record<string, Float64Array> = {};
  dims.forEach((dim, o) => {
    const ranked = (q: number) => top.indices[o].subarray(q * top.k, (q + 1) * top.k);
    const m = computeMetrics(ranked, judged, kLists);
    m.names.forEach((name, i) => {
      metrics[metricKey(dim, name)] = m.mean[i];
      perQuery[metricKey(dim, name)] = m.perQuery[i];
    });
  });
  const t2 = performance.now();
  return {
    dims,
    kLists,
    metrics,
    perQuery,
    queryIds: judged.queryRows.map((r) => dataset.queries.ids[r]),
    counts: datasetCounts(dataset, judged),
    engine: top.engine,
    timingsMs: { score: t1 - t0, metrics: t2 - t1 },
  };
}
