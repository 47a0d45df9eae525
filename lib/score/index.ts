// Scoring stage: one coarse call scores every query against every document at every dim.
import { RuntimeError, UserError } from '../errors.js';
import type { Matrix } from '../data/matrix.js';
import { loadNative } from './binding.js';
import { scoreTopKReference } from './reference.js';
import type { ScoreOptions, TopKResult } from './types.js';

export type { ScoreOptions, TopKResult } from './types.js';
export { scoreTopKReference } from './reference.js';

let warnedFallback = false;

export interface EngineInfo {
  native: boolean;
  kernel: string;
  threads: number;
  /** Where the addon was loaded from, or why it was not. */
  reason: string;
  cudaDevices: number;
  /** The first GPU's name, or why there is none. */
  cuda: string | null;
}

export function engineInfo(): EngineInfo {
  const { addon, reason } = loadNative();
  if (!addon) return { native: false, kernel: 'typescript', threads: 1, reason, cudaDevices: 0, cuda: null };
  const info = addon.info();
  return {
    native: true,
    kernel: info.kernel,
    threads: info.threads,
    reason,
    cudaDevices: info.cudaDevices,
    cuda: info.cudaDevices > 0 ? info.cudaDevice : info.cudaError,
  };
}

export function checkDims(dims: number[], width: number, what: string): void {
  if (dims.length === 0) throw new UserError('--dims: expected at least one dimension');
  const seen = new Set<number>();
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 1) throw new UserError(`--dims: ${d} is not a positive integer`);
    if (d > width) throw new UserError(`--dims: ${d} is larger than the ${what} width ${width}`);
    if (seen.has(d)) throw new UserError(`--dims: ${d} is listed twice`);
    seen.add(d);
  }
}

/** Exact cosine top-k of queries against corpus at each Matryoshka dim, in one pass. */
export async function scoreTopK(queries: Matrix, corpus: Matrix, options: ScoreOptions): Promise<TopKResult> {
  if (queries.cols !== corpus.cols)
    throw new UserError(`query embeddings are ${queries.cols} wide but corpus embeddings are ${corpus.cols} wide`);
  if (corpus.rows === 0) throw new UserError('the corpus is empty');
  checkDims(options.dims, corpus.cols, 'embedding');
  if (!Number.isInteger(options.k) || options.k < 1) throw new UserError(`k must be a positive integer, got ${options.k}`);
  const device = options.device ?? 'cpu';
  const { addon, reason } = loadNative();
  if (!addon) {
    if (device === 'cuda') throw new UserError(`--device cuda needs the native addon, which did not load: ${reason}`);
    if (!warnedFallback) {
      warnedFallback = true;
      process.stderr.write(`emb-bench: native engine unavailable (${reason}); using the slower TypeScript engine\n`);
    }
    return scoreTopKReference(queries.data, corpus.data, corpus.cols, options.dims, options.k);
  }
  try {
    const out = await addon.score(
      queries.data,
      corpus.data,
      corpus.cols,
      Int32Array.from(options.dims),
      options.k,
      options.threads ?? 0,
      device,
    );
    const engine = device === 'cuda' ? 'cuda' : `cpu-${addon.info().kernel}`;
    return { dims: [...options.dims], k: out.k, nq: queries.rows, indices: out.indices, scores: out.scores, engine };
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'ERR_NATIVE';
    if (code === 'ERR_INVALID_ARG') throw new UserError((e as Error).message, code);
    if (code === 'ERR_NO_CUDA_BUILD' || code === 'ERR_NO_DEVICE') throw new UserError(`--device cuda: ${(e as Error).message}`, code);
    throw new RuntimeError(`scoring failed: ${(e as Error).message}`, code, { cause: e });
  }
}
