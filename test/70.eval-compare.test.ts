// End to end with the real models and data in ../shared: eval, compare, report and chart.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBeir } from '../lib/data/beir.js';
import { loadDataset } from '../lib/data/load.js';
import { evaluateModel } from '../lib/evaluate.js';
import { cli, HAS_SHARED, shared } from './helpers/shared.js';

const golden = () => JSON.parse(readFileSync(shared('golden', 'cranfield-glove.json'), 'utf8'));
const models = ['glove-6b-100d-mean', 'glove-6b-100d-mean-cranfield'];

describe.skipIf(!HAS_SHARED)('eval and compare on shared models and data', () => {
  const out = mkdtempSync(join(tmpdir(), 'emb-compare-'));
  const cache = mkdtempSync(join(tmpdir(), 'emb-cache-'));
  // biome-ignore lint/suspicious/noExplicitAny: results.json as parsed
  let compareResults: any;

  beforeAll(async () => {
    const g = golden();
    const r = await cli([
      'compare',
      shared('models', models[0]),
      shared('models', models[1]),
      '--data',
      shared('data', 'cranfield'),
      '--dims',
      g.dims.join(','),
      '--out',
      out,
      '--cache-dir',
      cache,
    ]);
    expect(r.code, r.stderr).toBe(0);
    compareResults = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  });

  it.each(models)('eval %s on cranfield test reproduces the golden index numbers', async (model) => {
    const g = golden();
    const want = g.models[model];
    const result = await evaluateModel(shared('models', model), loadBeir(shared('data', 'cranfield'), 'test'), { dims: g.dims, encoder: { cacheDir: null } });
    expect(result.model.width).toBe(100);
    const off = Object.keys(want.index).filter((k) => Math.abs(result.metrics[k] - want.index[k]) > 1e-6);
    // A float32 near-tie (scores 2 ulps apart) may swap one document of one query; such a swap
    // moves a mean by at most 1/75 of one query's value. Anything more is a real difference.
    expect(off.length, off.join(', ')).toBeLessThanOrEqual(1);
    for (const k of off) expect(Math.abs(result.metrics[k] - want.index[k])).toBeLessThan(1 / 75);
  });

  it("compare: each model's metrics equal what eval gives alone", async () => {
    for (const [label, model] of [
      ['base', models[0]],
      ['tuned', models[1]],
    ]) {
      const alone = await evaluateModel(shared('models', model), loadBeir(shared('data', 'cranfield'), 'test'), {
        dims: [100, 64, 32, 16],
        encoder: { cacheDir: null },
      });
      for (const [k, v] of Object.entries(alone.metrics)) expect(compareResults[label].metrics[k], k).toBeCloseTo(v, 12);
    }
  });

  it('compare: the fine-tuned model is better on cranfield test, significantly at dim 100', () => {
    const g = golden();
    for (const dim of g.dims) {
      const key = `dim_${dim}_cosine_ndcg@10`;
      expect(compareResults.tuned.metrics[key]).toBeGreaterThan(compareResults.base.metrics[key]);
      expect(g.models[models[1]].index[key]).toBeGreaterThan(g.models[models[0]].index[key]);
      const d = compareResults.differences[key];
      expect(d.ci_low).toBeLessThanOrEqual(d.diff);
      expect(d.ci_high).toBeGreaterThanOrEqual(d.diff);
    }
    expect(compareResults.differences['dim_100_cosine_ndcg@10'].significant).toBe(true);
    expect(compareResults.base.model.sha256).not.toBe(compareResults.tuned.model.sha256);
  });

  it('compare: report.md has the headline table and per_query.jsonl a line per query', () => {
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toMatch(/\| 100 \| 12\.3\d \| 18\.4\d \|/);
    expect(report).toMatch(/Queries that lost most at dim 16/);
    const lines = readFileSync(join(out, 'per_query.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(75);
    expect(Object.keys(JSON.parse(lines[0]))).toEqual(['query_id', 'base', 'tuned']);
  });

  it('compare: chart.png decodes at the expected size with text and both bar colours', async () => {
    const img = await loadImage(readFileSync(join(out, 'chart.png')));
    expect([img.width, img.height]).toEqual([1100, 90 + 96 * 4 + 70]);
    const canvas = createCanvas(img.width, img.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const px = ctx.getImageData(0, 0, img.width, img.height).data;
    const count = (x0: number, y0: number, x1: number, y1: number, test: (r: number, g: number, b: number) => boolean) => {
      let n = 0;
      for (let y = y0; y < y1; y++)
        for (let x = x0; x < x1; x++) {
          const i = (y * img.width + x) * 4;
          if (test(px[i], px[i + 1], px[i + 2])) n++;
        }
      return n;
    };
    const dark = (r: number, g: number, b: number) => r < 100 && g < 100 && b < 100;
    expect(count(0, 10, 500, 45, dark), 'title text').toBeGreaterThan(200);
    expect(count(40, 100, 100, 160, dark), 'dim label').toBeGreaterThan(20);
    expect(
      count(110, 100, 300, 130, (r, _g, b) => b > 150 && r < 60),
      'blue bar',
    ).toBeGreaterThan(1000);
    expect(
      count(110, 136, 300, 166, (r, g, _b) => r > 180 && g < 60),
      'red bar',
    ).toBeGreaterThan(1000);
    expect(
      count(760, 100, 1000, 160, (r, g, _b) => g > 100 && r < 60),
      'difference text',
    ).toBeGreaterThan(20);
  });

  it('eval twice on the same model and data: the second run does no inference', async () => {
    const r1 = await cli([
      'eval',
      shared('models', models[0]),
      '--data',
      shared('data', 'cranfield'),
      '--out',
      join(out, 'e1'),
      '--cache-dir',
      join(cache, 'e'),
      '--json',
    ]);
    const r2 = await cli([
      'eval',
      shared('models', models[0]),
      '--data',
      shared('data', 'cranfield'),
      '--out',
      join(out, 'e2'),
      '--cache-dir',
      join(cache, 'e'),
      '--json',
    ]);
    expect(r1.code, r1.stderr).toBe(0);
    const [a, b] = [JSON.parse(r1.stdout), JSON.parse(r2.stdout)];
    // The corpus and the queries that get scored (those with a relevant document), nothing else.
    expect(a.dataset.scored_queries).toBeLessThan(a.dataset.queries);
    expect(a.inferred_texts).toBe(a.dataset.corpus + a.dataset.scored_queries);
    expect(b.inferred_texts).toBe(0);
    expect(b.metrics).toEqual(a.metrics);
  });

  it("compare on ZenML's test_dataset.json: pairs by id, self-matches kept", async () => {
    const path = shared('data', 'zenml-docs-qa', 'test_dataset.json');
    const ds = await loadDataset(path);
    expect(ds.queries.ids.length).toBe(166);
    expect(ds.corpus.ids).toEqual(ds.queries.ids);
    const dir = mkdtempSync(join(tmpdir(), 'emb-zenml-'));
    const r = await cli([
      'compare',
      shared('models', models[0]),
      shared('models', models[1]),
      '--data',
      path,
      '--dims',
      '100,64,32,16',
      '--out',
      dir,
      '--no-cache',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    const alone = await evaluateModel(shared('models', models[1]), ds, { dims: [100, 64, 32, 16], encoder: { cacheDir: null } });
    expect(res.tuned.metrics).toEqual(alone.metrics);
    expect(res.dataset.scored_queries).toBe(166);
  });

  it('compare refuses dims wider than a model before encoding', async () => {
    const r = await cli([
      'compare',
      shared('models', models[0]),
      shared('models', models[1]),
      '--data',
      shared('data', 'cranfield'),
      '--dims',
      '128,64',
      '--out',
      join(out, 'x'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--dims: 128 is larger than the model glove-6b-100d-mean width 100/);
  });
});
