// The metric key format sentence-transformers writes for an evaluator named `dim_{d}`:
// `dim_768_cosine_ndcg@10`; a quantized precision's metrics insert it before `cosine`:
// `dim_256_ubinary_cosine_ndcg@10`. A quantized metric's name is qualified by its precision
// (`ubinary:ndcg@10`), so every (dim, name) pair, the registry's included, names one key.
// Built and parsed here only.
const KEY = /^dim_(\d+)_(?:(int8|uint8|binary|ubinary)_)?cosine_(.+)$/;
const QUALIFIED = /^(int8|uint8|binary|ubinary):(.+)$/;

export function metricKey(dim: number, name: string): string {
  const q = QUALIFIED.exec(name);
  return q ? `dim_${dim}_${q[1]}_cosine_${q[2]}` : `dim_${dim}_cosine_${name}`;
}

/** `dim_768_cosine_ndcg@10` -> { dim: 768, name: 'ndcg@10' }; `dim_64_int8_cosine_ndcg@10` -> { dim: 64, name: 'int8:ndcg@10' }; null for any other string. */
export function parseMetricKey(key: string): { dim: number; name: string } | null {
  const m = KEY.exec(key);
  return m ? { dim: Number(m[1]), name: m[2] ? `${m[2]}:${m[3]}` : m[3] } : null;
}

/** A metric name under a precision: `ndcg@10` at float32, `int8:ndcg@10` otherwise. */
export function qualifiedName(precision: string, name: string): string {
  return precision === 'float32' ? name : `${precision}:${name}`;
}

/** `int8:ndcg@10` -> { precision: 'int8', metric: 'ndcg@10' }; a plain name is float32's. */
export function splitQualified(name: string): { precision: string; metric: string } {
  const q = QUALIFIED.exec(name);
  return q ? { precision: q[1], metric: q[2] } : { precision: 'float32', metric: name };
}
