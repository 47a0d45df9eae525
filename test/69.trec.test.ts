// trec_eval's conventions (--conventions trec): the hand-checked case of shared/CONVENTIONS.md,
// and emb-bench's numbers against trec_eval 10.0 itself, built here from its C source
// (test/reference/trec_eval) and run on the TREC files emb-bench exports, on graded data with
// judged non-relevant and negative grades, a query without a relevant document, exact score ties
// and identical query/document ids.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Dataset, judgeQueries } from '../lib/data/dataset.js';
import { readNpy, writeNpy } from '../lib/data/npy.js';
import { rankingMetrics } from '../lib/evaluate.js';
import { DEFAULT_K_LISTS, type KLists, TREC_K_LISTS, metricKey, sortMetricNames } from '../lib/metrics/index.js';
import { trecRunFiles } from '../lib/report/retrieved.js';
import { runCompare } from '../lib/runs/index.js';
import { startDashboard } from '../ui/server.js';
import { cli, HAS_SHARED, ROOT, rng, shared } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { writeTinyModel } from './helpers/tiny-model.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'emb-trec-'));

/** trec_eval 10.0 built from test/reference/trec_eval with 15 printed decimals; null without a C compiler. */
function buildTrecEval(): string | null {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const dir = join(tmp(), 'trec_eval');
  cpSync(join(ROOT, 'test', 'reference', 'trec_eval'), dir, { recursive: true });
  for (const f of ['meas_print_final.c', 'meas_print_single.c']) writeFileSync(join(dir, f), readFileSync(join(dir, f), 'utf8').replaceAll('%6.4f', '%.15f'));
  const sources = readdirSync(dir).filter((f) => f.endsWith('.c'));
  execFileSync('cc', ['-O2', '-w', '-DVERSIONID="10.0"', '-I.', '-o', 'trec_eval', ...sources, '-lm'], { cwd: dir });
  return join(dir, 'trec_eval');
}
const HAS_CC = (() => {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** trec_eval's measures at MTEB's k values, and emb-bench's name for each. */
const CUTS = '1,3,5,10,20,100,1000';
const MEASURES = ['ndcg_cut', 'map_cut', 'recall', 'P', 'success'].flatMap((m) => ['-m', `${m}.${CUTS}`]).concat(['-m', 'recip_rank', '-m', 'num_q']);
const OURS: Record<string, string> = { ndcg_cut: 'ndcg_at', map_cut: 'map_at', recall: 'recall_at', P: 'precision_at', success: 'hit_rate_at' };
function ourName(measure: string): string | null {
  if (measure === 'recip_rank') return 'mrr_at_1000'; // no cut, and the lists hold 1000 documents
  const m = /^(ndcg_cut|map_cut|recall|P|success)_(\d+)$/.exec(measure);
  return m ? `${OURS[m[1]]}_${m[2]}` : null;
}

/** trec_eval -q on a run file: measure -> query id (or 'all') -> value. */
function trecEval(bin: string, qrels: string, run: string): Map<string, Map<string, number>> {
  const out = execFileSync(bin, ['-q', ...MEASURES, qrels, run], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const table = new Map<string, Map<string, number>>();
  for (const line of out.trim().split('\n')) {
    const [measure, qid, value] = line.trim().split(/\s+/);
    if (!table.has(measure)) table.set(measure, new Map());
    table.get(measure)!.set(qid, Number(value));
  }
  return table;
}

/** shared/CONVENTIONS.md's hand-checked case (k = 3), the lists in the order it gives them. */
function handCase(): { dataset: Dataset; top: Parameters<typeof rankingMetrics>[2] } {
  const judgments: Record<string, Record<string, number>> = {
    q1: { d1: 2, d3: 1, d4: 1, d5: 1, d6: 0 },
    q2: { d4: 1, d6: 0 },
    q3: { d6: 1, d1: 0, d2: -1 },
  };
  const lists: Record<string, Array<[string, number]>> = {
    q1: [
      ['d2', 0.9],
      ['d1', 0.85],
      ['d6', 0.7],
      ['d3', 0.6],
      ['d4', 0.5],
      ['d5', 0.4],
    ],
    q2: [
      ['d5', 0.9],
      ['d1', 0.8],
      ['d2', 0.7],
      ['d4', 0.7],
      ['d3', 0.2],
      ['d6', 0.1],
    ],
    q3: [
      ['d1', 0.9],
      ['d2', 0.8],
      ['d3', 0.7],
      ['d6', 0.6],
      ['d4', 0.5],
      ['d5', 0.4],
    ],
  };
  const docs = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'];
  const qids = Object.keys(judgments);
  const dataset: Dataset = {
    name: 'hand',
    source: 'CONVENTIONS.md',
    queries: { ids: qids, texts: qids.map(() => '') },
    corpus: { ids: docs, texts: docs.map(() => '') },
    qrels: new Map(
      qids.map((q) => [
        q,
        new Set(
          Object.entries(judgments[q])
            .filter(([, g]) => g > 0)
            .map(([d]) => d),
        ),
      ]),
    ),
    grades: new Map(qids.map((q) => [q, new Map(Object.entries(judgments[q]))])),
    warnings: [],
  };
  const top = {
    dims: [4],
    k: 6,
    nq: 3,
    indices: [Int32Array.from(qids.flatMap((q) => lists[q].map(([d]) => docs.indexOf(d))))],
    scores: [Float32Array.from(qids.flatMap((q) => lists[q].map(([, s]) => s)))],
    engine: 'test',
  };
  return { dataset, top };
}
const at3: KLists = { accuracy: [3], precisionRecall: [3], mrr: [3], ndcg: [3], map: [3] };

describe('trec_eval conventions', () => {
  it("the hand-checked case: trec's numbers from the table, and sentence-transformers' for the same lists", () => {
    const { dataset, top } = handCase();
    const trec = { ...at3, conventions: 'trec' as const };
    const r = rankingMetrics(dataset, judgeQueries(dataset, 'trec'), top, trec);
    const m = (name: string) => r.metrics[metricKey(4, name)];
    expect(r.queryIds).toEqual(['q1', 'q2', 'q3']);
    expect(m('ndcg_at_3')).toBeCloseTo(0.30101, 6);
    expect(m('map_at_3')).toBeCloseTo(0.152778, 6);
    expect(m('recall_at_3')).toBeCloseTo(0.416667, 6);
    expect(m('mrr_at_3')).toBeCloseTo(0.277778, 6);
    expect(m('precision_at_3')).toBeCloseTo(0.222222, 6);
    expect(m('hit_rate_at_3')).toBeCloseTo(0.666667, 6);
    // the ties of q2 (d2, d4 at 0.70) in trec_eval's order: document id descending, so d4 first
    expect(Array.from(r.top!.indices[0].subarray(6, 12)).map((i) => dataset.corpus.ids[i])).toEqual(['d5', 'd1', 'd4', 'd2', 'd3', 'd6']);
    // sentence-transformers' conventions keep the lists' order (here id ascending at q2's tie)
    const st = rankingMetrics(dataset, judgeQueries(dataset), top, at3);
    expect(st.metrics[metricKey(4, 'ndcg@3')]).toBeCloseTo(0.098694, 6);
    expect(st.metrics[metricKey(4, 'map@3')]).toBeCloseTo(0.055556, 6);
    expect(st.metrics[metricKey(4, 'recall@3')]).toBeCloseTo(0.083333, 6);
    expect(st.metrics[metricKey(4, 'mrr@3')]).toBeCloseTo(0.166667, 6);
    // the exported qrels carry the grades, negative ones included
    const files = trecRunFiles(dataset, { model: r });
    expect(files['qrels.txt']().trim().split('\n')).toContain('q3 0 d2 -1');
    expect(sortMetricNames(['hit_rate_at_3', 'ndcg@10', 'ndcg_at_10', 'ndcg_at_3', 'accuracy@1'])).toEqual([
      'accuracy@1',
      'ndcg@10',
      'ndcg_at_3',
      'ndcg_at_10',
      'hit_rate_at_3',
    ]);
    expect(DEFAULT_K_LISTS.conventions).toBeUndefined();
    expect(TREC_K_LISTS.ndcg).toEqual([1, 3, 5, 10, 20, 100, 1000]);
  });

  it.skipIf(!HAS_CC)('the hand-checked case through trec_eval 10.0 built from its source', () => {
    const bin = buildTrecEval()!;
    const { dataset, top } = handCase();
    const r = rankingMetrics(dataset, judgeQueries(dataset, 'trec'), top, { ...at3, conventions: 'trec' });
    const dir = tmp();
    for (const [name, text] of Object.entries(trecRunFiles(dataset, { model: r }))) writeFileSync(join(dir, name), text());
    const t = trecEval(bin, join(dir, 'qrels.txt'), join(dir, 'model.dim_4.run'));
    expect(t.get('ndcg_cut_3')!.get('all')).toBeCloseTo(0.30101, 6);
    expect(t.get('recip_rank')!.get('all')).toBeCloseTo(0.361111, 6);
    expect(t.get('P_3')!.get('all')).toBeCloseTo(r.metrics[metricKey(4, 'precision_at_3')], 12);
  });

  it.skipIf(!HAS_SHARED || !HAS_CC)(
    'graded cranfield with ties and identical ids: every measure equals trec_eval on the exported files, per query, to 1e-6',
    async () => {
      const bin = buildTrecEval()!;
      const dir = tmp();
      const data = join(dir, 'cranfield');
      mkdirSync(join(data, 'qrels'), { recursive: true });
      cpSync(shared('data', 'cranfield', 'corpus.jsonl'), join(data, 'corpus.jsonl'));
      cpSync(shared('data', 'cranfield', 'queries.jsonl'), join(data, 'queries.jsonl'));
      // grades 1-4 as the collection has them, and some rows made 0 (judged non-relevant) or -1
      // (unjudged); query 152's every row 0: judged, no relevant document
      const u = rng(7);
      const rows = readFileSync(shared('data', 'cranfield', 'qrels', 'test.tsv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1);
      const graded = rows.map((line) => {
        const [q, d, g] = line.split('\t');
        const x = u();
        return [q, d, q === '152' ? '0' : x < 0.1 ? '0' : x < 0.15 ? '-1' : g].join('\t');
      });
      writeFileSync(join(data, 'qrels', 'test.tsv'), ['query-id\tcorpus-id\tscore', ...graded].join('\n') + '\n');
      // exact score ties: every 5th document's embedding a copy of the one before it
      const corpus = readNpy(shared('golden', 'safetensors-cranfield', 'minibert-bert-safetensors', 'corpus_embeddings.npy'));
      for (let r = 5; r < corpus.rows; r += 5) corpus.data.copyWithin(r * corpus.cols, (r - 1) * corpus.cols, r * corpus.cols);
      writeNpy(join(dir, 'corpus.npy'), corpus);
      const queries = shared('golden', 'safetensors-cranfield', 'minibert-bert-safetensors', 'query_embeddings.npy');

      const results: Record<string, Record<string, number>> = {};
      for (const identical of [false, true]) {
        const out = join(dir, `out-${identical}`);
        const trec = join(dir, `trec-${identical}`);
        const args = ['score', '--data', data, '--query-embeddings', queries, '--corpus-embeddings', join(dir, 'corpus.npy')];
        args.push('--dims', '128,32', '--conventions', 'trec', '--trec-run', trec, '--out', out);
        const r = await cli(identical ? [...args, '--ignore-identical-ids'] : args);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
        results[String(identical)] = json.metrics;
        expect(json.k_lists.conventions).toBe('trec');
        const perQuery = new Map(
          readFileSync(join(out, 'per_query.jsonl'), 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l))
            .map((row) => [row.query_id, row]),
        );
        expect(perQuery.get('152')!.model[metricKey(128, 'ndcg_at_10')]).toBe(0);
        // exact ties inside the top 10 (where their order changes nDCG@10), written in trec_eval's order
        const run = readFileSync(join(trec, 'model.dim_128.run'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => l.split(' '));
        const tiesAtTop = run.filter((f, i) => i > 0 && Number(f[3]) <= 10 && run[i - 1][0] === f[0] && run[i - 1][4] === f[4]);
        expect(tiesAtTop.length).toBeGreaterThan(0);
        for (const f of tiesAtTop) expect(Buffer.compare(Buffer.from(run[run.indexOf(f) - 1][2]), Buffer.from(f[2]))).toBe(1);
        let compared = 0;
        for (const dim of [128, 32]) {
          const t = trecEval(bin, join(trec, 'qrels.txt'), join(trec, `model.dim_${dim}.run`));
          expect(t.get('num_q')!.get('all')).toBe(json.dataset.scored_queries);
          for (const [measure, byQuery] of t) {
            const name = ourName(measure);
            if (!name) continue;
            const key = metricKey(dim, name);
            expect(Math.abs(json.metrics[key] - byQuery.get('all')!), `${key} mean`).toBeLessThan(1e-6);
            for (const [qid, value] of byQuery) {
              if (qid === 'all') continue;
              expect(Math.abs(perQuery.get(qid)!.model[key] - value), `${key} query ${qid}`).toBeLessThan(1e-6);
              compared++;
            }
          }
        }
        expect(compared).toBe(2 * 36 * 75);
      }
      // the identical ids were in the lists: leaving them out changes numbers
      expect(results.true[metricKey(128, 'ndcg_at_1000')]).not.toBe(results.false[metricKey(128, 'ndcg_at_1000')]);
      expect(existsSync(join(dir, 'trec-true', 'qrels.txt'))).toBe(true);
    },
    120_000,
  );

  it('compare under trec: MTEB-named metrics with tests, ndcg_at_10 as the headline, the report naming the conventions', async () => {
    const dir = tmp();
    const base = writeTinyModel(join(dir, 'base'), { pooling: 'mean', seed: 1 }).dir;
    const tuned = writeTinyModel(join(dir, 'tuned'), { pooling: 'mean', seed: 2 }).dir;
    const data = writeTinyBeir({ docs: 60, queries: 12, seed: 3 });
    const out = join(dir, 'out');
    const registry = join(dir, 'registry.db');
    const run = await runCompare({ base, tuned, data, dims: [8, 4], out, kLists: TREC_K_LISTS, registry, cacheDir: null });
    if (run.kind !== 'compare') throw new Error('a whole compare');
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    // the dashboard's models page shows MTEB's ndcg_at_10 where a run has no ndcg@10
    const dash = await startDashboard({ registry, port: 0 });
    try {
      const models = await (await fetch(dash.url)).text();
      expect(models.match(/<div class="muted">on emb-tinybeir-/g)).toHaveLength(2);
    } finally {
      await dash.close();
    }
    expect(Object.keys(json.base.metrics)).toContain('dim_8_cosine_ndcg_at_1000');
    expect(Object.keys(json.base.metrics).some((k) => k.includes('@'))).toBe(false);
    expect(json.differences['dim_4_cosine_map_at_100'].p_value).toBeGreaterThanOrEqual(0);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toContain('## ndcg_at_10 by dimension');
    expect(report).toContain("Metrics in trec_eval's conventions");
    // sentence-transformers' conventions (the default): no such line
    const st = await runCompare({ base, tuned, data, dims: [8, 4], out: join(dir, 'st'), registry: null, cacheDir: null });
    if (st.kind !== 'compare') throw new Error('a whole compare');
    expect(readFileSync(join(dir, 'st', 'report.md'), 'utf8')).not.toContain('trec_eval');
  });

  it("MTEB's result files in its results layout, with the fields its loader requires, and ranx's JSON run and qrels", async () => {
    const dir = tmp();
    const base = writeTinyModel(join(dir, 'base'), { pooling: 'mean', seed: 1 }).dir;
    const tuned = writeTinyModel(join(dir, 'tuned'), { pooling: 'mean', seed: 2 }).dir;
    const data = writeTinyBeir({ docs: 50, queries: 10, seed: 4 });
    const mteb = join(dir, 'mteb');
    const ranx = join(dir, 'ranx');
    const run = await runCompare({
      base,
      tuned,
      data,
      dims: [8, 4],
      out: join(dir, 'out'),
      kLists: TREC_K_LISTS,
      mtebResults: mteb,
      ranxRun: ranx,
      registry: null,
      cacheDir: null,
    });
    if (run.kind !== 'compare') throw new Error('a whole compare');
    const json = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8'));
    const width = json.base.model.width as number;
    expect(width).toBe(8);
    const task = run.dataset.name;
    for (const [role, name] of [
      ['base', 'base'],
      ['tuned', 'tuned'],
    ] as const) {
      const revision = `sha256-${json[role].model.sha256.slice(0, 12)}`;
      for (const [dim, folder] of [
        [8, name],
        [4, `${name}-dim4`],
      ] as const) {
        // the fields mteb's load_results and TaskResult.from_disk require
        const meta = JSON.parse(readFileSync(join(mteb, folder, revision, 'model_meta.json'), 'utf8'));
        expect([meta.name, meta.revision, meta.embed_dim]).toEqual([folder, revision, dim]);
        expect(meta.adapted_from).toBe(role === 'tuned' ? 'base' : null);
        const result = JSON.parse(readFileSync(join(mteb, folder, revision, `${task}.json`), 'utf8'));
        expect(typeof result.dataset_revision).toBe('string');
        expect(result.task_name).toBe(task);
        expect(result).toHaveProperty('mteb_version');
        expect(typeof result.evaluation_time).toBe('number');
        const [scores] = result.scores.test;
        expect(typeof scores.hf_subset).toBe('string');
        expect(Array.isArray(scores.languages)).toBe(true);
        expect(scores.main_score).toBe(json[role].metrics[metricKey(dim, 'ndcg_at_10')]);
        expect(scores.recall_at_1000).toBe(json[role].metrics[metricKey(dim, 'recall_at_1000')]);
        expect(Object.keys(scores)).toHaveLength(6 * 7 + 3);
      }
    }
    // ranx: the judgments as a dict of dicts, each run the scored lists with their scores
    const qrels = JSON.parse(readFileSync(join(ranx, 'qrels.json'), 'utf8'));
    expect(Object.keys(qrels).sort()).toEqual([...run.result.base.queryIds].sort());
    const ranxRun = JSON.parse(readFileSync(join(ranx, 'tuned.dim_4.json'), 'utf8'));
    const retrieved = JSON.parse(readFileSync(join(dir, 'out', 'retrieved.jsonl'), 'utf8').split('\n')[0]);
    const first = Object.entries(ranxRun[retrieved.query_id] as Record<string, number>).sort((a, b) => b[1] - a[1])[0];
    expect(first[0]).toBe(retrieved.tuned['4'][0][0]);
    expect(Object.keys(ranxRun[retrieved.query_id])).toHaveLength(50);
    // MTEB's files hold MTEB's numbers only
    const refused = await cli(['compare', base, tuned, '--data', data, '--out', join(dir, 'x'), '--mteb-results', join(dir, 'm2'), '--no-log']);
    expect([refused.code, refused.stderr.trim().split('\n').length]).toEqual([2, 1]);
    expect(refused.stderr).toMatch(/--mteb-results: .*--conventions trec/);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  it('usage: --ignore-identical-ids needs --conventions trec; an unknown convention is refused', async () => {
    const bad = await cli(['score', '--data', 'x', '--query-embeddings', 'q.npy', '--corpus-embeddings', 'c.npy', '--ignore-identical-ids']);
    expect([bad.code, bad.stderr.trim().split('\n').length]).toEqual([2, 1]);
    expect(bad.stderr).toMatch(/--ignore-identical-ids: only with --conventions trec/);
    const unknown = await cli(['score', '--data', 'x', '--query-embeddings', 'q.npy', '--corpus-embeddings', 'c.npy', '--conventions', 'ranx']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/st, trec/);
  });
});
