// Several datasets in one run: suite names, the grouped test of a mean over datasets, NanoBEIR's
// keys equal to sentence-transformers' NanoBEIREvaluator (test/fixtures/nanobeir/expected.json,
// computed by its own source), and the forgetting check: a domain set and NanoBEIR in one compare.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder } from '../lib/encode/encoder.js';
import { Registry, storedSuite } from '../lib/registry/index.js';
import { startDashboard } from '../ui/server.js';
import { writeNpy } from '../lib/data/npy.js';
import { expandData, NANOBEIR_DATASETS, runEvalSuite } from '../lib/runs/suite.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { writeTinyModel } from './helpers/tiny-model.js';
import { groupedMeanTest, holm, pairedBootstrapCI, pairedRandomizationTest } from '../lib/stats/index.js';
import { commitId, type FakeHub, startFakeHub } from './helpers/hub-server.js';
import { mtebRepoFiles, NANO_FIXTURE, nanoFixture, nanoRepoFiles } from './helpers/nanobeir.js';
import { cli, HAS_SHARED, ROOT, rng, shared } from './helpers/shared.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'emb-suite-'));

describe('suites', () => {
  it('suite names expand to NanoBEIR splits; unknown and repeated datasets are refused', () => {
    expect(expandData(['nanobeir'])).toHaveLength(13);
    expect(expandData(['./domain', 'nanobeir:SciFact, nfcorpus'])).toEqual([
      { path: './domain' },
      { path: 'hf://datasets/sentence-transformers/NanoBEIR-en', split: 'NanoSciFact' },
      { path: 'hf://datasets/sentence-transformers/NanoBEIR-en', split: 'NanoNFCorpus' },
    ]);
    expect(expandData(['nanobeir-de:nq'])).toEqual([{ path: 'hf://datasets/sentence-transformers/NanoBEIR-de', split: 'NanoNQ' }]);
    expect(() => expandData(['nanobeir:scifakt'])).toThrow(/"scifakt" is not a NanoBEIR dataset \(one of climatefever, /);
    expect(() => expandData(['nanobeir', 'nanobeir:nq'])).toThrow(/split NanoNQ is given twice/);
    expect(Object.keys(NANOBEIR_DATASETS)).toHaveLength(13);
  });

  it('two datasets of one name keep their own keys and folders; the mean is over both', async () => {
    const dir = tmp();
    const model = writeTinyModel(join(dir, 'm'), { pooling: 'mean', seed: 1 }).dir;
    const a = join(dir, 'a', 'same');
    const b = join(dir, 'b', 'same');
    cpSync(writeTinyBeir({ docs: 30, queries: 8, seed: 1 }), a, { recursive: true });
    cpSync(writeTinyBeir({ docs: 30, queries: 8, seed: 2 }), b, { recursive: true });
    const run = await runEvalSuite({ model, data: [{ path: a }, { path: b }], dims: [8], out: join(dir, 'out'), registry: null, cacheDir: null });
    expect(run.labels).toEqual(['same-1', 'same-2', 'mean']);
    const [x, y] = run.runs.map((r) => r.result.metrics['dim_8_cosine_ndcg@10']);
    expect(x).not.toBe(y);
    expect([run.metrics['same-1_8_cosine_ndcg@10'], run.metrics['same-2_8_cosine_ndcg@10']]).toEqual([x, y]);
    expect(run.metrics['mean_8_cosine_ndcg@10']).toBeCloseTo((x + y) / 2, 15);
    expect(run.datasets.map((d) => d.folder.split('/').pop())).toEqual(['same-1', 'same-2']);
    // the command line's --json prints suite.json
    const out = join(dir, 'cli');
    const trec = join(dir, 'trec');
    const r = await cli(['eval', model, '--data', a, '--data', b, '--dims', '8', '--out', out, '--trec-run', trec, '--json', '--no-log', '--no-cache']);
    expect(r.code, r.stderr).toBe(0);
    // each dataset's run files in a folder of its own (their names say the model and dim only)
    expect(readdirSync(trec).sort()).toEqual(['same-1', 'same-2']);
    expect(readFileSync(join(trec, 'same-1', 'model.dim_8.run'), 'utf8')).not.toEqual(readFileSync(join(trec, 'same-2', 'model.dim_8.run'), 'utf8'));
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(join(out, 'suite.json'), 'utf8')));
    expect(JSON.parse(r.stdout).metrics['same-2_8_cosine_ndcg@10']).toBe(y);
  });

  it("a mean over datasets: each dataset counts once; one dataset gives the plain paired tests' numbers", () => {
    const u = rng(3);
    const a = Float64Array.from({ length: 40 }, () => u() - 0.3);
    const b = Float64Array.from({ length: 400 }, () => u() - 0.6);
    const one = groupedMeanTest([a], { samples: 2000, permutations: 2000, seed: 5 });
    expect([one.ciLow, one.ciHigh]).toEqual(pairedBootstrapCI(a, { samples: 2000, seed: 5 }));
    expect(one.pValue).toBe(pairedRandomizationTest(a, { permutations: 2000, seed: 5 }));
    const two = groupedMeanTest([a, b], { samples: 2000, permutations: 2000, seed: 5 });
    const meanOf = (x: Float64Array) => x.reduce((s, v) => s + v, 0) / x.length;
    expect(two.diff).toBeCloseTo((meanOf(a) + meanOf(b)) / 2, 12);
    expect(two.diff).not.toBeCloseTo((meanOf(a) * 40 + meanOf(b) * 400) / 440, 3); // not the pooled mean
    expect(two.ciLow).toBeLessThan(two.diff);
    expect(two.ciHigh).toBeGreaterThan(two.diff);
  });

  describe.skipIf(!HAS_SHARED)('NanoBEIR-shaped data on the Hub-shaped server', () => {
    let hub: FakeHub;
    const sets = HAS_SHARED ? nanoFixture(shared('data')) : {};
    const base = shared('models', 'glove-6b-100d-mean');
    const tuned = shared('models', 'glove-6b-100d-mean-cranfield');
    const home = tmp();
    const env = () => ({ HF_ENDPOINT: hub.url, HF_HOME: home, HF_HUB_CACHE: join(home, 'hub'), HF_TOKEN: '', HF_HUB_OFFLINE: '' });
    const suiteArg = `nanobeir:${NANO_FIXTURE.map((f) => f.name).join(',')}`;

    beforeAll(async () => {
      hub = await startFakeHub();
      hub.repos.set('sentence-transformers/NanoBEIR-en', {
        type: 'dataset',
        commits: { [commitId('nanobeir')]: nanoRepoFiles(sets) },
        refs: { main: commitId('nanobeir') },
      });
      // a MTEB-shaped repo (corpus / queries / default configs, graded qrels) from the same rows
      hub.repos.set('mteb/scifact-mini', {
        type: 'dataset',
        commits: { [commitId('mteb')]: mtebRepoFiles(sets.NanoSciFact) },
        refs: { main: commitId('mteb') },
      });
      // EMB_BENCH_NANOBEIR_DUMP=DIR: write the rows and emb-bench's embeddings of their texts for
      // test/fixtures/nanobeir/make_expected.py (how expected.json is made)
      const dump = process.env.EMB_BENCH_NANOBEIR_DUMP;
      if (dump) {
        const encoder = await Encoder.load(base, { cacheDir: null });
        for (const [split, set] of Object.entries(sets)) {
          const dir = join(dump, split);
          mkdirSync(dir, { recursive: true });
          for (const config of ['corpus', 'queries', 'qrels'] as const)
            writeFileSync(join(dir, `${config}.jsonl`), set[config].map((r) => JSON.stringify(r)).join('\n') + '\n');
          const texts = [...new Set([...set.corpus, ...set.queries].map((r) => r.text).filter((t) => t.length > 0))];
          writeNpy(join(dir, 'embeddings.npy'), await encoder.encode(texts, { kind: 'document' }));
          writeFileSync(join(dir, 'texts.json'), JSON.stringify(texts));
        }
        await encoder.close();
        writeFileSync(join(dump, 'run.json'), JSON.stringify({ datasets: NANO_FIXTURE.map((f) => f.name), dims: [100, 64, 32] }));
      }
    });
    afterAll(() => hub?.close());

    it("eval over the suite: every per-dataset and NanoBEIR_mean key equals sentence-transformers' NanoBEIREvaluator to 1e-6", async () => {
      const expected = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'nanobeir', 'expected.json'), 'utf8'));
      const out = join(tmp(), 'out');
      const r = await cli(['eval', base, '--data', suiteArg, '--dims', '100,64,32', '--out', out, '--no-cache'], env());
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/NanoBEIR_mean/);
      const suite = JSON.parse(readFileSync(join(out, 'suite.json'), 'utf8'));
      expect(suite.datasets.map((d: { name: string }) => d.name)).toEqual(NANO_FIXTURE.map((f) => f.split));
      expect(suite.datasets[0].source).toBe(`hf://datasets/sentence-transformers/NanoBEIR-en@${commitId('nanobeir')}`);
      expect(Object.keys(suite.metrics).sort()).toEqual(Object.keys(expected.metrics).sort());
      for (const [key, value] of Object.entries(expected.metrics as Record<string, number>))
        expect(Math.abs(suite.metrics[key] - value), key).toBeLessThan(1e-6);
      // each dataset's own run: its folder, equal to the suite's keys
      const own = JSON.parse(readFileSync(join(out, 'NanoSciFact', 'results.json'), 'utf8'));
      expect(own.metrics['dim_64_cosine_ndcg@10']).toBe(suite.metrics['NanoSciFact_64_cosine_ndcg@10']);
      expect(own.dataset.scored_queries).toBe(30); // the empty query left out
      expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('| **NanoBEIR_mean** |');
    });

    it('the forgetting check: a domain set, a MTEB dataset and NanoBEIR in one compare, tests grouped by dataset, Holm across every test', async () => {
      const out = join(tmp(), 'out');
      const domain = shared('data', 'cranfield');
      const registry = join(tmp(), 'registry.db');
      const r = await cli(
        [
          '--registry',
          registry,
          'compare',
          base,
          tuned,
          '--data',
          domain,
          '--data',
          'hf://datasets/mteb/scifact-mini',
          '--data',
          suiteArg,
          '--dims',
          '100,32',
          '--out',
          out,
          '--no-cache',
        ],
        env(),
      );
      expect(r.code, r.stderr).toBe(0);
      const suite = JSON.parse(readFileSync(join(out, 'suite.json'), 'utf8'));
      expect(suite.datasets.map((d: { name: string }) => d.name)).toEqual(['cranfield', 'mteb/scifact-mini', ...NANO_FIXTURE.map((f) => f.split)]);
      expect(Object.keys(suite.differences)).toContain('mteb_scifact-mini_32_cosine_ndcg@10');
      // the per-dataset tests are each dataset's own compare; the means' are the grouped ones
      const own = JSON.parse(readFileSync(join(out, 'cranfield', 'results.json'), 'utf8'));
      const key = 'cranfield_32_cosine_ndcg@10';
      expect(suite.differences[key].diff).toBe(own.differences['dim_32_cosine_ndcg@10'].diff);
      expect(suite.differences[key].p_value).toBe(own.differences['dim_32_cosine_ndcg@10'].p_value);
      const nanoMean = (suite.tuned_metrics['NanoBEIR_mean_32_cosine_ndcg@10'] as number) - suite.base_metrics['NanoBEIR_mean_32_cosine_ndcg@10'];
      expect(suite.differences['NanoBEIR_mean_32_cosine_ndcg@10'].diff).toBeCloseTo(nanoMean, 12);
      expect(Object.keys(suite.differences)).toContain('mean_100_cosine_map@100');
      // Holm across the 5 datasets and 2 means at 2 dims: 14 tests of ndcg@10
      const ndcg = Object.entries(suite.differences as Record<string, { p_value: number; p_holm: number }>).filter(([k]) => k.endsWith('_cosine_ndcg@10'));
      expect(ndcg).toHaveLength(14);
      expect(ndcg.map(([, d]) => d.p_holm)).toEqual(holm(ndcg.map(([, d]) => d.p_value)));
      const report = readFileSync(join(out, 'report.md'), 'utf8');
      expect(report).toMatch(/## Where glove-6b-100d-mean-cranfield got worse/);
      expect(report).toContain('![chart](chart.png)');
      expect(readFileSync(join(out, 'chart.png')).subarray(1, 4).toString()).toBe('PNG');
      // the registry: each dataset's run tagged with the suite; the suite's numbers again from
      // the per-query values the runs stored, and its dashboard page
      const reg = await Registry.open(registry, { readonly: true });
      let newest: string;
      try {
        const stored = await storedSuite(reg, suite.suite_id, 'ndcg@10');
        expect(stored!.members.map((m) => m.name)).toEqual(suite.datasets.map((d: { name: string }) => d.name));
        expect(stored!.labels.slice(-2)).toEqual(['NanoBEIR_mean', 'mean']);
        for (const [k, d] of ndcg) {
          expect(stored!.differences[k].pHolm).toBe(d.p_holm);
          expect(stored!.differences[k].diff).toBeCloseTo(suite.differences[k].diff, 12);
          expect(stored!.values.tuned[k]).toBeCloseTo(suite.tuned_metrics[k], 12);
        }
        newest = (await reg.listRuns(1))[0].id;
      } finally {
        await reg.close();
      }
      const dash = await startDashboard({ registry, port: 0 });
      try {
        const page = await (await fetch(`${dash.url}suites/${suite.suite_id}`)).text();
        expect(page).toContain(`Suite <code>${suite.suite_id.slice(0, 8)}</code>: compare on 5 datasets`);
        expect(page).toContain('<strong>NanoBEIR_mean</strong>');
        expect(page).toContain('<svg');
        const runPage = await (await fetch(`${dash.url}runs/${newest}`)).text();
        expect(runPage).toContain(`/suites/${suite.suite_id}`);
      } finally {
        await dash.close();
      }
    });
  });
});
