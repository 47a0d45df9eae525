// Retrieval metrics exactly as sentence-transformers' InformationRetrievalEvaluator defines
// them: binary relevance, precision@k = hits/k, recall@k = hits/|relevant|, MRR@k, nDCG@k with
// a 1/log2(rank+1) discount over min(|relevant|, k) ideal hits, MAP@k over min(k, |relevant|).
import { splitQualified } from './keys.js';
import { trecMetricNames } from './trec.js';

export interface KLists {
  accuracy: number[];
  precisionRecall: number[];
  mrr: number[];
  ndcg: number[];
  map: number[];
  /**
   * Whose conventions: 'st' (sentence-transformers' evaluator, the default) or 'trec' (trec_eval's,
   * as MTEB reports them, under MTEB's names: trec.ts). The lists keep their places: accuracy is
   * hit_rate there.
   */
  conventions?: Conventions;
  /** trec: a document whose id equals the query's is left out of its ranking (MTEB's ignore_identical_ids). */
  ignoreIdenticalIds?: boolean;
}

export type Conventions = 'st' | 'trec';
export const CONVENTIONS: readonly Conventions[] = ['st', 'trec'];

export const DEFAULT_K_LISTS: KLists = {
  accuracy: [1, 3, 5, 10],
  precisionRecall: [1, 3, 5, 10],
  mrr: [10],
  ndcg: [10],
  map: [100],
};

/**
 * The metric families in the order the two conventions write them: sentence-transformers'
 * (`ndcg@10`), then MTEB's (`ndcg_at_10`).
 */
export const METRIC_FAMILIES = ['accuracy', 'precision', 'recall', 'ndcg', 'mrr', 'map'] as const;
const TREC_FAMILIES = ['ndcg', 'map', 'recall', 'precision', 'mrr', 'hit_rate'];

/** Metric names in their evaluator's order: st names, then trec names, each by family, then k ascending; unknown names last. */
export function sortMetricNames(names: Iterable<string>): string[] {
  const rank = (qualified: string) => {
    const { precision, metric: n } = splitQualified(qualified);
    const p = ['float32', 'int8', 'uint8', 'binary', 'ubinary'].indexOf(precision);
    const st = /^([a-z_]+)@(\d+)$/.exec(n);
    const trec = /^([a-z_]+)_at_(\d+)$/.exec(n);
    const [families, m, base]: [readonly string[], RegExpExecArray | null, number] = st
      ? [METRIC_FAMILIES, st, 0]
      : trec
        ? [TREC_FAMILIES, trec, 10]
        : [[], null, 20];
    const f = m ? families.indexOf(m[1]) : -1;
    return p * 1e9 + (base + (f < 0 ? families.length : f)) * 1e6 + (m ? Number(m[2]) : 0);
  };
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The metric names a k list computes, in its conventions' order. */
export function metricNames(k: KLists = DEFAULT_K_LISTS): string[] {
  if (k.conventions === 'trec') return trecMetricNames(k);
  return [
    ...k.accuracy.map((v) => `accuracy@${v}`),
    ...k.precisionRecall.map((v) => `precision@${v}`),
    ...k.precisionRecall.map((v) => `recall@${v}`),
    ...k.ndcg.map((v) => `ndcg@${v}`),
    ...k.mrr.map((v) => `mrr@${v}`),
    ...k.map.map((v) => `map@${v}`),
  ];
}

/** How many documents a query's list needs: the largest k, one more where identical ids are left out. */
export function maxK(k: KLists = DEFAULT_K_LISTS): number {
  return Math.max(...k.accuracy, ...k.precisionRecall, ...k.mrr, ...k.ndcg, ...k.map) + (k.ignoreIdenticalIds ? 1 : 0);
}

/** Relevance for the scored queries: which corpus rows are relevant, and how many relevant ids
 * there are (ids missing from the corpus still count). */
export interface Judgments {
  relevantRows: Set<number>[];
  relevantCount: number[];
}

export interface QueryMetrics {
  names: string[];
  /** perQuery[m][q]: metric names[m] for scored query q. */
  perQuery: Float64Array[];
  mean: number[];
}

function dcg(relevance: ArrayLike<number>, k: number): number {
  let sum = 0;
  for (let i = 0; i < Math.min(relevance.length, k); i++) sum += relevance[i] / Math.log2(i + 2);
  return sum;
}

/** Metrics for ranked lists: ranked(q) is query q's hit list (corpus rows), best first. */
export function computeMetrics(ranked: (q: number) => ArrayLike<number>, judgments: Judgments, k: KLists = DEFAULT_K_LISTS): QueryMetrics {
  const names = metricNames(k);
  const n = judgments.relevantCount.length;
  const perQuery = names.map(() => new Float64Array(n));
  for (let q = 0; q < n; q++) {
    const hits = ranked(q);
    const relevant = judgments.relevantRows[q];
    const nRelevant = judgments.relevantCount[q];
    const isHit: number[] = Array.from(hits, (row) => (relevant.has(row) ? 1 : 0));
    const hitsIn = (kv: number) => isHit.slice(0, kv).reduce((a, b) => a + b, 0);
    const firstHit = isHit.indexOf(1);
    let m = 0;
    for (const kv of k.accuracy) perQuery[m++][q] = firstHit >= 0 && firstHit < kv ? 1 : 0;
    for (const kv of k.precisionRecall) perQuery[m++][q] = hitsIn(kv) / kv;
    for (const kv of k.precisionRecall) perQuery[m++][q] = hitsIn(kv) / nRelevant;
    for (const kv of k.ndcg) perQuery[m++][q] = dcg(isHit, kv) / dcg(new Array(nRelevant).fill(1), kv);
    for (const kv of k.mrr) perQuery[m++][q] = firstHit >= 0 && firstHit < kv ? 1 / (firstHit + 1) : 0;
    for (const kv of k.map) {
      let correct = 0;
      let sumPrecision = 0;
      for (let r = 0; r < Math.min(kv, isHit.length); r++) {
        if (isHit[r]) sumPrecision += ++correct / (r + 1);
      }
      perQuery[m++][q] = sumPrecision / Math.min(kv, nRelevant);
    }
  }
  const mean = perQuery.map((values) => (n === 0 ? 0 : values.reduce((a, b) => a + b, 0) / n));
  return { names, perQuery, mean };
}
