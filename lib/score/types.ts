export type Device = 'cpu' | 'cuda';

/** Top-k hits per query for each Matryoshka dim: row q of dim o is
 * indices[o].subarray(q * k, (q + 1) * k), best first (ties: earlier corpus row first). */
export interface TopKResult {
  dims: number[];
  k: number;
  nq: number;
  indices: Int32Array[];
  scores: Float32Array[];
  /** Which engine produced it: 'cpu-avx2', 'cpu-generic', 'cuda', 'typescript'. */
  engine: string;
}

export interface ScoreOptions {
  /** Matryoshka dims to score (each <= the embedding width). */
  dims: number[];
  /** Hits kept per query. */
  k: number;
  /** CPU threads (default: all cores; capped at the core count). */
  threads?: number;
  device?: Device;
}
