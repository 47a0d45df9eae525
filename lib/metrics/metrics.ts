// Retrieval metrics exactly as sentence-transformers' InformationRetrievalEvaluator defines
// them: binary relevance, precision@k = hits/k, recall@k = hits/|relevant|, MRR@k, nDCG@k with
// a 1/log2(rank+1) discount over min(|relevant|, k) ideal hits, MAP@k over min(k, |relevant|).

export interface KLists {
  accuracy: number[];
  precisionRecall: number[];
  mrr: number[];
  ndcg: number[];
  map: number[];
}

export const DEFAULT_K_LISTS: KLists = {
  accuracy: [1, 3, 5, 10],
  precisionRecall: [1, 3, 5, 10],
  mrr: [10],
  ndcg: [10],
  map: [100],
};

/** Metric names in the evaluator's order: accuracy@k, precision@k, recall@k, ndcg@k, mrr@k, map@k. */
/** The metric families in the order sentence-transformers' evaluator writes them. */
export const METRIC_FAMILIES = ['accuracy', 'precision', 'recall', 'ndcg', 'mrr', 'map'] as const;

/** Metric names (`ndcg@10`) in the evaluator's order: by family, then k ascending; unknown names last. */
export function sortMetricNames(names: Iterable<string>): string[] {
  const rank = (n: string) => {
    const [family, k] = n.split('@');
    const f = (METRIC_FAMILIES as readonly string[]).indexOf(family);
    return (f < 0 ? METRIC_FAMILIES.length : f) * 1e6 + (Number(k) || 0);
  };
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

export function metricNames(k: KLists = DEFAULT_K_LISTS): string[] {
  return [
    ...k.accuracy.map((v) => `accuracy@${v}`),
    ...k.precisionRecall.map((v) => `precision@${v}`),
    ...k.precisionRecall.map((v) => `recall@${v}`),
    ...k.ndcg.map((v) => `ndcg@${v}`),
    ...k.mrr.map((v) => `mrr@${v}`),
    ...k.map.map((v) => `map@${v}`),
  ];
}

export function maxK(k: KLists = DEFAULT_K_LISTS): number {
  return Math.max(...k.accuracy, ...k.precisionRecall, ...k.mrr, ...k.ndcg, ...k.map);
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
