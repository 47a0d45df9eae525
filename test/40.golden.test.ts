// sentence-transformers' own numbers (shared/golden): the library call and `emb-bench score`.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBeir } from '../lib/data/beir.js';
import { readNpy } from '../lib/data/npy.js';
import { evaluateEmbeddings } from '../lib/evaluate.js';
import { cli, HAS_SHARED, shared } from './helpers/shared.js';

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
