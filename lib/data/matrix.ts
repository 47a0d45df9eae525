/** A dense row-major float32 matrix (embeddings: one row per text). */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Rows `picked` of m, copied into a new matrix. */
export function takeRows(m: Matrix, picked: ArrayLike<number>): Matrix {
  const out = new Float32Array(picked.length * m.cols);
  for (let i = 0; i < picked.length; i++) {
    const r = picked[i];
    out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols);
  }
  return { data: out, rows: picked.length, cols: m.cols };
}
