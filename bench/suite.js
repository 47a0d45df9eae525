// A 13-set suite shaped as NanoBEIR (50 queries and 5,000 documents each, from shared/data/
// scifact's corpus) for two models at five dims: emb-bench's compare over the suite end to end
// (each model encoded once per dataset, every dim in one pass), the same again from the
// embedding cache, and the sentence-transformers way beside it: one evaluator per dataset and
// dim, each encoding its dataset again (NanoBEIREvaluator with truncate_dim, one per dim), here
// as one `eval` per model, dataset and dim without the cache. Models: shared/models' GloVe pair
// (100 dims), the one real base / fine-tuned pair the repository has.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineInfo } from '../dist/lib/score/index.js';
import { runCompareSuite, runEval } from '../dist/lib/runs/index.js';
import { seededRandom } from '../dist/lib/random.js';
import { machine } from './score.js';

const SHARED = join(new URL('..', import.meta.url).pathname, '..', 'shared');
const SETS = 13;
const DOCS = 5000;
const QUERIES = 50;
const DIMS = [100, 64, 32, 16, 8];

/** Set i: 5,000 of scifact's documents from a rotating offset, 50 queries (a document's first sentence) with that document relevant. */
function writeSet(dir, docs, i) {
  const u = seededRandom(100 + i);
  const start = Math.floor(u() * docs.length);
  const chosen = Array.from({ length: DOCS }, (_, j) => docs[(start + j) % docs.length]);
  mkdirSync(join(dir, 'qrels'), { recursive: true });
  writeFileSync(join(dir, 'corpus.jsonl'), chosen.map((d) => JSON.stringify({ _id: d._id, title: d.title ?? '', text: d.text })).join('\n') + '\n');
  const picks = Array.from({ length: QUERIES }, () => chosen[Math.floor(u() * chosen.length)]);
  writeFileSync(
    join(dir, 'queries.jsonl'),
    picks.map((d, q) => JSON.stringify({ _id: `q${q}`, text: d.text.split(/[.!?]/)[0].slice(0, 200) })).join('\n') + '\n',
  );
  writeFileSync(join(dir, 'qrels', 'test.tsv'), ['query-id\tcorpus-id\tscore', ...picks.map((d, q) => `q${q}\t${d._id}\t1`)].join('\n') + '\n');
}

export async function suiteBench() {
  const base = join(SHARED, 'models', 'glove-6b-100d-mean');
  const tuned = join(SHARED, 'models', 'glove-6b-100d-mean-cranfield');
  const scifact = join(SHARED, 'data', 'scifact', 'corpus.jsonl');
  if (!existsSync(base) || !existsSync(scifact)) {
    console.log('suite: skipped (needs ../shared: the GloVe models and scifact)');
    return { benchmark: 'suite', skipped: 'needs ../shared' };
  }
  const root = mkdtempSync(join(tmpdir(), 'emb-bench-suite-'));
  try {
    const docs = readFileSync(scifact, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const data = Array.from({ length: SETS }, (_, i) => {
      const dir = join(root, 'data', `Nano${i + 1}`);
      writeSet(dir, docs, i);
      return { path: dir };
    });
    const cacheDir = join(root, 'cache');
    const common = { base, tuned, data, dims: DIMS, registry: null, cacheDir };
    const t0 = performance.now();
    const first = await runCompareSuite({ ...common, out: join(root, 'first') });
    const firstS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    await runCompareSuite({ ...common, out: join(root, 'cached') });
    const cachedS = (performance.now() - t1) / 1000;
    // the sentence-transformers way: an evaluator per dataset and dim, each encoding again
    const t2 = performance.now();
    let passes = 0;
    for (const model of [base, tuned])
      for (const [i, spec] of data.entries())
        for (const dim of DIMS) {
          await runEval({ model, data: spec.path, dims: [dim], out: join(root, 'st', `${i}-${dim}`), registry: null, cacheDir: null, retrievedK: 0 });
          passes++;
        }
    const stWayS = (performance.now() - t2) / 1000;
    const result = {
      benchmark: 'suite',
      date: new Date().toISOString(),
      machine: machine(),
      kernel: engineInfo().kernel,
      sizes: {
        datasets: SETS,
        documents_each: DOCS,
        queries_each: QUERIES,
        texts_source: 'shared/data/scifact corpus',
        models: 'GloVe 6B 100d mean, base and cranfield-tuned',
        dims: DIMS,
      },
      model_passes: { emb_bench: SETS * 2, sentence_transformers_way: passes },
      emb_bench_first_s: firstS,
      emb_bench_cached_s: cachedS,
      sentence_transformers_way_s: stWayS,
      speedup_first: stWayS / firstS,
      speedup_cached: stWayS / cachedS,
      mean_ndcg10_at_100: { base: first.base['mean_100_cosine_ndcg@10'], tuned: first.tuned['mean_100_cosine_ndcg@10'] }, // local folders: the mean over every dataset
    };
    console.log(
      `${SETS} datasets x ${DOCS} documents x ${DIMS.length} dims, 2 models: emb-bench ${firstS.toFixed(1)} s (${SETS * 2} model passes), cached ${cachedS.toFixed(1)} s | one evaluator per dataset and dim ${stWayS.toFixed(1)} s (${passes} passes) -> ${result.speedup_first.toFixed(2)}x, cached ${result.speedup_cached.toFixed(1)}x (kernel ${result.kernel})`,
    );
    return result;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
