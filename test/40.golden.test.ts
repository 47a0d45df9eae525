// sentence-transformers' own numbers (shared/golden): the library call and `emb-bench score`.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBeir } from '../lib/data/beir.js';
import { readNpy } from '../lib/data/npy.js';
import { evaluateEmbeddings } from '../lib/evaluate.js';
import { cli, HAS_SHARED, ROOT, shared } from './helpers/shared.js';

const cases = ['random-768', 'edge-32'];

function expected(name: string): { dims: number[]; metrics: Record<string, number> } {
  return JSON.parse(readFileSync(shared('golden', name, 'expected.json'), 'utf8'));
}

function expectMetrics(got: Record<string, number>, want: Record<string, number>) {
  for (const [key, value] of Object.entries(want)) {
    expect(got[key], key).toBeDefined();
    expect(Math.abs(got[key] - value), key).toBeLessThanOrEqual(1e-6);
  }
}

describe.skipIf(!HAS_SHARED)('golden metrics from sentence-transformers (shared/golden)', () => {
  it.each(cases)('%s: the library reproduces every key to 1e-6', async (name) => {
    const dir = shared('golden', name);
    const want = expected(name);
    const result = await evaluateEmbeddings(loadBeir(dir), readNpy(join(dir, 'query_embeddings.npy')), readNpy(join(dir, 'corpus_embeddings.npy')), {
      dims: want.dims,
    });
    expect(Object.keys(result.metrics).length).toBe(Object.keys(want.metrics).length);
    expectMetrics(result.metrics, want.metrics);
  });

  it.each([
    ['random-768', {}],
    ['edge-32', {}],
    ['random-768', { EMB_BENCH_KERNEL: 'generic' }],
    ['edge-32', { EMB_BENCH_NATIVE: '0' }],
  ])('%s: `emb-bench score` writes results.json with every key to 1e-6 (env %j)', async (name, env) => {
    const dir = shared('golden', name);
    const want = expected(name);
    const out = mkdtempSync(join(tmpdir(), 'emb-score-'));
    const args = [
      'score',
      '--data',
      dir,
      '--query-embeddings',
      join(dir, 'query_embeddings.npy'),
      '--corpus-embeddings',
      join(dir, 'corpus_embeddings.npy'),
      '--dims',
      want.dims.join(','),
      '--out',
      out,
    ];
    const { code, stdout, stderr } = await cli(args, env as Record<string, string>);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/ndcg@10/);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expectMetrics(results.metrics, want.metrics);
    if ((env as Record<string, string>).EMB_BENCH_NATIVE === '0') expect(results.engine).toBe('typescript');
    if ((env as Record<string, string>).EMB_BENCH_KERNEL) expect(results.engine).toBe('cpu-generic');
    const perQuery = readFileSync(join(out, 'per_query.jsonl'), 'utf8').trim().split('\n');
    expect(perQuery.length).toBe(results.dataset.scored_queries);
  });
});

describe('golden metrics in the repository (test/fixtures/st-golden, run on every clone)', () => {
  // sentence-transformers' InformationRetrievalEvaluator at the commit expected.json names, on
  // the fixture's embeddings (regenerate.sh says how): graded, zero and negative qrels, a
  // relevant id missing from the corpus, an unknown query, duplicated rows, an unjudged query.
  const dir = join(ROOT, 'test', 'fixtures', 'st-golden');
  const want = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
    meta: { dims: number[]; st: { commit: string } };
    metrics: Record<string, number>;
  };

  it('the library reproduces every key of the evaluator to 1e-6', async () => {
    const result = await evaluateEmbeddings(loadBeir(dir), readNpy(join(dir, 'query_embeddings.npy')), readNpy(join(dir, 'corpus_embeddings.npy')), {
      dims: want.meta.dims,
    });
    expect(Object.keys(result.metrics).sort()).toEqual(Object.keys(want.metrics).sort());
    expectMetrics(result.metrics, want.metrics);
    expect(result.counts.scoredQueries).toBe(39);
    expect(want.meta.st.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it.each<Record<string, string>>([{}, { EMB_BENCH_KERNEL: 'generic' }, { EMB_BENCH_NATIVE: '0' }])(
    '`emb-bench score` reproduces every key to 1e-6 (env %j)',
    async (env) => {
      const out = mkdtempSync(join(tmpdir(), 'emb-score-'));
      const q = join(dir, 'query_embeddings.npy');
      const c = join(dir, 'corpus_embeddings.npy');
      const r = await cli(['score', '--data', dir, '--query-embeddings', q, '--corpus-embeddings', c, '--dims', want.meta.dims.join(','), '--out', out], env);
      expect(r.code, r.stderr).toBe(0);
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
      expectMetrics(results.metrics, want.metrics);
      expect(results.engine).toMatch(env.EMB_BENCH_NATIVE ? /^typescript$/ : env.EMB_BENCH_KERNEL ? /^cpu-generic$/ : /^cpu-/);
    },
  );
});
