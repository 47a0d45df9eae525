// The bf16 two-stage engine (a bf16 first stage, exact fp32 rescoring, a certified candidate
// set) returns exactly the fp32 engine's results: the same indices and the same score bits, on
// random, clustered, tied, near-tied and adversarial data and on the shared goldens. Both the
// AVX512_BF16 kernel (where this CPU has one) and the portable path, which runs everywhere.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../lib/data/npy.js';
import { gaussianArray, seededRandom } from '../lib/random.js';
import { loadNative, type NativeScoreRequest, type NativeTopK } from '../lib/score/native.js';
import { misleadingSample, sampleRows } from './helpers/sample-rows.js';
import { shared } from './helpers/shared.js';

const { addon, reason: addonPath } = loadNative();

function expectSame(a: NativeTopK, b: NativeTopK) {
  expect(b.k).toBe(a.k);
  for (let i = 0; i < a.indices.length; i++) {
    expect(Buffer.from(b.indices[i].buffer).equals(Buffer.from(a.indices[i].buffer)), `indices of dim #${i}`).toBe(true);
    expect(Buffer.from(b.scores[i].buffer).equals(Buffer.from(a.scores[i].buffer)), `score bits of dim #${i}`).toBe(true);
  }
}

/** fp32 vs each bf16 path on the same request; returns the bf16 runs' stats. */
async function check(req: Omit<NativeScoreRequest, 'device' | 'threads'>, fraction = 1) {
  const base = { ...req, device: 'cpu' as const, threads: 2, bf16MaxCandidateFraction: fraction };
  const fp32 = await addon!.score({ ...base, precision: 'fp32' });
  expect(fp32.stats!.engine).not.toMatch(/bf16/);
  const stats = [];
  for (const precision of ['bf16', 'bf16-portable'] as const) {
    const two = await addon!.score({ ...base, precision });
    expectSame(fp32, two);
    stats.push(two.stats!);
  }
  return stats;
}

const normalish = (n: number, seed: number) => gaussianArray(n, seed);

/** `rows` points scattered uniformly by +-spread/2 around `clusters` Gaussian centres. */
function clustered(rows: number, dim: number, clusters: number, spread: number, seed: number, centerSeed: number) {
  const rnd = seededRandom(seed);
  const centers = normalish(clusters * dim, centerSeed);
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const c = Math.floor(rnd() * clusters);
    for (let j = 0; j < dim; j++) out[r * dim + j] = centers[c * dim + j] + spread * (rnd() - 0.5);
  }
  return out;
}

/** One Gaussian vector v and `rows` copies of it with relative noise 1e-5: cosines closer than bf16 resolves. */
function crowded(rows: number, dim: number, seed: number, noiseSeed: number) {
  const v = normalish(dim, seed);
  const rnd = seededRandom(noiseSeed);
  const corpus = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) for (let j = 0; j < dim; j++) corpus[r * dim + j] = v[j] * (1 + 1e-5 * (rnd() - 0.5));
  return { v, corpus };
}

describe.skipIf(!addon)('bf16 two-stage engine', () => {
  it('random data: identical at k 10 and 50, every candidate certified', async () => {
    const dim = 128;
    for (const k of [10, 50]) {
      const [hw, portable] = await check({ queries: normalish(64 * dim, 1), corpus: normalish(4000 * dim, 2), dim, dims: Int32Array.from([128, 64, 32]), k });
      expect(portable.engine).toMatch(/-bf16-portable$/);
      expect(hw.engine).toMatch(/-bf16/);
      expect(portable.fallback).toBeNull();
      expect(portable.pairs).toBe(64 * 3);
      expect(portable.needed).toBeLessThanOrEqual(portable.rescored);
      // the stage-1 bound excludes part of the k + k/2 + 16 candidates before any rescoring
      expect(portable.rescored).toBeLessThan(64 * 3 * (k + k / 2 + 16));
      expect(hw.rescored).toBeLessThan(64 * 3 * (k + k / 2 + 16));
      expect(portable.fallbackQueries).toBeLessThan(8);
      expect(hw.fallbackQueries).toBeLessThan(8);
    }
  });

  it.each(['generic', 'avx2'])("the %s kernel: its rescoring gives the fp32 engine's bits too", (kernel) => {
    // a child process: the addon picks its micro-kernel once per process, from EMB_BENCH_KERNEL
    const child = fileURLToPath(new URL('./helpers/kernel-child.mjs', import.meta.url));
    const run = (env: NodeJS.ProcessEnv) => JSON.parse(execFileSync(process.execPath, [child, addonPath], { env }).toString());
    const out = run({ ...process.env, EMB_BENCH_KERNEL: kernel });
    const { EMB_BENCH_KERNEL: _, ...env } = process.env;
    // the fused multiply-add kernels agree bit for bit with this CPU's own; the generic kernel
    // rounds each product
    if (out.kernel !== 'generic') expect(out.fp32).toBe(run(env).fp32);
    if (kernel === 'generic' || out.kernel === kernel) expect(out.kernel).toBe(kernel); // avx2 where the CPU has it
    expect(out.engine).toBe(`cpu-${out.kernel}-bf16-portable`);
    expect(out.identical).toBe(true);
    expect(out.fallbackQueries).toBeLessThan(4);
  });

  it('a large k: the rescoring runs the queries in several blocks (at most 2^21 candidate pairs each)', async () => {
    // k 1,000 keeps 1,516 candidates per (query, dim): 4,548 per query, blocks of 461 queries
    const dim = 16;
    const corpus = normalish(20000 * dim, 41);
    const [hw, portable] = await check({ queries: corpus.slice(0, 1000 * dim), corpus, dim, dims: Int32Array.from([16, 8, 4]), k: 1000 });
    for (const s of [hw, portable]) {
      expect(s.rescored).toBeLessThanOrEqual(1000 * 3 * 1516);
      expect(s.rescored).toBeGreaterThanOrEqual(s.needed);
    }
  });

  it('panel edges: a width that is no multiple of the packing block and a corpus that ends mid-panel', async () => {
    // 25 bf16 pairs and 50 floats per row (the packing transposes 16 at a time), 1,007 rows
    const dim = 50;
    const [hw, portable] = await check({ queries: normalish(40 * dim, 21), corpus: normalish(1007 * dim, 22), dim, dims: Int32Array.from([50, 18]), k: 10 });
    // a first stage that read the wrong values would leave most queries uncertified (then fp32)
    expect(hw.fallbackQueries).toBeLessThan(4);
    expect(portable.fallbackQueries).toBeLessThan(4);
    expect(Math.abs(hw.needed - portable.needed)).toBeLessThan(0.1 * portable.needed + 5);
  });

  it('start thresholds from a corpus sample that misleads both stages: the queries are scored again, still identical', async () => {
    // the fp32 pass samples for k = 60, the first stage for its k + k/2 + 16 = 106 candidates
    const nq = 24,
      nc = 3000,
      dim = 64,
      k = 60;
    const near = [...new Set([...sampleRows(nc, k), ...sampleRows(nc, 106)])];
    expect(near.length).toBeGreaterThan(sampleRows(nc, k).length);
    const { queries, corpus } = misleadingSample(nq, nc, dim, near, 51);
    const stats = await check({ queries, corpus, dim, dims: Int32Array.from([64, 32]), k });
    for (const s of stats) expect(s.restartedQueries).toBe(nq);
  });

  it('ten dims: the first stage stages 80 rows a tile (more than one 64-bit word of them)', async () => {
    const dim = 80;
    const dims = Int32Array.from([80, 72, 64, 56, 48, 40, 32, 24, 16, 8]);
    const [hw, portable] = await check({ queries: normalish(48 * dim, 61), corpus: normalish(3000 * dim, 62), dim, dims, k: 20 });
    for (const s of [hw, portable]) expect(s.fallbackQueries).toBeLessThan(8);
  });

  it('clustered data (8 tight clusters), duplicated rows (exact ties), zero rows', async () => {
    const dim = 64;
    const corpus = clustered(3000, dim, 8, 0.01, 3, 4);
    for (let r = 1000; r < 1500; r++) corpus.copyWithin(r * dim, (r - 1000) * dim, (r - 999) * dim); // exact duplicates
    corpus.fill(0, 2000 * dim, 2010 * dim); // zero vectors score 0
    const queries = corpus.slice(0, 40 * dim);
    await check({ queries, corpus, dim, dims: Int32Array.from([64, 32, 16]), k: 20 });
  });

  it('near ties below bf16 resolution: the bound cannot separate them, the queries are rescored in fp32, still identical', async () => {
    const dim = 32;
    const { v, corpus } = crowded(2000, dim, 5, 6);
    const [hw, portable] = await check({ queries: v.slice(), corpus, dim, dims: Int32Array.from([32, 16]), k: 10 });
    expect(portable.fallbackQueries).toBe(1);
    expect(hw.fallbackQueries).toBe(1);
  });

  it('adversarial: exact cosines spread across twice the error bound around the k-th score', async () => {
    const dim = 64;
    const q = normalish(dim, 7);
    const norm = Math.hypot(...q);
    const qn = q.map((x) => x / norm);
    const corpus = new Float32Array(3000 * dim);
    const rnd = seededRandom(8);
    for (let r = 0; r < 3000; r++) {
      // c = cos * q^ + sin * (a random direction made orthogonal to q^)
      const o = normalish(dim, 100 + r);
      const dot = o.reduce((s, x, j) => s + x * qn[j], 0);
      for (let j = 0; j < dim; j++) o[j] -= dot * qn[j];
      const on = Math.hypot(...o);
      const cos = 0.5 + 0.01 * (rnd() - 0.5) * (r < 300 ? 1 : 40);
      const sin = Math.sqrt(1 - cos * cos);
      for (let j = 0; j < dim; j++) corpus[r * dim + j] = cos * qn[j] + (sin * o[j]) / on;
    }
    const stats = await check({ queries: qn, corpus, dim, dims: Int32Array.from([64]), k: 100 });
    for (const s of stats) expect(s.needed).toBeGreaterThan(100);
  });

  it('the error bound holds on every pair, with a margin the check reports (the stress run is bench/bound.js)', async () => {
    const dim = 96;
    for (const corpus of [normalish(2000 * dim, 32), clustered(2000, dim, 4, 0.05, 30, 31)])
      for (const precision of ['bf16', 'bf16-portable'] as const) {
        const req = {
          queries: corpus.slice(0, 50 * dim),
          corpus,
          dim,
          dims: Int32Array.from([96, 64, 2]),
          k: 1,
          threads: 2,
          device: 'cpu' as const,
          precision,
        };
        const check = await addon!.checkBf16Bound(req);
        expect(check.pairs).toBe(50 * 2000 * 3);
        expect(check.violations).toBe(0);
        expect(check.maxError).toBeGreaterThan(0); // bf16 rounding shows
        expect(check.maxRatio).toBeGreaterThan(0.05);
        expect(check.maxRatio).toBeLessThanOrEqual(1);
      }
    expect(() =>
      addon!.checkBf16Bound({ queries: normalish(dim, 1), corpus: normalish(dim, 2), dim, dims: Int32Array.from([0]), k: 1, threads: 2, device: 'cpu' }),
    ).toThrow(/outside/);
  });

  it('odd dims (no bf16 pairs: the portable first stage) and a tiny prefix (fp32, with the reason)', async () => {
    const dim = 48;
    await check({ queries: normalish(30 * dim, 9), corpus: normalish(2000 * dim, 10), dim, dims: Int32Array.from([47, 24]), k: 10 });
    const corpus = normalish(2000 * dim, 11);
    for (let j = 0; j < dim; j++) corpus[5 * dim + j] = 1e-20;
    const base = { queries: normalish(4 * dim, 12), corpus, dim, dims: Int32Array.from([48]), k: 10, device: 'cpu' as const, threads: 2 };
    const two = await addon!.score({ ...base, precision: 'bf16', bf16MaxCandidateFraction: 1 });
    expect(two.stats!.fallback).toMatch(/tiny/);
    expectSame(await addon!.score({ ...base, precision: 'fp32' }), two);
    const small = await addon!.score({ ...base, corpus: normalish(100 * dim, 13), precision: 'bf16' });
    expect(small.stats!.fallback).toMatch(/exceed 5\.0+% of the corpus/);
  });

  it('auto: bf16 from 500 queries and 1e7 pairs when the first stage keeps at most 1/400 of the corpus (1/250 from 1,000 queries); bad precision options are refused', async () => {
    const dim = 16;
    const hw = addon!.info().bf16Kernel !== null;
    const base = { queries: normalish(4 * dim, 14), corpus: normalish(5000 * dim, 15), dim, dims: Int32Array.from([16]), device: 'cpu' as const, threads: 2 };
    const corpus = normalish(40000 * dim, 17);
    const bf16 = async (nq: number, k: number, nc = 40000) =>
      (await addon!.score({ ...base, queries: normalish(nq * dim, 16), corpus: corpus.subarray(0, nc * dim), k })).stats!.engine.endsWith('-bf16');
    expect(await bf16(500, 10)).toBe(hw); // 31 candidates: 1/1,290 of the corpus
    expect(await bf16(400, 10)).toBe(false); // fewer than 500 queries
    expect(await bf16(500, 10, 15000)).toBe(false); // 7.5e6 pairs
    expect(await bf16(500, 100)).toBe(false); // 166 candidates: 1/241 of the corpus
    expect(await bf16(1000, 64)).toBe(hw); // 112: 1/357, from 1,000 queries
    expect(await bf16(999, 64)).toBe(false);
    expect(() => addon!.score({ ...base, k: 10, precision: 'fp16' as never })).toThrow(/precision must be/);
    expect(() => addon!.score({ ...base, k: 10, bf16MaxCandidateFraction: 0 })).toThrow(/bf16MaxCandidateFraction/);
  });

  it('auto at k 10: bf16 where this CPU has the kernel, after a pilot of 128 queries; fp32 for the rest when the pilot cannot be certified', async () => {
    const dim = 32;
    const hw = addon!.info().bf16Kernel !== null;
    const run = async (queries: Float32Array, corpus: Float32Array) => {
      const base = { queries, corpus, dim, dims: Int32Array.from([32, 16]), k: 10, device: 'cpu' as const, threads: 2 };
      const auto = await addon!.score(base);
      expectSame(await addon!.score({ ...base, precision: 'fp32' }), auto);
      return auto.stats!;
    };
    // 500 x 40,000: a product large enough for auto to take bf16
    const random = await run(normalish(500 * dim, 42), normalish(40000 * dim, 43));
    expect(random.engine.endsWith('-bf16')).toBe(hw);
    expect(random.fallback).toBeNull();
    if (hw) expect(random.pairs).toBe(500 * 2);
    // every score within bf16's resolution of the others: the pilot fails, fp32 answers the rest
    const { corpus } = crowded(40000, dim, 44, 45);
    const stats = await run(corpus.slice(0, 500 * dim), corpus);
    expect(stats.engine).not.toMatch(/bf16/);
    if (hw) expect(stats.fallback).toMatch(/could not certify \d+ of the first 128 queries/);
    else expect(stats.fallback).toBeNull();
  });

  it.skipIf(!existsSync(shared('golden', 'random-768')))('shared goldens: identical on random-768 and edge-32 at k 100 and 10', async () => {
    for (const [name, dims] of [
      ['random-768', [768, 512, 256, 128, 64]],
      ['edge-32', [32, 16, 8]],
    ] as const) {
      const q = readNpy(shared('golden', name, 'query_embeddings.npy'));
      const c = readNpy(shared('golden', name, 'corpus_embeddings.npy'));
      for (const k of [100, 10]) await check({ queries: q.data, corpus: c.data, dim: c.cols, dims: Int32Array.from(dims), k });
    }
  });
});
