// The native addon's interface, declared once; everything else imports this facade.
import { createRequire } from 'node:module';
import type { Arithmetic, KernelChoice } from './types.js';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';

/** What the CPU engine did (absent for CUDA). */
export interface NativeScoreStats {
  /** 'cpu-avx2', or 'cpu-avx2-bf16-portable' when the bf16 two-stage engine ran. */
  engine: string;
  /** Why bf16 was asked for but fp32 ran; null when it did not. */
  fallback: string | null;
  /** (query, dim) pairs of the bf16 first stage. */
  pairs: number;
  /** Candidates rescored exactly, over all pairs. */
  rescored: number;
  /** Of those, the ones the error bound could not exclude. */
  needed: number;
  /** Queries that could not be certified and were scored in fp32. */
  fallbackQueries: number;
  /** Queries scored again from -inf: fewer than k rows reached the start threshold a sample of the corpus set. */
  restartedQueries: number;
}

export interface NativeTopK {
  k: number;
  indices: Int32Array[];
  scores: Float32Array[];
  stats?: NativeScoreStats;
}

export interface NativeInfo {
  kernel: 'avx512' | 'avx2' | 'generic';
  /** Every kernel this CPU runs (what a request's kernel may name). */
  kernels: string[];
  /** The bf16 first-stage kernel ('avx512bf16'), or null: bf16 then runs the portable first stage. */
  bf16Kernel: string | null;
  /** The quantized first stage's kernel: 'avx512' (VPOPCNTDQ + VNNI), 'avx2' (AVX2 + POPCNT) or 'generic'. */
  quantKernel: string;
  /** The quantized kernels this CPU runs, by the names a request gives (avx512: VNNI; its Hamming needs VPOPCNTDQ, else it is AVX2's). */
  quantKernels: string[];
  threads: number;
  cudaCompiled: boolean;
  cudaDevices: number;
  cudaDevice: string;
  cudaError: string | null;
}

export interface NativeScoreRequest {
  queries: Float32Array;
  corpus: Float32Array;
  /** Row width of both matrices. */
  dim: number;
  dims: Int32Array;
  k: number;
  /** 0: all cores. */
  threads: number;
  device: 'cpu' | 'cuda';
  /**
   * CPU arithmetic: 'fp32'; 'bf16' (a bf16 first stage, exact fp32 rescoring: the same results bit
   * for bit; the AVX512_BF16 kernel where the CPU has one); 'bf16-portable' (the same without that
   * kernel); 'auto' (default: bf16 on AVX512_BF16 hosts where it was measured faster — nq >= 500,
   * nq x nc >= 1e7, k + k/2 + 16 <= nc / 400, or nc / 250 from 1,000 queries — after a 128-query
   * pilot it can certify, else fp32; EMB_BENCH_KERNEL=fp32|bf16 overrides).
   */
  precision?: Arithmetic;
  /** CPU micro-kernel (default 'auto': the best this CPU runs); one the CPU cannot run is refused. */
  kernel?: KernelChoice;
  /** bf16: run fp32 instead when the candidates exceed this fraction of the corpus (default 0.05). */
  bf16MaxCandidateFraction?: number;
}

/** The bf16 first stage's error bound checked on every (query, row, dim) pair (bench/bound.js). */
export interface NativeBoundCheck {
  engine: string;
  pairs: number;
  /** pairs whose |bf16 score - fp32 score| exceeds the bound: must be 0 */
  violations: number;
  /** the largest |bf16 score - fp32 score| / bound */
  maxRatio: number;
  maxError: number;
}

/** The quantized first stage (native/engine.h score_quantized). */
export interface NativeQuantRequest {
  /** Rows of ceil(dim / 8) packed sign bits (hamming) or dim bytes (int8, uint8). */
  queries: Uint8Array | Int8Array;
  corpus: Uint8Array | Int8Array;
  kind: 'hamming' | 'int8' | 'uint8';
  dim: number;
  dims: Int32Array;
  k: number;
  threads: number;
  kernel?: KernelChoice;
  device?: 'cpu' | 'cuda';
}

export interface NativeQuantTopK {
  k: number;
  indices: Int32Array[];
  /** Hamming distances, or inner products. */
  scores: Int32Array[];
  kernel: string;
}

export interface NativeAddon {
  score(request: NativeScoreRequest): Promise<NativeTopK>;
  scoreQuantized(request: NativeQuantRequest): Promise<NativeQuantTopK>;
  /** quantize_embeddings of rows cut to `width` columns (native/engine.h quantize_rows). */
  quantize(request: {
    x: Float32Array;
    cols: number;
    width: number;
    kind: 'hamming' | 'int8' | 'uint8';
    min?: Float32Array;
    max?: Float32Array;
    threads: number;
  }): Promise<Uint8Array>;
  /** The same request (precision 'bf16' or 'bf16-portable'; k unused); CPU only. */
  checkBf16Bound(request: NativeScoreRequest): Promise<NativeBoundCheck>;
  info(): NativeInfo;
}

// A cmake-js build (which may include CUDA) wins over a node-gyp build from source, which wins
// over the prebuilt binary shipped in the package (prebuilds/<platform>-<arch>, N-API 8);
// EMB_BENCH_ADDON names one build to use instead (tests use it for the CUDA emulation build).
const candidates = process.env.EMB_BENCH_ADDON
  ? [resolve(process.env.EMB_BENCH_ADDON)]
  : [
      join(PACKAGE_ROOT, 'build-cmake', 'Release', 'emb_bench.node'),
      join(PACKAGE_ROOT, 'build', 'Release', 'emb_bench.node'),
      join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`, 'emb-bench.node'),
    ];

let loaded: { addon: NativeAddon | null; reason: string } | undefined;

export function loadNative(): { addon: NativeAddon | null; reason: string } {
  if (loaded) return loaded;
  if (process.env.EMB_BENCH_NATIVE === '0') {
    loaded = { addon: null, reason: 'EMB_BENCH_NATIVE=0' };
    return loaded;
  }
  const require = createRequire(import.meta.url);
  const errors: string[] = [];
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    try {
      loaded = { addon: require(file) as NativeAddon, reason: file };
      return loaded;
    } catch (e) {
      errors.push(`${file}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  loaded = {
    addon: null,
    reason: errors.length ? errors.join('; ') : `no native build found (looked for ${candidates.join(', ')}); run \`npm rebuild\` or \`npm run build:native\``,
  };
  return loaded;
}
