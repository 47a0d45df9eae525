// What each query retrieved: retrieved.jsonl agrees with the per-query metrics it explains, the
// TREC run files hold every scored document in rank order with the qrels beside them, and the
// dashboard's per-query page shows a query's documents beside its relevant ones.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTrecIds } from '../lib/report/retrieved.js';
import { runCompare, runEval } from '../lib/runs/index.js';
import { startDashboard } from '../ui/server.js';
import { cli } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { writeTinyModel } from './helpers/tiny-model.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'emb-retrieved-'));
const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n');

describe('retrieved.jsonl and TREC run files', () => {
  it("each query's top documents explain its per-query recall@10 and MRR@10; the run files rank every scored document", async () => {
    const dir = tmp();
    const base = writeTinyModel(join(dir, 'base'), { pooling: 'mean', seed: 1 }).dir;
    const tuned = writeTinyModel(join(dir, 'tuned'), { pooling: 'mean', seed: 2 }).dir;
    const data = writeTinyBeir({ docs: 80, queries: 25, seed: 5 });
    const out = join(dir, 'out');
    const trec = join(dir, 'trec');
    const registry = join(dir, 'registry.db');
    const run = await runCompare({ base, tuned, data, dims: [8, 4], out, trecRun: trec, registry, cacheDir: null });
    if (run.kind !== 'compare') throw new Error('a whole compare');
    const perQuery = lines(join(out, 'per_query.jsonl')).map((l) => JSON.parse(l));
    const retrieved = lines(join(out, 'retrieved.jsonl')).map((l) => JSON.parse(l));
    expect(retrieved.map((r) => r.query_id)).toEqual(perQuery.map((r) => r.query_id));
    for (const [q, row] of retrieved.entries()) {
      const relevant = new Set<string>(row.relevant);
      for (const label of ['base', 'tuned'])
        for (const dim of [8, 4]) {
          const list: Array<[string, number]> = row[label][String(dim)];
          expect(list).toHaveLength(10);
          for (let j = 1; j < list.length; j++) expect(list[j][1]).toBeLessThanOrEqual(list[j - 1][1]);
          const hits = list.filter(([doc]) => relevant.has(doc)).length;
          expect(hits / relevant.size).toBeCloseTo(perQuery[q][label][`dim_${dim}_cosine_recall@10`], 12);
          const first = list.findIndex(([doc]) => relevant.has(doc));
          expect(first < 0 ? 0 : 1 / (first + 1)).toBeCloseTo(perQuery[q][label][`dim_${dim}_cosine_mrr@10`], 12);
        }
    }
    // TREC: one file per model and dim, the whole scored top k (100 here, the corpus is 80), ranks 1..n, and the qrels
    expect(readdirSync(trec).sort()).toEqual(['base.dim_4.run', 'base.dim_8.run', 'qrels.txt', 'tuned.dim_4.run', 'tuned.dim_8.run']);
    const runLines = lines(join(trec, 'tuned.dim_8.run')).map((l) => l.split(' '));
    expect(runLines).toHaveLength(perQuery.length * 80);
    const firstQuery = runLines.filter((f) => f[0] === perQuery[0].query_id);
    expect(firstQuery.map((f) => Number(f[3]))).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(firstQuery.slice(0, 10).map((f) => f[2])).toEqual(retrieved[0].tuned['8'].map(([doc]: [string]) => doc));
    expect(firstQuery[0].slice(1, 2).concat(firstQuery[0].slice(5))).toEqual(['Q0', 'emb-bench.tuned.dim_8']);
    const qrels = lines(join(trec, 'qrels.txt')).map((l) => l.split(' '));
    expect(qrels.length).toBe(retrieved.reduce((n, r) => n + r.relevant.length, 0));
    expect(new Set(qrels.map((f) => f[3]))).toEqual(new Set(['1']));
    expect(run.files).toContain(join(trec, 'qrels.txt'));
    // the dashboard: a query's retrieved documents beside its relevant ones
    const dash = await startDashboard({ registry, port: 0 });
    try {
      const q = retrieved.find((r) => r.tuned['8'].some(([doc]: [string]) => r.relevant.includes(doc)))!;
      const page = await (await fetch(`${dash.url}runs/${run.runId}/queries?dim=8&query=${encodeURIComponent(q.query_id)}`)).text();
      expect(page).toContain(`Query ${q.query_id}`);
      expect(page).toContain('tuned at dim 8');
      expect(page).toMatch(/class="better">✓ <code>/);
    } finally {
      await dash.close();
    }
  });

  it('--retrieved-k picks how many (0: no file); eval writes them too; ids with whitespace cannot go to a TREC file', async () => {
    const dir = tmp();
    const model = writeTinyModel(join(dir, 'm'), { pooling: 'mean', seed: 1 }).dir;
    const data = writeTinyBeir({ docs: 30, queries: 6, seed: 2 });
    const three = await runEval({ model, data, dims: [8], out: join(dir, 'a'), retrievedK: 3, registry: null, cacheDir: null });
    expect(JSON.parse(lines(join(dir, 'a', 'retrieved.jsonl'))[0]).model['8']).toHaveLength(3);
    expect(three.files.map((f) => f.split('/').pop()).sort()).toEqual(['per_query.jsonl', 'results.json', 'retrieved.jsonl']);
    await runEval({ model, data, dims: [8], out: join(dir, 'b'), retrievedK: 0, registry: null, cacheDir: null });
    expect(existsSync(join(dir, 'b', 'retrieved.jsonl'))).toBe(false);
    const bad = await cli(['eval', model, '--data', data, '--out', join(dir, 'c'), '--retrieved-k', '-1', '--no-log']);
    expect([bad.code, bad.stderr.trim().split('\n').length]).toEqual([2, 1]);
    expect(() => checkTrecIds({ queries: { ids: ['q 1'], texts: [''] }, corpus: { ids: [], texts: [] } } as never)).toThrow(/"q 1" has whitespace/);
  });
});
