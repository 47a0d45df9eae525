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

/**
 * The CPU engine's arithmetic: 'fp32' (one exact pass); 'bf16' (a bf16 first stage, then exact
 * fp32 rescoring: the same results bit for bit; the AVX512_BF16 kernel where the CPU has one);
 * 'bf16-portable' (the same without that kernel); 'auto' (bf16 where it was measured faster,
 * native/cpu/tuning.h). The results are the same in every mode; only the time differs.
 */
export type Arithmetic = 'auto' | 'fp32' | 'bf16' | 'bf16-portable';
export const ARITHMETICS: readonly Arithmetic[] = ['auto', 'fp32', 'bf16', 'bf16-portable'];
/**
 * The CPU micro-kernel: 'auto' (the best this CPU runs, or the one EMB_BENCH_KERNEL names) or one
 * by name. 'avx2' and 'avx512' fuse each multiply-add and give the same bits; 'generic' may
 * differ from them in the last bits.
 */
export type KernelChoice = 'auto' | 'generic' | 'avx2' | 'avx512';
export const KERNELS: readonly KernelChoice[] = ['auto', 'generic', 'avx2', 'avx512'];

export interface ScoreOptions {
  /** Matryoshka dims to score (each <= the embedding width). */
  dims: number[];
  /** Hits kept per query. */
  k: number;
  /** CPU threads (default: all cores; capped at the core count). */
  threads?: number;
  device?: Device;
  /** CPU arithmetic (default: $EMB_BENCH_ARITHMETIC, else 'auto'). */
  arithmetic?: Arithmetic;
  /** CPU micro-kernel (default: $EMB_BENCH_KERNEL, else 'auto'). */
  kernel?: KernelChoice;
}
