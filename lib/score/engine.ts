// Scoring stage: one coarse call scores every query against every document at every dim.
// Three engines share one small interface (the TypeScript reference, the CPU addon, the CUDA
// addon); the caller names a device and gets one.
import { invalidParameter, RuntimeError, UserError, type ErrorCode } from '../errors.js';
import type { Matrix } from '../data/matrix.js';
import { checkThreads } from '../host.js';
import { loadNative, type NativeAddon } from './native.js';
import { scoreTopKReference } from './reference.js';
import { ARITHMETICS, type Arithmetic, type Device, KERNELS, type KernelChoice, type ScoreOptions, type TopKResult } from './types.js';

/** How the CPU engine computes (the TypeScript and CUDA engines have one way each). */
export interface EngineSettings {
  arithmetic: Arithmetic;
  kernel: KernelChoice;
}

export interface Engine {
  /** 'typescript', 'cpu-avx512', 'cpu-avx2', 'cpu-generic' or 'cuda'. */
  readonly name: string;
  score(queries: Matrix, corpus: Matrix, dims: number[], k: number, threads: number, settings: EngineSettings): Promise<TopKResult>;
}

/**
 * The arithmetic and kernel of a request: the options first, then the environment
 * (EMB_BENCH_ARITHMETIC; EMB_BENCH_KERNEL, which may also name an arithmetic, as it did before
 * the two were separate settings), then 'auto'.
 * @throws UserError naming the option or variable whose value is not one of the choices.
 */
export function engineSettings(options: { arithmetic?: Arithmetic; kernel?: KernelChoice }, env: NodeJS.ProcessEnv = process.env): EngineSettings {
  const legacy = env.EMB_BENCH_KERNEL;
  const pick = <T extends string>(given: T | undefined, param: string, choices: readonly T[], ...fallbacks: Array<[string, string | undefined]>): T => {
    if (given !== undefined) {
      if (!choices.includes(given)) throw invalidParameter(param, `one of ${choices.join(', ')}`, given);
      return given;
    }
    for (const [name, value] of fallbacks) {
      if (!value) continue;
      if (choices.includes(value as T)) return value as T;
      if (name !== 'EMB_BENCH_KERNEL') throw invalidParameter(name, `one of ${choices.join(', ')}`, value);
    }
    return 'auto' as T;
  };
  const arithmetic = pick(options.arithmetic, 'arithmetic', ARITHMETICS, ['EMB_BENCH_ARITHMETIC', env.EMB_BENCH_ARITHMETIC], ['EMB_BENCH_KERNEL', legacy]);
  const kernel = pick(options.kernel, 'kernel', KERNELS, ['EMB_BENCH_KERNEL', legacy]);
  if (legacy && !ARITHMETICS.includes(legacy as Arithmetic) && !KERNELS.includes(legacy as KernelChoice))
    throw invalidParameter('EMB_BENCH_KERNEL', `one of ${[...KERNELS, ...ARITHMETICS.slice(1)].join(', ')}`, legacy);
  if (kernel !== 'auto') {
    const { addon } = loadNative();
    const runs = addon?.info().kernels;
    if (runs && !runs.includes(kernel)) throw invalidParameter('kernel', `a kernel this CPU runs (${runs.join(', ')})`, kernel);
  }
  return { arithmetic, kernel };
}

const referenceEngine: Engine = {
  name: 'typescript',
  async score(queries, corpus, dims, k) {
    // The native engines check values themselves, off the JavaScript thread.
    for (const [what, m] of [
      ['query', queries],
      ['corpus', corpus],
    ] as const) {
      const bad = firstOutOfRange(m.data);
      if (bad >= 0)
        throw new UserError(
          `${what} embeddings: row ${Math.floor(bad / m.cols)} has ${Number.isFinite(m.data[bad]) ? 'a value beyond 1e15 in magnitude' : 'a non-finite value'} (${m.data[bad]}) at column ${bad % m.cols}`,
          'ERR_NON_FINITE',
        );
    }
    return scoreTopKReference(queries.data, corpus.data, corpus.cols, dims, k);
  },
};

function nativeEngine(addon: NativeAddon, device: Device): Engine {
  return {
    name: device === 'cuda' ? 'cuda' : `cpu-${addon.info().kernel}`,
    async score(queries, corpus, dims, k, threads, settings) {
      try {
        const out = await addon.score({
          queries: queries.data,
          corpus: corpus.data,
          dim: corpus.cols,
          dims: Int32Array.from(dims),
          k,
          threads,
          device,
          ...(device === 'cpu' ? { precision: settings.arithmetic, kernel: settings.kernel } : {}),
        });
        // the engine that ran: with EMB_BENCH_KERNEL=bf16, the two-stage engine (or fp32, when it fell back)
        return { dims: [...dims], k: out.k, nq: queries.rows, indices: out.indices, scores: out.scores, engine: out.stats?.engine ?? this.name };
      } catch (e) {
        const code = ((e as { code?: string }).code ?? 'ERR_NATIVE') as ErrorCode;
        const message = (e as Error).message;
        if (code === 'ERR_INVALID_ARG' && message.startsWith('kernel:'))
          throw new UserError(`kernel ${settings.kernel}: this CPU cannot run it (it runs ${addon.info().kernel})`, code, 'kernel');
        if (code === 'ERR_INVALID_ARG' || code === 'ERR_NON_FINITE') throw new UserError(message, code);
        if (code === 'ERR_NO_CUDA_BUILD' || code === 'ERR_NO_DEVICE') throw new UserError(`device cuda: ${message}`, code, 'device');
        throw new RuntimeError(`scoring failed: ${message}`, code, { cause: e });
      }
    },
  };
}

/** The engine for `device`: the native addon when it loads, else (CPU only) the TypeScript one. */
export function selectEngine(device: Device = 'cpu'): Engine {
  const { addon, reason } = loadNative();
  if (addon) return nativeEngine(addon, device);
  if (device === 'cuda') throw new UserError(`device cuda needs the native addon, which did not load: ${reason}`, 'ERR_NO_CUDA_BUILD', 'device');
  return referenceEngine;
}

export { checkThreads } from '../host.js';

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

/** Matryoshka dims: unique positive integers, each at most `width` (`what` names the width's owner). */
export function checkDims(dims: number[], width: number, what: string): void {
  if (dims.length === 0) throw new UserError('dims: expected at least one dimension', 'ERR_OPTION', 'dims');
  const seen = new Set<number>();
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 1) throw new UserError(`dims: ${d} is not a positive integer`, 'ERR_OPTION', 'dims');
    if (d > width) throw new UserError(`dims: ${d} is larger than the ${what} width ${width}`, 'ERR_OPTION', 'dims');
    if (seen.has(d)) throw new UserError(`dims: ${d} is listed twice`, 'ERR_OPTION', 'dims');
    seen.add(d);
  }
}

/** Largest |value| the engines accept: a sum of 2^31 squares stays below float32's maximum,
 * so no norm or score can overflow to a NaN (native/cpu/common.h applies the same rule). */
export const MAX_MAGNITUDE = 1e15;

/** Index of the first value that is not finite or exceeds MAX_MAGNITUDE in `data`, or -1. */
function firstOutOfRange(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!(Math.abs(data[i]) <= MAX_MAGNITUDE)) return i;
  return -1;
}

/** Exact cosine top-k of queries against corpus at each Matryoshka dim, in one pass. */
export async function scoreTopK(queries: Matrix, corpus: Matrix, options: ScoreOptions): Promise<TopKResult> {
  if (queries.cols !== corpus.cols)
    throw new UserError(`query embeddings are ${queries.cols} wide but corpus embeddings are ${corpus.cols} wide`, 'ERR_INVALID_ARG');
  for (const [what, m] of [
    ['query', queries],
    ['corpus', corpus],
  ] as const) {
    if (m.data.length !== m.rows * m.cols)
      throw new UserError(`${what} embeddings: ${m.data.length} values do not make ${m.rows} x ${m.cols}`, 'ERR_INVALID_ARG');
  }
  if (corpus.rows === 0) throw new UserError('the corpus is empty', 'ERR_EMPTY');
  checkDims(options.dims, corpus.cols, 'embedding');
  if (!Number.isInteger(options.k) || options.k < 1) throw invalidParameter('k', 'a positive integer', options.k);
  const threads = checkThreads(options.threads);
  return selectEngine(options.device).score(queries, corpus, options.dims, options.k, threads, engineSettings(options));
}

/** The top-k of `queries` against one corpus slice starting at row `start`, indices into the whole corpus. */
export async function scoreSlice(
  queries: Matrix,
  slice: Matrix,
  start: number,
  dims: number[],
  k: number,
  options: Omit<ScoreOptions, 'dims' | 'k'>,
): Promise<TopKResult> {
  if (slice.rows === 0) {
    const empty = dims.map(() => new Int32Array(0));
    return { dims: [...dims], k: 0, nq: queries.rows, indices: empty, scores: dims.map(() => new Float32Array(0)), engine: 'none' };
  }
  const top = await scoreTopK(queries, { ...slice, cols: queries.cols }, { ...options, dims, k });
  for (const idx of top.indices) for (let i = 0; i < idx.length; i++) idx[i] += start;
  return top;
}

/**
 * What an engine's scores are, bit for bit: 'fp32-fma' from the FMA kernels (avx2, avx512; the
 * bf16 two-stage engine rescoring with them; CUDA, which the emulation checks against them),
 * 'fp32' from the generic kernel (each product rounded before it is added), 'fp64' from the
 * TypeScript engine. Shards of one run must share it, or their merged order is not one engine's.
 */
export function engineArithmetic(options: { device?: Device; kernel?: KernelChoice } = {}): 'fp32-fma' | 'fp32' | 'fp64' {
  if (selectEngine(options.device).name === 'typescript') return 'fp64';
  if (options.device === 'cuda') return 'fp32-fma';
  const kernel = engineSettings(options).kernel;
  return (kernel === 'auto' ? engineInfo().kernel : kernel) === 'generic' ? 'fp32' : 'fp32-fma';
}
