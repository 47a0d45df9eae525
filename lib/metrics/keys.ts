// The metric key format sentence-transformers writes for an evaluator named `dim_{d}`:
// `dim_768_cosine_ndcg@10`. Built and parsed here only.
const KEY = /^dim_(\d+)_cosine_(.+)$/;

export function metricKey(dim: number, name: string): string {
  return `dim_${dim}_cosine_${name}`;
}

/** `dim_768_cosine_ndcg@10` -> { dim: 768, name: 'ndcg@10' }; null for any other string. */
export function parseMetricKey(key: string): { dim: number; name: string } | null {
  const m = KEY.exec(key);
  return m ? { dim: Number(m[1]), name: m[2] } : null;
}
