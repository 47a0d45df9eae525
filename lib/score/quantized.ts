// Quantized retrieval at every Matryoshka dim: sentence-transformers' quantize_embeddings (at
// commit cad2119) applied to each dim's prefix, a first stage on the quantized rows as
// semantic_search_faiss / semantic_search_usearch run it with exact=True (Hamming distance for
// the binary precisions, integer inner products for int8 / uint8; FAISS's tie orders), and their
// rescoring of the top k x multiplier candidates with the float32 query.
import { checkAborted, invalidParameter, RuntimeError, UserError, type ErrorCode } from '../errors.js';
import type { Matrix } from '../data/matrix.js';
import { checkThreads } from '../host.js';
import { loadNative } from './native.js';
import type { Device, KernelChoice, TopKResult } from './types.js';

export type Precision = 'float32' | 'int8' | 'uint8' | 'binary' | 'ubinary';
export const PRECISIONS: readonly Precision[] = ['float32', 'int8', 'uint8', 'binary', 'ubinary'];
export type QuantizedPrecision = Exclude<Precision, 'float32'>;
/** semantic_search_faiss's and semantic_search_usearch's default rescore_multiplier. */
export const DEFAULT_RESCORE_MULTIPLIER = 2;
/** quantize_embeddings warns when it calibrates on fewer rows. */
export const MIN_CALIBRATION_ROWS = 100;

/** Per-column ranges of the calibration embeddings (quantize_embeddings' `ranges`: min, then max). */
export interface Ranges {
  min: Float32Array;
  max: Float32Array;
}

/** Bytes one vector takes at `dim` in `precision` (binary: packed bits, padded to a byte). */
export function bytesPerVector(precision: Precision, dim: number): number {
  if (precision === 'float32') return 4 * dim;
  if (precision === 'int8' || precision === 'uint8') return dim;
  return Math.ceil(dim / 8);
}

/** Checks a precision list: known names, no repeats. @throws UserError naming the value. */
export function checkPrecisions(precisions: string[]): Precision[] {
  if (precisions.length === 0) throw new UserError('precision: expected at least one of float32, int8, uint8, binary, ubinary', 'ERR_OPTION', 'precision');
  const seen = new Set<string>();
  for (const p of precisions) {
    if (!PRECISIONS.includes(p as Precision)) throw invalidParameter('precision', `one of ${PRECISIONS.join(', ')}`, p);
    if (seen.has(p)) throw new UserError(`precision: ${p} is listed twice`, 'ERR_OPTION', 'precision');
    seen.add(p);
  }
  return precisions as Precision[];
}

/** Column minima and maxima of the first `width` columns (np.min / np.max over axis 0). */
export function calibrationRanges(calibration: Matrix, width: number): Ranges {
  if (calibration.rows === 0) throw new UserError('calibration: no embeddings to compute the int8/uint8 ranges from', 'ERR_EMPTY', 'calibration');
  if (calibration.cols < width)
    throw new UserError(`calibration embeddings are ${calibration.cols} wide; the dims need ${width}`, 'ERR_INVALID_ARG', 'calibration');
  const min = new Float32Array(width).fill(Number.POSITIVE_INFINITY);
  const max = new Float32Array(width).fill(Number.NEGATIVE_INFINITY);
  const { data, cols } = calibration;
  for (let r = 0; r < calibration.rows; r++) {
    const o = r * cols;
    for (let j = 0; j < width; j++) {
      const v = data[o + j];
      if (!Number.isFinite(v))
        throw new UserError(`calibration embeddings: row ${r} has a non-finite value (${v}) at column ${j}`, 'ERR_NON_FINITE', 'calibration');
      if (v < min[j]) min[j] = v;
      if (v > max[j]) max[j] = v;
    }
  }
  return { min, max };
}

/**
 * quantize_embeddings(x[:, :width], precision, ranges) at cad2119, in float32 arithmetic as numpy
 * does it: int8 / uint8 bucket = clip(floor((x - min) / step), 0, 255) with step = (max - min) /
 * 255 (a zero step read as 1), int8 = bucket - 128; binary / ubinary: the bits x > 0, packed as
 * np.packbits (first dim in the top bit; a last partial byte zero-padded); binary's bytes are
 * ubinary's - 128, the same bits for Hamming distance, so both are returned as ubinary's bytes.
 */
export function quantizeRows(m: Matrix, precision: QuantizedPrecision, width: number, ranges?: Ranges): Uint8Array {
  const { data, cols, rows } = m;
  if (precision === 'binary' || precision === 'ubinary') {
    const rb = Math.ceil(width / 8);
    const out = new Uint8Array(rows * rb);
    for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) if (data[r * cols + j] > 0) out[r * rb + (j >> 3)] |= 0x80 >> (j & 7);
    return out;
  }
  if (!ranges) throw new Error('quantizeRows: int8/uint8 need ranges');
  const step = new Float32Array(width);
  for (let j = 0; j < width; j++) {
    const s = Math.fround(Math.fround(ranges.max[j] - ranges.min[j]) / 255);
    step[j] = s === 0 ? 1 : s;
  }
  const out = new Uint8Array(rows * width);
  const shift = precision === 'int8' ? 128 : 0;
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < width; j++) {
      const q = Math.floor(Math.fround(Math.fround(data[r * cols + j] - ranges.min[j]) / step[j]));
      // NaN (a non-finite input) clips to 0 here; the embeddings were checked finite before
      const b = q >= 255 ? 255 : q > 0 ? q : 0;
      out[r * width + j] = (b - shift) & 0xff; // int8: the two's-complement byte
    }
  return out;
}

/**
 * quantizeRows in the native engine (threads; the same bytes: test/71 holds the two together),
 * or in TypeScript where the addon did not load.
 */
export async function quantize(m: Matrix, precision: QuantizedPrecision, width: number, ranges?: Ranges, threads?: number): Promise<Uint8Array> {
  const { addon } = loadNative();
  if (!addon) return quantizeRows(m, precision, width, ranges);
  if (!ranges && (precision === 'int8' || precision === 'uint8')) throw new Error('quantize: int8/uint8 need ranges');
  const kind = precision === 'binary' || precision === 'ubinary' ? 'hamming' : precision;
  return addon.quantize({ x: m.data, cols: m.cols, width, kind, min: ranges?.min, max: ranges?.max, threads: checkThreads(threads) });
}

/** One (precision) first stage's lists: top kq per query at each dim, best first. */
export interface QuantizedTopK {
  dims: number[];
  k: number;
  nq: number;
  indices: Int32Array[];
  /** Hamming distances (binary precisions) or integer inner products. */
  scores: Int32Array[];
  kernel: string;
}

/**
 * The first stage on quantized rows at every dim in one pass (the native engine; the TypeScript
 * one where the addon did not load). Rows are quantizeRows' output at `width`.
 */
export async function scoreQuantizedRows(
  queries: Uint8Array,
  corpus: Uint8Array,
  kind: 'hamming' | 'int8' | 'uint8',
  width: number,
  dims: number[],
  k: number,
  options: { threads?: number; kernel?: KernelChoice; device?: Device } = {},
): Promise<QuantizedTopK> {
  const rb = kind === 'hamming' ? Math.ceil(width / 8) : width;
  const nq = queries.length / rb;
  const nc = corpus.length / rb;
  if (nc === 0) throw new UserError('the corpus is empty', 'ERR_EMPTY');
  const threads = checkThreads(options.threads);
  const { addon, reason } = loadNative();
  const device = options.device ?? 'cpu';
  if (!addon) {
    if (device === 'cuda') throw new UserError(`device cuda needs the native addon, which did not load: ${reason}`, 'ERR_NO_CUDA_BUILD', 'device');
    return scoreQuantizedReference(queries, corpus, kind, width, dims, k);
  }
  try {
    const out = await addon.scoreQuantized({
      queries,
      corpus,
      kind,
      dim: width,
      dims: Int32Array.from(dims),
      k,
      threads,
      device,
      ...(device === 'cpu' ? { kernel: options.kernel ?? 'auto' } : {}),
    });
    return { dims: [...dims], k: out.k, nq, indices: out.indices, scores: out.scores, kernel: out.kernel };
  } catch (e) {
    const code = ((e as { code?: string }).code ?? 'ERR_NATIVE') as ErrorCode;
    const message = (e as Error).message;
    if (code === 'ERR_INVALID_ARG' && message.startsWith('kernel:'))
      throw new UserError(`kernel ${options.kernel}: this CPU cannot run its quantized first stage (it runs ${addon.info().quantKernel})`, code, 'kernel');
    if (code === 'ERR_INVALID_ARG') throw new UserError(message, code);
    if (code === 'ERR_NO_CUDA_BUILD' || code === 'ERR_NO_DEVICE') throw new UserError(`device cuda: ${message}`, code, 'device');
    throw new RuntimeError(`quantized scoring failed: ${message}`, code, { cause: e });
  }
}

/** The same lists computed in TypeScript (no addon; tests hold the kernels to it). */
export function scoreQuantizedReference(
  queries: Uint8Array,
  corpus: Uint8Array,
  kind: 'hamming' | 'int8' | 'uint8',
  width: number,
  dims: number[],
  k: number,
): QuantizedTopK {
  const rb = kind === 'hamming' ? Math.ceil(width / 8) : width;
  const nq = queries.length / rb;
  const nc = corpus.length / rb;
  const kq = Math.min(k, nc);
  const indices = dims.map(() => new Int32Array(nq * kq));
  const scores = dims.map(() => new Int32Array(nq * kq));
  const value = (a: number) => (kind === 'int8' ? (a << 24) >> 24 : a);
  const bit = (x: Uint8Array, o: number, j: number) => (x[o + (j >> 3)] >> (7 - (j & 7))) & 1;
  const order = Int32Array.from({ length: nc }, (_, i) => i);
  const v = new Int32Array(nc);
  for (let q = 0; q < nq; q++) {
    dims.forEach((d, o) => {
      for (let c = 0; c < nc; c++) {
        let s = 0;
        if (kind === 'hamming') for (let j = 0; j < d; j++) s += bit(queries, q * rb, j) ^ bit(corpus, c * rb, j);
        else for (let j = 0; j < d; j++) s += value(queries[q * rb + j]) * value(corpus[c * rb + j]);
        v[c] = s;
      }
      const sorted = Array.from(order).sort(kind === 'hamming' ? (a, b) => v[a] - v[b] || a - b : (a, b) => v[b] - v[a] || b - a);
      for (let i = 0; i < kq; i++) {
        indices[o][q * kq + i] = sorted[i];
        scores[o][q * kq + i] = v[sorted[i]];
      }
    });
  }
  return { dims: [...dims], k: kq, nq, indices, scores, kernel: 'typescript' };
}

/**
 * The final lists of one precision at every dim: the first stage's top k (scores: the inner
 * product, or minus the Hamming distance, so that higher is better everywhere), or with
 * multiplier M > 0 its top k x M rescored as semantic_search_faiss / _usearch rescore them:
 * the float32 query's prefix (not renormalised) dotted in float64 with the candidate's quantized
 * values (int8 / uint8 values; the binary precisions' bits as 0 / 1, only the dim's own bits, where
 * their code unpacks whole bytes and fails when dim is not a multiple of 8; binary's bits
 * themselves, where usearch's reads its int8 bytes as uint8 and flips each byte's first bit),
 * the best k kept, equal rescored scores in first-stage order (their argsort is unstable).
 */
export function finalLists(
  first: QuantizedTopK,
  precision: QuantizedPrecision,
  queries: Matrix,
  corpusRows: Uint8Array,
  width: number,
  k: number,
  multiplier: number,
): TopKResult {
  const { nq } = first;
  const kq = first.k;
  const out = Math.min(k, kq);
  const hamming = precision === 'binary' || precision === 'ubinary';
  const rb = hamming ? Math.ceil(width / 8) : width;
  const indices: Int32Array[] = [];
  const scores: Float32Array[] = [];
  const rescored = new Float64Array(kq);
  const order = new Int32Array(kq);
  first.dims.forEach((d, o) => {
    const idx = new Int32Array(nq * out);
    const sc = new Float32Array(nq * out);
    for (let q = 0; q < nq; q++) {
      const cand = first.indices[o].subarray(q * kq, (q + 1) * kq);
      if (multiplier <= 0) {
        idx.set(cand.subarray(0, out), q * out);
        for (let i = 0; i < out; i++) sc[q * out + i] = hamming ? -first.scores[o][q * kq + i] : first.scores[o][q * kq + i];
        continue;
      }
      const qo = q * queries.cols;
      for (let i = 0; i < kq; i++) {
        const c = cand[i] * rb;
        let s = 0;
        if (hamming) {
          for (let j = 0; j < d; j++) if ((corpusRows[c + (j >> 3)] >> (7 - (j & 7))) & 1) s += queries.data[qo + j];
        } else if (precision === 'int8') {
          for (let j = 0; j < d; j++) s += queries.data[qo + j] * ((corpusRows[c + j] << 24) >> 24);
        } else {
          for (let j = 0; j < d; j++) s += queries.data[qo + j] * corpusRows[c + j];
        }
        rescored[i] = s;
        order[i] = i;
      }
      // stable: equal rescored scores keep the first stage's order
      const sorted = Array.from(order).sort((a, b) => rescored[b] - rescored[a] || a - b);
      for (let i = 0; i < out; i++) {
        idx[q * out + i] = cand[sorted[i]];
        sc[q * out + i] = rescored[sorted[i]];
      }
    }
    indices.push(idx);
    scores.push(sc);
  });
  return { dims: [...first.dims], k: out, nq, indices, scores, engine: first.kernel };
}

export interface QuantizedRun {
  precision: QuantizedPrecision;
  /** The final lists (finalLists). */
  top: TopKResult;
  /** The first stage's kernel. */
  kernel: string;
  ms: number;
}

/**
 * Every quantized precision's final lists at every dim: the rows quantized once at the widest
 * dim (a prefix's int8 buckets and sign bits are the full row's), one first-stage pass per
 * precision (binary and ubinary share theirs: the same bits), then the rescoring.
 */
export async function scoreQuantized(
  queries: Matrix,
  corpus: Matrix,
  options: {
    dims: number[];
    k: number;
    precisions: QuantizedPrecision[];
    rescoreMultiplier: number;
    ranges?: Ranges;
    threads?: number;
    kernel?: KernelChoice;
    device?: Device;
    signal?: AbortSignal;
  },
): Promise<QuantizedRun[]> {
  const width = Math.max(...options.dims);
  const runs: QuantizedRun[] = [];
  let bits: { q: Uint8Array; c: Uint8Array; first: QuantizedTopK; ms: number } | undefined;
  const kFirst = options.rescoreMultiplier > 0 ? options.k * options.rescoreMultiplier : options.k;
  for (const precision of options.precisions) {
    checkAborted(options.signal);
    const t0 = performance.now();
    const hamming = precision === 'binary' || precision === 'ubinary';
    let q: Uint8Array;
    let c: Uint8Array;
    let first: QuantizedTopK;
    if (hamming && bits) {
      ({ q, c, first } = bits);
    } else {
      q = await quantize(queries, precision, width, options.ranges, options.threads);
      c = await quantize(corpus, precision, width, options.ranges, options.threads);
      first = await scoreQuantizedRows(q, c, hamming ? 'hamming' : precision, width, options.dims, kFirst, options);
      if (hamming) bits = { q, c, first, ms: performance.now() - t0 };
    }
    const top = finalLists(first, precision, queries, c, width, options.k, options.rescoreMultiplier);
    runs.push({ precision, top, kernel: first.kernel, ms: performance.now() - t0 });
  }
  return runs;
}
