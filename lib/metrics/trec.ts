// Retrieval metrics in trec_eval's conventions, under MTEB's names and k values: what the MTEB
// leaderboard and BEIR papers report (through pytrec_eval). Read from usnistgov/trec_eval 10.0
// (commit f425365): form_res_rels.c (relevance of each retrieved document, num_rel, rel_levels),
// m_ndcg_cut.c, m_map_cut.c, m_recall.c, m_P.c, m_success.c; MTEB v2.20.0 for mrr_at_k (its own,
// cut at k, on grade > 0) and for ignore_identical_ids. shared/CONVENTIONS.md lists each
// difference from sentence-transformers' conventions.
//
// - Grades are integers (a qrels score is read as trec_eval's atol reads it: its integer part).
//   A document is relevant when its grade is >= 1; 0 is judged non-relevant; a negative grade is
//   judged as unjudged (neither relevant nor counted anywhere).
// - nDCG's gain is the grade itself (linear); the ideal ranking holds every grade >= 1 of the
//   query's judgments, retrieved or not.
// - MAP@k divides by the number of relevant documents (not by min(k, relevant)); recall and MAP
//   of a query without relevant documents are 0, and such a query (judged, but only non-relevant)
//   is scored, as trec_eval and MTEB score it.
// - A ranking is ordered by score descending, then by document id descending as strcmp compares
//   bytes (trec_eval's comp_sim_docno), the order trecOrder() gives a top-k list.
import type { TopKResult } from '../score/types.js';
import type { KLists, QueryMetrics } from './metrics.js';

/** MTEB's k values for every retrieval metric. */
export const MTEB_K_VALUES = [1, 3, 5, 10, 20, 100, 1000];

/** The trec conventions' metric lists: every family at MTEB's k values. */
export const TREC_K_LISTS: KLists = {
  accuracy: MTEB_K_VALUES,
  precisionRecall: MTEB_K_VALUES,
  mrr: MTEB_K_VALUES,
  ndcg: MTEB_K_VALUES,
  map: MTEB_K_VALUES,
  conventions: 'trec',
};

/** Metric names as MTEB writes them, in its order: ndcg, map, recall, precision, mrr, hit_rate. */
export function trecMetricNames(k: KLists): string[] {
  return [
    ...k.ndcg.map((v) => `ndcg_at_${v}`),
    ...k.map.map((v) => `map_at_${v}`),
    ...k.precisionRecall.map((v) => `recall_at_${v}`),
    ...k.precisionRecall.map((v) => `precision_at_${v}`),
    ...k.mrr.map((v) => `mrr_at_${v}`),
    ...k.accuracy.map((v) => `hit_rate_at_${v}`),
  ];
}

/** Graded judgments of the scored queries (one entry per scored query). */
export interface GradedJudgments {
  /** Grade of each judged corpus row (documents the corpus lacks are not here). */
  grades: Map<number, number>[];
  /** Documents with grade >= 1, whether the corpus has them or not: trec_eval's num_rel. */
  relevantCount: number[];
  /** Every grade >= 1 of the query's judgments, largest first: the ideal ranking. */
  ideal: number[][];
}

/** The metrics of ranked lists (ranked(q): corpus rows in trec order, -1 past the end). */
export function computeTrecMetrics(ranked: (q: number) => ArrayLike<number>, judgments: GradedJudgments, k: KLists): QueryMetrics {
  const names = trecMetricNames(k);
  const n = judgments.relevantCount.length;
  const perQuery = names.map(() => new Float64Array(n));
  for (let q = 0; q < n; q++) {
    const list = ranked(q);
    const grades = judgments.grades[q];
    const numRel = judgments.relevantCount[q];
    const ideal = judgments.ideal[q];
    // grade of each retrieved document in rank order (0 for unjudged ones: no gain, not relevant)
    const g: number[] = [];
    for (let i = 0; i < list.length && list[i] >= 0; i++) g.push(grades.get(list[i]) ?? 0);
    const relIn = (cut: number) => {
      let c = 0;
      for (let i = 0; i < Math.min(cut, g.length); i++) if (g[i] >= 1) c++;
      return c;
    };
    const firstRel = g.findIndex((v) => v >= 1);
    let m = 0;
    for (const cut of k.ndcg) {
      let dcg = 0;
      for (let i = 0; i < Math.min(cut, g.length); i++) if (g[i] > 0) dcg += g[i] / Math.log2(i + 2);
      let idcg = 0;
      for (let i = 0; i < Math.min(cut, ideal.length); i++) idcg += ideal[i] / Math.log2(i + 2);
      perQuery[m++][q] = idcg > 0 ? dcg / idcg : dcg;
    }
    for (const cut of k.map) {
      let sum = 0;
      let found = 0;
      for (let i = 0; i < Math.min(cut, g.length); i++) if (g[i] >= 1) sum += ++found / (i + 1);
      perQuery[m++][q] = numRel === 0 ? 0 : sum / numRel;
    }
    for (const cut of k.precisionRecall) perQuery[m++][q] = numRel === 0 ? 0 : relIn(cut) / numRel;
    for (const cut of k.precisionRecall) perQuery[m++][q] = relIn(cut) / cut;
    for (const cut of k.mrr) perQuery[m++][q] = firstRel >= 0 && firstRel < cut ? 1 / (firstRel + 1) : 0;
    for (const cut of k.accuracy) perQuery[m++][q] = firstRel >= 0 && firstRel < cut ? 1 : 0;
  }
  const mean = perQuery.map((values) => (n === 0 ? 0 : values.reduce((a, b) => a + b, 0) / n));
  return { names, perQuery, mean };
}

const ranksOf = new WeakMap<string[], Int32Array>();

/**
 * Each corpus row's place among the corpus ids sorted as strcmp sorts them (UTF-8 bytes); kept
 * per ids array, since every model's (and every checkpoint's) lists of one dataset need it.
 */
export function strcmpRanks(ids: string[]): Int32Array {
  const known = ranksOf.get(ids);
  if (known) return known;
  const bytes = ids.map((id) => Buffer.from(id, 'utf8'));
  const order = ids.map((_, i) => i).sort((a, b) => Buffer.compare(bytes[a], bytes[b]));
  const rank = new Int32Array(ids.length);
  order.forEach((row, place) => {
    rank[row] = place;
  });
  ranksOf.set(ids, rank);
  return rank;
}

/**
 * Top-k lists in trec_eval's order: score descending, then document id descending. With
 * `dropIdentical` (MTEB's ignore_identical_ids) a document whose id equals the query's is left
 * out and the lists keep `k - 1` places (the caller scored one more). `queryIds[q]` names row q.
 */
export function trecOrder(top: TopKResult, corpusIds: string[], queryIds: string[], dropIdentical: boolean): TopKResult {
  const idRank = strcmpRanks(corpusIds);
  const k = dropIdentical ? top.k - 1 : top.k;
  const indices: Int32Array[] = [];
  const scores: Float32Array[] = [];
  for (let o = 0; o < top.dims.length; o++) {
    const inIdx = top.indices[o];
    const inScore = top.scores[o];
    const outIdx = new Int32Array(top.nq * k).fill(-1);
    const outScore = new Float32Array(top.nq * k).fill(Number.NEGATIVE_INFINITY);
    for (let q = 0; q < top.nq; q++) {
      const places: number[] = [];
      for (let j = 0; j < top.k; j++) {
        const row = inIdx[q * top.k + j];
        if (row < 0) break;
        if (dropIdentical && corpusIds[row] === queryIds[q]) continue;
        places.push(q * top.k + j);
      }
      places.sort((a, b) => inScore[b] - inScore[a] || idRank[inIdx[b]] - idRank[inIdx[a]]);
      places.slice(0, k).forEach((p, j) => {
        outIdx[q * k + j] = inIdx[p];
        outScore[q * k + j] = inScore[p];
      });
    }
    indices.push(outIdx);
    scores.push(outScore);
  }
  return { ...top, k, indices, scores };
}
