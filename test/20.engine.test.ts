// The native engine against the plain TypeScript reference on random data.
import { describe, expect, it } from 'vitest';
import { engineInfo, engineSettings, scoreTopK, scoreTopKReference } from '../lib/score/index.js';
import type { KernelChoice, TopKResult } from '../lib/score/index.js';
import { UserError } from '../lib/errors.js';
import { gaussianArray } from '../lib/random.js';
import { loadNative } from '../lib/score/native.js';
import { misleadingSample, sampleRows } from './helpers/sample-rows.js';
import { rng } from './helpers/shared.js';

function randomMatrix(rows: number, cols: number, seed: number) {
  const r = rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = r() * 2 - 1;
  return { data, rows, cols };
}

/** Same hits in the same order, except where neighbouring scores are within float noise. */
function expectSameTopK(got: TopKResult, want: TopKResult, tol = 2e-6) {
  expect(got.k).toBe(want.k);
  expect(got.dims).toEqual(want.dims);
  for (let o = 0; o < want.dims.length; o++) {
    for (let i = 0; i < want.nq * want.k; i++) {
      expect(Math.abs(got.scores[o][i] - want.scores[o][i])).toBeLessThanOrEqual(tol);
      if (got.indices[o][i] !== want.indices[o][i]) {
        // Only a near-tie may swap two hits.
        const s = want.scores[o];
        const near = (i > 0 && Math.abs(s[i] - s[i - 1]) < tol) || (i + 1 < s.length && Math.abs(s[i] - s[i + 1]) < tol);
        expect(near, `dim ${want.dims[o]} slot ${i}`).toBe(true);
      }
    }
  }
}

describe('scoring engine', () => {
  it('loads the native addon (no fallback in this build)', () => {
    const info = engineInfo();
    expect(info.native, info.reason).toBe(true);
    expect(['avx512', 'avx2', 'generic']).toContain(info.kernel);
  });

  it.each([
    { nq: 37, nc: 501, dim: 64, dims: [64, 32, 8, 1], k: 10, seed: 1 },
    { nq: 5, nc: 3, dim: 16, dims: [16, 4], k: 10, seed: 2 }, // k > corpus size
    { nq: 130, nc: 1000, dim: 100, dims: [100, 64, 33], k: 100, seed: 3 },
    { nq: 1, nc: 17, dim: 7, dims: [7], k: 1, seed: 4 },
    // a corpus of several blocks (2,048 rows a block with the AVX-512 kernel; from four on, the
    // ring of three packed buffers wraps): few queries (the corpus split between tasks), and more
    // than fit one L2-sized range (192 KB of rows: the blocks packed once, shared by the ranges)
    { nq: 3, nc: 5000, dim: 24, dims: [24, 8], k: 20, seed: 5 },
    { nq: 250, nc: 7000, dim: 256, dims: [256, 100, 7], k: 20, seed: 6 },
    // twelve dims: a tile stages 96 rows (AVX-512) or 72 (AVX2), more than one 64-bit word of them
    { nq: 70, nc: 2000, dim: 96, dims: [96, 88, 80, 72, 64, 56, 48, 40, 32, 24, 16, 8], k: 30, seed: 7 },
  ])('matches the reference on random data: $nq x $nc x $dim, dims $dims, k $k', async ({ nq, nc, dim, dims, k, seed }) => {
    const q = randomMatrix(nq, dim, seed);
    const c = randomMatrix(nc, dim, seed + 100);
    const got = await scoreTopK(q, c, { dims, k });
    expectSameTopK(got, scoreTopKReference(q.data, c.data, dim, dims, k));
    expect(got.k).toBe(Math.min(k, nc));
  });

  it('breaks exact ties by corpus order, like the reference', async () => {
    const q = randomMatrix(40, 24, 7);
    // 600 documents drawn from 25 distinct vectors: every score is an exact tie with others.
    const base = randomMatrix(25, 24, 8);
    const pick = rng(9);
    const c = randomMatrix(600, 24, 0);
    for (let r = 0; r < 600; r++) c.data.set(base.data.subarray(Math.floor(pick() * 25) * 24).subarray(0, 24), r * 24);
    const dims = [24, 12, 6];
    const got = await scoreTopK(q, c, { dims, k: 20 });
    const want = scoreTopKReference(q.data, c.data, 24, dims, 20);
    for (let o = 0; o < dims.length; o++) {
      expect(Array.from(got.indices[o])).toEqual(Array.from(want.indices[o]));
      // within a run of equal scores, indices ascend
      for (let i = 1; i < got.scores[o].length; i++) {
        if (i % 20 !== 0 && got.scores[o][i] === got.scores[o][i - 1]) expect(got.indices[o][i]).toBeGreaterThan(got.indices[o][i - 1]);
      }
    }
  });

  it('scores duplicated documents equally and keeps the earlier first', async () => {
    const c = randomMatrix(50, 32, 9);
    c.data.copyWithin(40 * 32, 3 * 32, 4 * 32); // row 40 = row 3
    const q = { data: c.data.slice(3 * 32, 4 * 32), rows: 1, cols: 32 };
    const got = await scoreTopK(q, c, { dims: [32], k: 2 });
    expect(Array.from(got.indices[0])).toEqual([3, 40]);
    expect(got.scores[0][0]).toBe(got.scores[0][1]);
    expect(got.scores[0][0]).toBeCloseTo(1, 6);
  });

  it('gives a zero vector a score of 0 at every dim', async () => {
    const c = randomMatrix(3, 8, 10);
    c.data.fill(0, 8, 16); // row 1 is zero
    c.data.fill(0, 16, 20); // row 2 is zero in its first 4 components only
    const q = { data: Float32Array.from([1, 0, 0, 0, 0, 0, 0, 1]), rows: 1, cols: 8 };
    const got = await scoreTopK(q, c, { dims: [8, 4], k: 3 });
    const at = (o: number, row: number) => got.scores[o][Array.from(got.indices[o]).indexOf(row)];
    expect(at(0, 1)).toBe(0);
    expect(at(1, 1)).toBe(0);
    expect(at(1, 2)).toBe(0);
  });

  it('reads subarray views at their offset', async () => {
    const big = randomMatrix(20, 16, 11);
    const qView = { data: big.data.subarray(5 * 16, 8 * 16), rows: 3, cols: 16 };
    const cView = { data: big.data.subarray(8 * 16), rows: 12, cols: 16 };
    const got = await scoreTopK(qView, cView, { dims: [16, 8], k: 5 });
    expectSameTopK(got, scoreTopKReference(qView.data.slice(), cView.data.slice(), 16, [16, 8], 5));
  });

  it('returns dims in the order asked, not sorted', async () => {
    const q = randomMatrix(4, 32, 12);
    const c = randomMatrix(30, 32, 13);
    const a = await scoreTopK(q, c, { dims: [8, 32, 16], k: 5 });
    const b = await scoreTopK(q, c, { dims: [32], k: 5 });
    expect(Array.from(a.indices[1])).toEqual(Array.from(b.indices[0]));
  });

  it('gives the same answer on 1 thread and many', async () => {
    const q = randomMatrix(300, 48, 14);
    const c = randomMatrix(2000, 48, 15);
    const one = await scoreTopK(q, c, { dims: [48, 16], k: 10, threads: 1 });
    const many = await scoreTopK(q, c, { dims: [48, 16], k: 10, threads: 7 });
    expect(Array.from(many.indices[0])).toEqual(Array.from(one.indices[0]));
    expect(Array.from(many.scores[1])).toEqual(Array.from(one.scores[1]));
  });

  it('runs off the main thread: the event loop keeps turning while it scores', async () => {
    const q = randomMatrix(400, 256, 16);
    const c = randomMatrix(20000, 256, 17);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await scoreTopK(q, c, { dims: [256, 64], k: 10, threads: 1 });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });

  // From k 54 a pass starts each (query, dim) at a score a sample of the corpus sets
  // (native/cpu/thresholds.cc); a k = nc request takes no sample and orders the whole corpus, whose
  // first k must be the sampled pass's lists bit for bit, also where the sample misleads.
  it.each([
    { name: 'random data', misleading: false, nq: 40, nc: 3000, dim: 48 },
    { name: 'a sample of rows far above the rest: the queries are scored again from -inf', misleading: true, nq: 40, nc: 3000, dim: 48 },
    // 2,223 sample rows: packed in two blocks (2,048 rows a block with the AVX-512 kernel)
    { name: 'a sample of several packed blocks', misleading: false, nq: 8, nc: 80000, dim: 16 },
  ])("start thresholds from a corpus sample: the complete ordering's first k, $name", async ({ misleading, nq, nc, dim }) => {
    const { addon } = loadNative();
    const k = 60;
    const near = sampleRows(nc, k);
    expect(near.length).toBeGreaterThan(0);
    const data = misleading ? misleadingSample(nq, nc, dim, near, 31) : { queries: gaussianArray(nq * dim, 31), corpus: gaussianArray(nc * dim, 32) };
    const req = { ...data, dim, dims: Int32Array.from([dim, 8]), device: 'cpu' as const, threads: 2, precision: 'fp32' as const };
    const got = await addon!.score({ ...req, k });
    const all = await addon!.score({ ...req, k: nc });
    expect(got.stats!.restartedQueries).toBe(misleading ? nq : 0);
    for (let o = 0; o < 2; o++)
      for (let q = 0; q < nq; q++) {
        expect(Array.from(got.indices[o].subarray(q * k, (q + 1) * k))).toEqual(Array.from(all.indices[o].subarray(q * nc, q * nc + k)));
        expect(Array.from(got.scores[o].subarray(q * k, (q + 1) * k))).toEqual(Array.from(all.scores[o].subarray(q * nc, q * nc + k)));
      }
  });

  it.each([
    [{ dims: [65], k: 10 }, /65 is larger than the embedding width 64/],
    [{ dims: [32, 32], k: 10 }, /32 is listed twice/],
    [{ dims: [0], k: 10 }, /0 is not a positive integer/],
    [{ dims: [32], k: 0 }, /k: expected a positive integer/],
  ])('rejects bad options %j before any work', async (options, message) => {
    const m = randomMatrix(2, 64, 18);
    await expect(scoreTopK(m, m, options)).rejects.toThrow(UserError);
    await expect(scoreTopK(m, m, options)).rejects.toThrow(message);
  });
});

describe('the engine settings: arithmetic and kernel, options first, then the environment', () => {
  it('options win over the environment; EMB_BENCH_KERNEL may still name an arithmetic; unknown values name their source', () => {
    expect(engineSettings({}, {})).toEqual({ arithmetic: 'auto', kernel: 'auto' });
    expect(engineSettings({}, { EMB_BENCH_ARITHMETIC: 'bf16', EMB_BENCH_KERNEL: 'generic' })).toEqual({ arithmetic: 'bf16', kernel: 'generic' });
    expect(engineSettings({ arithmetic: 'fp32', kernel: 'avx2' }, { EMB_BENCH_ARITHMETIC: 'bf16', EMB_BENCH_KERNEL: 'generic' })).toEqual({
      arithmetic: 'fp32',
      kernel: 'avx2',
    });
    expect(engineSettings({}, { EMB_BENCH_KERNEL: 'fp32' })).toEqual({ arithmetic: 'fp32', kernel: 'auto' });
    expect(() => engineSettings({ arithmetic: 'fp16' as never }, {})).toThrow(/^arithmetic: expected one of auto, fp32, bf16, bf16-portable/);
    expect(() => engineSettings({}, { EMB_BENCH_ARITHMETIC: 'fast' })).toThrow(/EMB_BENCH_ARITHMETIC/);
    expect(() => engineSettings({}, { EMB_BENCH_KERNEL: 'sse4' })).toThrow(/EMB_BENCH_KERNEL/);
    expect(() => engineSettings({ kernel: 'neon' as never }, {})).toThrow(UserError);
  });

  it.skipIf(!engineInfo().native)('every FMA kernel this CPU runs and every arithmetic give the same top-k, bit for bit; generic within rounding', async () => {
    const q = randomMatrix(40, 96, 31);
    const c = randomMatrix(3000, 96, 32);
    const kernels = loadNative().addon!.info().kernels as KernelChoice[];
    const generic = await scoreTopK(q, c, { dims: [96, 32], k: 20, kernel: 'generic', arithmetic: 'fp32' });
    const fma = kernels.filter((k) => k !== 'generic');
    if (fma.length === 0) return;
    const base = await scoreTopK(q, c, { dims: [96, 32], k: 20, kernel: fma[0], arithmetic: 'fp32' });
    expectSameTopK(generic, base);
    for (const kernel of fma)
      for (const arithmetic of ['fp32', 'bf16', 'bf16-portable'] as const) {
        const got = await scoreTopK(q, c, { dims: [96, 32], k: 20, kernel, arithmetic });
        for (let o = 0; o < 2; o++) {
          expect(Array.from(got.indices[o]), `${kernel} ${arithmetic}`).toEqual(Array.from(base.indices[o]));
          expect(Array.from(got.scores[o]), `${kernel} ${arithmetic}`).toEqual(Array.from(base.scores[o]));
        }
      }
  });
});
