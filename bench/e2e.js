// End to end: `compare` of two models at five dims beside the same work done the
// sentence-transformers way (one evaluator per dim, each re-encoding queries and corpus), and
// the cached second run beside the first.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare } from '../dist/lib/compare.js';
import { loadBeir } from '../dist/lib/data/beir.js';
import { writeDemo } from '../dist/lib/demo/data.js';
import { MINILM_L6_H384, writeBertModel } from './models.js';
import { evaluateModel } from '../dist/lib/evaluate.js';
import { machine } from './score.js';
import { benchVocab } from './texts.js';

const MODELS = join(new URL('.', import.meta.url).pathname, 'models');
const CRANFIELD = join(new URL('..', import.meta.url).pathname, '..', 'shared', 'data', 'cranfield');
const DIMS = [384, 256, 128, 64, 32];

const time = async (fn) => {
  const t0 = performance.now();
  const value = await fn();
  return [(performance.now() - t0) / 1000, value];
};

export async function e2eBench() {
  const dataset = existsSync(CRANFIELD) ? loadBeir(CRANFIELD, 'test') : loadBeir(writeDemo(mkdtempSync(join(tmpdir(), 'emb-e2e-'))).data);
  const models = ['e2e-base', 'e2e-tuned'].map((name, i) => {
    const dir = join(MODELS, name);
    if (!existsSync(join(dir, 'onnx', 'model.onnx')))
      writeBertModel(dir, MINILM_L6_H384, benchVocab(dataset.corpus.texts), { seed: 1 + i * 1000, maxSeqLength: 128 });
    return dir;
  });
  const quiet = {};
  const [ours] = await time(() => compare(models[0], models[1], dataset, { dims: DIMS, encoder: { ...quiet, cacheDir: null } }));
  const [stWay] = await time(async () => {
    for (const model of models) for (const dim of DIMS) await evaluateModel(model, dataset, { dims: [dim], encoder: { ...quiet, cacheDir: null } });
  });
  const cacheDir = mkdtempSync(join(tmpdir(), 'emb-e2e-cache-'));
  const [first] = await time(() => compare(models[0], models[1], dataset, { dims: DIMS, encoder: { ...quiet, cacheDir } }));
  const [second] = await time(() => compare(models[0], models[1], dataset, { dims: DIMS, encoder: { ...quiet, cacheDir } }));
  rmSync(cacheDir, { recursive: true, force: true });
  const result = {
    benchmark: 'e2e',
    date: new Date().toISOString(),
    machine: machine(),
    sizes: {
      dataset: dataset.name,
      documents: dataset.corpus.ids.length,
      queries: dataset.queries.ids.length,
      models: 'MiniLM-L6-H384 shape, random weights, max_seq_length 128',
      dims: DIMS,
    },
    emb_bench_compare_s: ours,
    sentence_transformers_way_s: stWay,
    speedup: stWay / ours,
    cached_first_s: first,
    cached_second_s: second,
    cached_speedup: first / second,
  };
  console.log(
    `compare 2 models x ${DIMS.length} dims on ${dataset.name} (${result.sizes.documents} docs): emb-bench ${ours.toFixed(1)} s | sentence-transformers way (re-encode per dim) ${stWay.toFixed(1)} s -> ${result.speedup.toFixed(2)}x | cached rerun ${second.toFixed(2)} s vs first ${first.toFixed(1)} s -> ${result.cached_speedup.toFixed(1)}x`,
  );
  return result;
}
