// Metric definitions on hand-worked cases (sentence-transformers' formulas).
import { describe, expect, it } from 'vitest';
import { computeMetrics, metricKey, metricNames, DEFAULT_K_LISTS } from '../lib/metrics/index.js';

const value = (m: ReturnType<typeof computeMetrics>, name: string, q = 0) => m.perQuery[m.names.indexOf(name)][q];

describe('metrics', () => {
  it('names keys as sentence-transformers does for an evaluator named dim_768', () => {
    expect(metricNames().map((n) => metricKey(768, n))).toEqual([
      ...[1, 3, 5, 10].map((k) => `dim_768_cosine_accuracy@${k}`),
      ...[1, 3, 5, 10].map((k) => `dim_768_cosine_precision@${k}`),
      ...[1, 3, 5, 10].map((k) => `dim_768_cosine_recall@${k}`),
      'dim_768_cosine_ndcg@10',
      'dim_768_cosine_mrr@10',
      'dim_768_cosine_map@100',
    ]);
  });

  it('scores one query with relevant hits at ranks 2 and 4 of 3 relevant', () => {
    // ranked rows: 9, 5(rel), 8, 6(rel), ...; relevant ids: rows 5, 6 and one missing from the corpus
    const m = computeMetrics(() => [9, 5, 8, 6, 1, 2, 3, 4, 0, 7], { relevantRows: [new Set([5, 6])], relevantCount: [3] });
    expect(value(m, 'accuracy@1')).toBe(0);
    expect(value(m, 'accuracy@3')).toBe(1);
    expect(value(m, 'precision@3')).toBeCloseTo(1 / 3, 15);
    expect(value(m, 'precision@10')).toBeCloseTo(2 / 10, 15);
    expect(value(m, 'recall@5')).toBeCloseTo(2 / 3, 15);
    expect(value(m, 'mrr@10')).toBeCloseTo(1 / 2, 15);
    const dcg = 1 / Math.log2(3) + 1 / Math.log2(5);
    const idcg = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
    expect(value(m, 'ndcg@10')).toBeCloseTo(dcg / idcg, 15);
    expect(value(m, 'map@100')).toBeCloseTo((1 / 2 + 2 / 4) / 3, 15);
  });

  it('divides precision by k even when fewer than k hits were retrieved', () => {
    const m = computeMetrics(() => [0, 1], { relevantRows: [new Set([1])], relevantCount: [1] });
    expect(value(m, 'precision@10')).toBeCloseTo(0.1, 15);
    expect(value(m, 'map@100')).toBeCloseTo(0.5, 15);
  });

  it('averages over the scored queries', () => {
    const m = computeMetrics(
      (q) => (q === 0 ? [0] : [1]),
      { relevantRows: [new Set([0]), new Set([0])], relevantCount: [1, 1] },
      { ...DEFAULT_K_LISTS, accuracy: [1] },
    );
    expect(m.mean[m.names.indexOf('accuracy@1')]).toBe(0.5);
  });
});
