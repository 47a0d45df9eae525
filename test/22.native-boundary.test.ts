// The native boundary under hostile input: shapes, values, sizes and threads that must be
// refused with a coded error, never a crash.
import { describe, expect, it } from 'vitest';
import { loadNative } from '../lib/score/native.js';
import { scoreTopK } from '../lib/score/index.js';
import { rng } from './helpers/shared.js';

describe('the native boundary never crashes', () => {
  const { addon } = loadNative();

  it('NaN or Inf in queries or corpus: a coded error from the library and from the addon itself', async () => {
    const ok = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i));
    for (const [where, value] of [
      ['queries', Number.NaN],
      ['corpus', Number.POSITIVE_INFINITY],
    ] as const) {
      const bad = Float32Array.from(ok);
      bad[13] = value;
      const q = { data: where === 'queries' ? bad : ok, rows: 5, cols: 8 };
      const c = { data: where === 'corpus' ? bad : ok, rows: 5, cols: 8 };
      await expect(scoreTopK(q, c, { dims: [8, 4], k: 3 })).rejects.toMatchObject({ code: 'ERR_NON_FINITE' });
      if (addon)
        await expect(
          addon.score({ queries: q.data, corpus: c.data, dim: 8, dims: Int32Array.from([8, 4]), k: 3, threads: 1, device: 'cpu' }),
        ).rejects.toMatchObject({
          code: 'ERR_NON_FINITE',
        });
    }
  });

  it.skipIf(!addon)('the first bad value of a large corpus is the one named', async () => {
    // 100,000 x 8 values, a NaN and then, earlier in the corpus, a value past 1e15: the earlier one
    // is named.
    const rows = 100_000;
    const corpus = Float32Array.from({ length: rows * 8 }, (_, i) => Math.sin(i));
    corpus[600_005] = Number.NaN;
    corpus[300_003] = 1e16;
    const queries = Float32Array.from({ length: 16 }, (_, i) => Math.cos(i));
    await expect(addon?.score({ queries, corpus, dim: 8, dims: Int32Array.from([8, 4]), k: 3, threads: 2, device: 'cpu' })).rejects.toMatchObject({
      code: 'ERR_NON_FINITE',
      message: expect.stringMatching(/row 37500 .* column 3$/),
    });
  });

  it.skipIf(!addon)('a bad corpus value is refused on every path: past the largest dim, bf16, no queries, after a bad query', async () => {
    const dim = 8;
    const rows = 3000;
    const corpus = Float32Array.from({ length: rows * dim }, (_, i) => Math.sin(i));
    corpus[2001 * dim + 6] = Number.POSITIVE_INFINITY; // column 6: outside dims 4 and 2
    const queries = Float32Array.from({ length: 40 * dim }, (_, i) => Math.cos(i));
    const run = (over: Record<string, unknown>) =>
      addon!.score({ queries, corpus, dim, dims: Int32Array.from([4, 2]), k: 5, threads: 2, device: 'cpu', ...over });
    for (const precision of ['fp32', 'bf16', 'bf16-portable', 'auto'])
      await expect(run({ precision, bf16MaxCandidateFraction: 1 })).rejects.toMatchObject({
        code: 'ERR_NON_FINITE',
        message: expect.stringMatching(/^corpus embeddings: row 2001 .* column 6$/),
      });
    await expect(run({ queries: new Float32Array(0) })).rejects.toMatchObject({ message: expect.stringMatching(/^corpus .* row 2001 /) });
    const badQuery = Float32Array.from(queries);
    badQuery[17 * dim + 1] = Number.NaN;
    await expect(run({ queries: badQuery })).rejects.toMatchObject({ message: expect.stringMatching(/^query embeddings: row 17 .* column 1$/) });
  });

  it.skipIf(!addon)('random shapes, values and options straight into the addon: results or coded errors, no crash', async () => {
    const r = rng(99);
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
    for (let t = 0; t < 300; t++) {
      const dim = pick([1, 2, 3, 7, 16, 33]);
      const nq = pick([0, 1, 2, 5, 17]);
      const nc = pick([0, 1, 3, 9, 70]);
      const special = [0, Number.NaN, Number.POSITIVE_INFINITY, -0, 1e38, -1e38, 1e-45];
      const fill = (n: number) => Float32Array.from({ length: n }, () => (r() < 0.03 ? pick(special) : r() * 2 - 1));
      const dims = Int32Array.from({ length: pick([0, 1, 2, 3]) }, () => pick([0, 1, dim, dim + 1, -1, Math.max(1, dim >> 1)]));
      const k = pick([0, 1, 3, 100, -5, 2 ** 31 - 1]);
      const threads = pick([0, 1, 2, 1000]);
      const queries = fill(nq * dim + (r() < 0.05 ? 1 : 0));
      try {
        const out = await addon!.score({ queries, corpus: fill(nc * dim), dim, dims, k, threads, device: 'cpu' });
        expect(out.indices).toHaveLength(dims.length);
        for (const idx of out.indices) for (const i of idx) expect(i >= 0 && i < nc).toBe(true);
      } catch (e) {
        expect((e as { code?: string }).code, String(e)).toMatch(/^ERR_(INVALID_ARG|NON_FINITE)$/);
      }
    }
    for (const bad of [
      undefined,
      null,
      7,
      'x',
      {},
      { queries: [1, 2], corpus: new Float32Array(2), dim: 1, dims: new Int32Array([1]), k: 1, threads: 0, device: 'cpu' },
    ]) {
      expect(() => (addon!.score as (o: unknown) => unknown)(bad)).toThrow();
    }
  });
});
