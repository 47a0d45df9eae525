// Quantized retrieval (int8, uint8, binary, ubinary at every dim, with and without rescoring)
// against sentence-transformers' quantization utilities at cad2119 scored by its evaluator's
// metric code (test/fixtures/quantized/make_expected.py), and the first-stage kernels against
// each other and the TypeScript reference.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeDemo } from '../lib/demo/data.js';
import { resultsSchemaErrors } from './helpers/results-schema.js';
import { startDashboard } from '../ui/server.js';
import { loadBeir } from '../lib/data/beir.js';
import type { Matrix } from '../lib/data/matrix.js';
import { readNpy } from '../lib/data/npy.js';
import { evaluateEmbeddings } from '../lib/evaluate.js';
import { DEFAULT_K_LISTS, metricKey, metricNames, qualifiedName } from '../lib/metrics/index.js';
import { loadNative } from '../lib/score/native.js';
import { quantize, quantizeRows, scoreQuantizedReference, scoreQuantizedRows } from '../lib/score/quantized.js';
import { seededRandom } from '../lib/random.js';
import { cli, HAS_SHARED, ROOT, shared } from './helpers/shared.js';

interface Config {
  dataset: string;
  variant: 'plain' | 'constant' | 'calib50';
  dim: number;
  precision: string;
  rescore_multiplier: number;
  queries: number;
  ambiguous: string[];
  faiss_scores_exact: boolean;
  metrics: Record<string, number>;
}
const golden: { configs: Config[] } = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'quantized', 'expected.json'), 'utf8'));

const SOURCES: Record<string, { data: string[]; emb: string[] }> = {
  'random-768': { data: ['golden', 'random-768'], emb: ['golden', 'random-768'] },
  'edge-32': { data: ['golden', 'edge-32'], emb: ['golden', 'edge-32'] },
  'cranfield-minibert': { data: ['data', 'cranfield'], emb: ['golden', 'safetensors-cranfield', 'minibert-bert-safetensors'] },
};

const groups = [...new Set(golden.configs.map((c) => `${c.dataset}|${c.variant}|${c.rescore_multiplier}`))].map((g) => g.split('|'));

describe.skipIf(!HAS_SHARED)('quantized retrieval equals sentence-transformers + FAISS (shared/golden, test/fixtures/quantized)', () => {
  it.each(groups)('%s %s, rescore multiplier %s: every precision and dim to 1e-6', async (dataset, variant, mult) => {
    const src = SOURCES[dataset];
    const data = loadBeir(shared(...src.data), 'test');
    const queries = readNpy(join(shared(...src.emb), 'query_embeddings.npy'));
    const corpus = readNpy(join(shared(...src.emb), 'corpus_embeddings.npy'));
    if (variant === 'constant') for (let r = 0; r < corpus.rows; r++) corpus.data.fill(0.125, r * corpus.cols, r * corpus.cols + 4);
    const calibration: Matrix | undefined = variant === 'calib50' ? { data: corpus.data.slice(0, 50 * corpus.cols), rows: 50, cols: corpus.cols } : undefined;
    const configs = golden.configs.filter((c) => c.dataset === dataset && c.variant === variant && c.rescore_multiplier === Number(mult));
    const dims = [...new Set(configs.map((c) => c.dim))];
    const precisions = [...new Set(configs.map((c) => c.precision))] as Array<'int8' | 'uint8' | 'binary' | 'ubinary'>;
    const result = await evaluateEmbeddings(data, queries, corpus, {
      dims,
      quantization: { precisions: ['float32', ...precisions], rescoreMultiplier: Number(mult), calibration },
      stats: { samples: 50, permutations: 50 },
    });
    expect(result.quantization?.rescoreMultiplier).toBe(Number(mult));
    if (variant === 'calib50') {
      expect(result.quantization?.calibration).toEqual({ source: 'embeddings', rows: 50 });
      expect(result.quantization?.warnings.join(' ')).toMatch(/from 50 embeddings/);
    } else expect(result.quantization?.warnings.length).toBe(corpus.rows < 100 && precisions.some((p) => p.endsWith('int8')) ? 1 : 0);
    if (variant === 'constant') {
      // a zero range: min = max = 0.125 in the first 4 columns
      expect(Array.from(result.quantization!.ranges!.min.subarray(0, 4))).toEqual([0.125, 0.125, 0.125, 0.125]);
      expect(Array.from(result.quantization!.ranges!.max.subarray(0, 4))).toEqual([0.125, 0.125, 0.125, 0.125]);
    }
    let compared = 0;
    for (const c of configs) {
      expect(c.faiss_scores_exact).toBe(true);
      expect(result.queryIds.length).toBe(c.queries);
      const keep = result.queryIds.map((q, i) => [q, i] as const).filter(([q]) => !c.ambiguous.includes(q));
      for (const [name, want] of Object.entries(c.metrics)) {
        const key = metricKey(c.dim, qualifiedName(c.precision, name));
        const per = result.perQuery[key];
        expect(per, key).toBeDefined();
        const got = keep.reduce((s, [, i]) => s + per[i], 0) / keep.length;
        expect(Math.abs(got - want), `${key} (${keep.length} of ${c.queries} queries)`).toBeLessThanOrEqual(1e-6);
        if (c.ambiguous.length === 0) expect(Math.abs(result.metrics[key] - want), key).toBeLessThanOrEqual(1e-6);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(0);
  });

  it('reports sizes and tests against float32: every quantized key has a Difference whose base is float32 at its dim', async () => {
    const dir = shared('golden', 'edge-32');
    const result = await evaluateEmbeddings(loadBeir(dir, 'test'), readNpy(join(dir, 'query_embeddings.npy')), readNpy(join(dir, 'corpus_embeddings.npy')), {
      dims: [32, 8],
      quantization: { precisions: ['ubinary', 'int8'], rescoreMultiplier: 0 },
      stats: { samples: 100, permutations: 100 },
    });
    const versus = result.quantization!.versusFloat32;
    expect(Object.keys(versus).length).toBe(2 * 2 * metricNames(DEFAULT_K_LISTS).length);
    for (const [key, d] of Object.entries(versus)) {
      const f32 = key.replace(/_(int8|ubinary)_cosine_/, '_cosine_');
      expect(d.base, key).toBe(result.metrics[f32]);
      expect(d.tuned, key).toBe(result.metrics[key]);
      expect(d.pHolm).toBeGreaterThanOrEqual(d.pValue);
    }
  });
});

describe('the quantized first stage: every kernel and the TypeScript reference give the same lists', () => {
  const { addon } = loadNative();
  const kernels = addon ? addon.info().quantKernels : [];
  it.each(['hamming', 'int8', 'uint8'] as const)('%s, dims not multiples of 4 or 8, ties from repeated rows', async (kind) => {
    const rand = seededRandom(7);
    const width = 70;
    const rows = (n: number): Matrix => ({ data: Float32Array.from({ length: n * width }, () => rand() * 2 - 1), rows: n, cols: width });
    const q = rows(9);
    const c = rows(203);
    for (let r = 5; r < c.rows; r += 4) c.data.copyWithin(r * width, (r - 1) * width, r * width); // equal rows: equal scores
    const precision = kind === 'hamming' ? 'ubinary' : kind;
    const ranges = { min: new Float32Array(width).fill(-0.8), max: new Float32Array(width).fill(0.9) }; // values outside: clipped
    const qb = quantizeRows(q, precision, width, ranges);
    const cb = quantizeRows(c, precision, width, ranges);
    const dims = [70, 33, 9, 1];
    const want = scoreQuantizedReference(qb, cb, kind, width, dims, 25);
    expect(kernels.length).toBeGreaterThan(0);
    for (const kernel of kernels) {
      const got = await scoreQuantizedRows(qb, cb, kind, width, dims, 25, { kernel: kernel as 'generic' });
      expect(got.kernel.startsWith(kernel)).toBe(true);
      dims.forEach((d, o) => {
        expect(Array.from(got.indices[o]), `${kernel} dim ${d}`).toEqual(Array.from(want.indices[o]));
        expect(Array.from(got.scores[o]), `${kernel} dim ${d}`).toEqual(Array.from(want.scores[o]));
      });
    }
  });

  it('the native quantization gives the TypeScript bytes: random rows, values outside the ranges, zero ranges, widths not multiples of 8', async () => {
    const rand = seededRandom(3);
    const cols = 37;
    const m: Matrix = { data: Float32Array.from({ length: 501 * cols }, () => (rand() - 0.5) * 3), rows: 501, cols };
    for (let r = 0; r < m.rows; r += 7) m.data[r * cols + 5] = 0; // exact zeros: sign bit off
    const ranges = {
      min: Float32Array.from({ length: cols }, (_, j) => (j % 9 === 0 ? 0.25 : -1)),
      max: Float32Array.from({ length: cols }, (_, j) => (j % 9 === 0 ? 0.25 : 1.1)),
    };
    for (const precision of ['int8', 'uint8', 'binary', 'ubinary'] as const)
      for (const width of [37, 29, 8, 1])
        expect(
          Buffer.from(await quantize(m, precision, width, ranges, 2)).equals(Buffer.from(quantizeRows(m, precision, width, ranges))),
          `${precision} ${width}`,
        ).toBe(true);
  });

  it('the native boundary refuses bad arguments with a coded error, never a crash', async () => {
    if (!addon) return;
    const u8 = new Uint8Array(96);
    const ok = { queries: u8, corpus: u8, kind: 'hamming', dim: 768, dims: Int32Array.from([768]), k: 1, threads: 1 };
    const bad: Array<Record<string, unknown>> = [
      { ...ok, queries: new Float32Array(24) },
      { ...ok, kind: 'int4' },
      { ...ok, dim: 0 },
      { ...ok, dim: 100 }, // 96 bytes are not a whole number of 13-byte rows
      { ...ok, dims: Int32Array.from([769]) },
      { ...ok, dims: Int32Array.from([8, 8]) },
      { ...ok, dims: new Int32Array(0) },
      { ...ok, corpus: new Uint8Array(0) },
      { ...ok, k: 0 },
      { ...ok, kind: 'int8', dim: 40000, queries: new Uint8Array(40000), corpus: new Uint8Array(40000), dims: Int32Array.from([40000]) },
      { ...ok, kernel: 'avx1024' },
    ];
    for (const o of bad) {
      let code: string | undefined;
      try {
        await (addon.scoreQuantized as (o: unknown) => Promise<unknown>)(o);
      } catch (e) {
        code = (e as { code?: string }).code;
      }
      expect(code, JSON.stringify(Object.keys(o))).toBe('ERR_INVALID_ARG');
    }
    for (const o of [
      { x: new Float32Array(10), cols: 3, width: 3, kind: 'hamming', threads: 1 },
      { x: new Float32Array(9), cols: 3, width: 4, kind: 'hamming', threads: 1 },
      { x: new Float32Array(9), cols: 3, width: 3, kind: 'int8', threads: 1 },
    ]) {
      let code: string | undefined;
      try {
        await (addon.quantize as (o: unknown) => Promise<unknown>)(o);
      } catch (e) {
        code = (e as { code?: string }).code;
      }
      expect(code).toBe('ERR_INVALID_ARG');
    }
  });

  it('quantizes as quantize_embeddings at cad2119: floor, clip, a zero range read as a step of 1, packbits order', () => {
    const m: Matrix = { data: Float32Array.from([-1, 0.5, 2, 0.3, 0.25, 0.5, 0.7, -0.1, 0.2]), rows: 1, cols: 9 };
    const ranges = { min: Float32Array.from([0, 0, 0, 0.3, 0, 0, 0, 0, 0]), max: Float32Array.from([1, 1, 1, 0.3, 1, 1, 1, 1, 1]) };
    // (x - min) / step: -255 -> 0; 127.5 -> 127; 510 -> 255; zero range: (0.3 - 0.3) / 1 = 0; 63.75 -> 63
    expect(Array.from(quantizeRows(m, 'uint8', 9, ranges)).slice(0, 5)).toEqual([0, 127, 255, 0, 63]);
    expect(Array.from(new Int8Array(quantizeRows(m, 'int8', 9, ranges).buffer)).slice(0, 5)).toEqual([-128, -1, 127, -128, -65]);
    // signs 0 1 1 1 1 1 1 0 | 1 -> 0b01111110, 0b10000000
    expect(Array.from(quantizeRows(m, 'ubinary', 9))).toEqual([0x7e, 0x80]);
  });
});

describe('compare --precision: one report and one chart that answer which pair to deploy, for both models', () => {
  const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
  const demo = writeDemo(tmp('emb-quant-demo-'));
  const out = tmp('emb-quant-out-');
  const registry = join(tmp('emb-quant-reg-'), 'registry.db');
  let run: Awaited<ReturnType<typeof cli>>;

  beforeAll(async () => {
    run = await cli([
      'compare',
      demo.base,
      demo.tuned,
      '--data',
      demo.data,
      '--dims',
      '64,32,16',
      '--precision',
      'float32,int8,ubinary',
      '--rescore-multiplier',
      '4',
      '--out',
      out,
      '--no-cache',
      '--registry',
      registry,
    ]);
  }, 120_000);

  it('writes results.json (valid, both sides quantized), report.md with the deploy table, the scatter chart, per-query values of every pair', () => {
    expect(run.code, run.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(resultsSchemaErrors(json)).toEqual([]);
    for (const side of ['base', 'tuned']) {
      const q = json[side].quantization;
      expect(q.precisions).toEqual(['float32', 'int8', 'ubinary']);
      expect(q.rescore_multiplier).toBe(4);
      expect(q.ranges.min.length).toBe(64);
      expect(q.sizes).toContainEqual({ dim: 16, precision: 'ubinary', bytes_per_vector: 2, index_bytes: 2 * json.dataset.corpus });
      expect(Object.keys(q.versus_float32)).toContain('dim_16_int8_cosine_ndcg@10');
      expect(json[side].metrics['dim_64_cosine_ndcg@10']).toBeGreaterThan(0);
    }
    // base vs tuned at every (dim, precision), Holm across all 9 pairs of a metric
    const d = Object.entries(json.differences).filter(([k]) => k.endsWith('_cosine_ndcg@10')) as Array<[string, { p_value: number; p_holm: number }]>;
    expect(d.map(([k]) => k).sort()).toEqual(['64', '32', '16'].flatMap((dim) => ['', 'int8_', 'ubinary_'].map((p) => `dim_${dim}_${p}cosine_ndcg@10`)).sort());
    const ps = d.map(([, v]) => v.p_value);
    const sorted = [...ps].sort((a, b) => a - b);
    const smallest = d.find(([, v]) => v.p_value === sorted[0])![1];
    expect(smallest.p_holm).toBeCloseTo(Math.min(1, sorted[0] * 9), 12);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toMatch(/## Which dimension and precision to deploy/);
    expect(report).toMatch(/\| 16 \| ubinary \| 2 \|/);
    expect(report).toMatch(/Pareto front/);
    expect(readFileSync(join(out, 'chart.png')).subarray(1, 4).toString()).toBe('PNG');
    const line = JSON.parse(readFileSync(join(out, 'per_query.jsonl'), 'utf8').split('\n')[0]);
    expect(line.tuned['dim_32_ubinary_cosine_ndcg@10']).toBeTypeOf('number');
    // retrieved.jsonl: each pair's lists, which give its per-query accuracy@1
    const lines = readFileSync(join(out, 'retrieved.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const per = readFileSync(join(out, 'per_query.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    for (const [i, r] of lines.entries())
      for (const key of ['16_ubinary', '64_int8', '32']) {
        const list = r.tuned[key] as Array<[string, number]>;
        expect(list.length, key).toBe(10);
        const [dim, precision] = key.split('_');
        const k = precision ? `dim_${dim}_${precision}_cosine_accuracy@1` : `dim_${dim}_cosine_accuracy@1`;
        expect(per[i].tuned[k], `${r.query_id} ${k}`).toBe(r.relevant.includes(list[0][0]) ? 1 : 0);
      }
    expect(run.stdout).toMatch(/Pareto front/);
  });

  it('the registry keeps every pair: runs list --where on a quantized key', async () => {
    const runs = await cli(['--registry', registry, 'runs', 'list', '--where', 'tuned.dim_16_ubinary_cosine_ndcg@10>=0', '--json']);
    expect(runs.code, runs.stderr).toBe(0);
    expect(JSON.parse(runs.stdout).length).toBe(1);
    const none = await cli(['--registry', registry, 'runs', 'list', '--where', 'tuned.dim_16_ubinary_cosine_ndcg@10>1', '--json']);
    expect(JSON.parse(none.stdout).length).toBe(0);
  });

  it('the dashboard: the run page draws every pair against bytes per vector with each Pareto front', async () => {
    const runs = JSON.parse((await cli(['--registry', registry, 'runs', 'list', '--json'])).stdout) as Array<{ id: string }>;
    const dash = await startDashboard({ registry, port: 0 });
    try {
      const page = await (await fetch(new URL(`/runs/${runs[0].id}`, dash.url))).text();
      expect(page).toMatch(/<h2>Which dimension and precision to deploy<\/h2>/);
      const circles = page.match(/<circle [^>]*data-front="(yes|no)"/g) ?? [];
      expect(circles.length).toBe(2 * 3 * 3); // two models x three dims x three precisions
      expect(circles.some((c) => c.includes('data-front="yes"'))).toBe(true);
      expect(page).toMatch(/<td>ubinary<\/td><td class="num">2<\/td>/);
    } finally {
      await dash.close();
    }
  });

  it.each([
    [['--precision', 'float32,int9'], /precision: expected one of float32, int8, uint8, binary, ubinary, got "int9"/],
    [['--rescore-multiplier', '2'], /rescoreMultiplier: only with a quantized precision/],
    [['--precision', 'ubinary', '--calibration', 'x.txt'], /calibration: only int8 and uint8/],
    [['--precision', 'int8', '--calibration', '/no/such/file.npy'], /calibration file not found/],
    [['--precision', 'int8', '--shard', '1/2'], /precision: quantized precisions are not scored in shards/],
  ])('refuses %j before any work: one line, exit 2', async (flags, message) => {
    const r = await cli(['compare', demo.base, demo.tuned, '--data', demo.data, '--dims', '16', '--out', tmp('emb-quant-bad-'), '--no-log', ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n').length).toBe(1);
  });
});
