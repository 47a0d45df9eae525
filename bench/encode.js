// Encoding throughput: emb-bench's encoder (length-sorted, token-budget batches) beside
// @huggingface/transformers' feature-extraction pipeline (batches of 32 in input order) on the
// same ONNX file and thread count. Models: BERT architecture, random weights, made here.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { BERT_BASE_L12_H768, MINILM_L6_H384, writeBertModel } from './models.js';
import { Encoder } from '../dist/lib/encode/encoder.js';
import { machine } from './score.js';
import { benchTexts, benchVocab } from './texts.js';

const MODELS = join(new URL('.', import.meta.url).pathname, 'models');
const threads = cpus().length;

async function transformersJs() {
  try {
    return await import('@huggingface/transformers');
  } catch {
    return null;
  }
}

/** FLOPs of a BERT encoder per real token at sequence length `seq` (matmuls only: Q/K/V/O, feed-forward, attention). */
const flopsPerToken = (shape, seq) => 2 * shape.layers * (4 * shape.hidden * shape.hidden + 2 * shape.hidden * shape.intermediate + 2 * seq * shape.hidden);

/** This host's float32 matmul rate, GFLOP/s: numpy (OpenBLAS) on an encoder-shaped product, same threads. */
function sgemmRate() {
  try {
    const script =
      'import numpy as np, time\n' +
      'a = np.random.rand(4096, 768).astype(np.float32); b = np.random.rand(768, 3072).astype(np.float32); c = np.empty((4096, 3072), np.float32)\n' +
      'np.matmul(a, b, out=c)\nbest = 1e9\nfor _ in range(7):\n  t = time.perf_counter(); np.matmul(a, b, out=c); best = min(best, time.perf_counter() - t)\n' +
      'print(2 * 4096 * 768 * 3072 / best / 1e9)';
    return Number(execFileSync('python3', ['-c', script], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: String(threads) } }).trim());
  } catch {
    return null;
  }
}

async function ours(dir, texts) {
  const enc = await Encoder.load(dir, { cacheDir: null, threads });
  await enc.encode(texts.slice(0, 8), { kind: 'document' }); // warm-up
  const t0 = performance.now();
  const out = await enc.encode(texts, { kind: 'document' });
  const seconds = (performance.now() - t0) / 1000;
  await enc.close();
  return { seconds, out };
}

async function pipelineBaseline(tf, name, texts, batch = 32) {
  tf.env.localModelPath = MODELS;
  tf.env.allowRemoteModels = false;
  const extractor = await tf.pipeline('feature-extraction', name, { dtype: 'fp32', session_options: { intraOpNumThreads: threads } });
  await extractor(texts.slice(0, 8), { pooling: 'mean', normalize: true });
  const t0 = performance.now();
  const rows = [];
  for (let i = 0; i < texts.length; i += batch) {
    const t = await extractor(texts.slice(i, i + batch), { pooling: 'mean', normalize: true });
    rows.push(t.data);
  }
  return { seconds: (performance.now() - t0) / 1000, rows };
}

export async function encodeBench() {
  const tf = await transformersJs();
  if (!tf) console.log('  (baseline missing: `npm i --no-save @huggingface/transformers` to run it beside emb-bench)');
  const results = [];
  const sgemm = sgemmRate();
  console.log(`  numpy float32 matmul 4096x768 @ 768x3072, ${threads} threads: ${sgemm?.toFixed(1) ?? 'n/a'} GFLOP/s`);
  for (const [name, shape, n] of [
    ['minilm-l6-h384', MINILM_L6_H384, 1000],
    ['bert-base-l12-h768', BERT_BASE_L12_H768, 300],
  ]) {
    const { source, texts } = benchTexts(n);
    const dir = join(MODELS, name);
    if (!existsSync(join(dir, 'onnx', 'model.onnx'))) writeBertModel(dir, shape, benchVocab(benchTexts(5183).texts), { maxSeqLength: 256 });
    const enc = await Encoder.load(dir, { cacheDir: null });
    const tokenCount = (await Promise.all(texts.map(async (t) => (await enc.tokenize([t]))[0].ids.length))).reduce((a, b) => a + b, 0);
    await enc.close();
    const mine = await ours(dir, texts);
    const row = {
      model: name,
      texts: texts.length,
      tokens: tokenCount,
      source,
      threads,
      emb_bench_s: mine.seconds,
      emb_bench_texts_per_s: texts.length / mine.seconds,
      emb_bench_tokens_per_s: tokenCount / mine.seconds,
      // real tokens only (padding is work the encoder should avoid), at the mean length
      emb_bench_gflops: (tokenCount * flopsPerToken(shape, tokenCount / texts.length)) / mine.seconds / 1e9,
      sgemm_gflops: sgemm,
    };
    if (tf) {
      const base = await pipelineBaseline(tf, name, texts);
      // same vectors? (both mean-pool and normalise the same graph's output)
      let worst = 1;
      const width = mine.out.cols;
      base.rows.forEach((batchData, b) => {
        for (let r = 0; r < batchData.length / width; r++) {
          let dot = 0;
          const i = b * 32 + r;
          for (let j = 0; j < width; j++) dot += batchData[r * width + j] * mine.out.data[i * width + j];
          worst = Math.min(worst, dot);
        }
      });
      Object.assign(row, {
        pipeline_s: base.seconds,
        pipeline_texts_per_s: texts.length / base.seconds,
        speedup: base.seconds / mine.seconds,
        min_cosine_between_outputs: worst,
      });
    }
    results.push(row);
    console.log(
      `${name}: ${row.texts} texts, ${row.tokens} tokens (${source}), ${threads} threads: emb-bench ${row.emb_bench_s.toFixed(1)} s = ${row.emb_bench_texts_per_s.toFixed(1)} texts/s, ${row.emb_bench_tokens_per_s.toFixed(0)} tokens/s, ${row.emb_bench_gflops.toFixed(1)} GFLOP/s` +
        (row.pipeline_s
          ? ` | transformers.js pipeline ${row.pipeline_s.toFixed(1)} s = ${row.pipeline_texts_per_s.toFixed(1)} texts/s -> ${row.speedup.toFixed(2)}x (outputs agree: min cosine ${row.min_cosine_between_outputs.toFixed(6)})`
          : ''),
    );
  }
  return {
    benchmark: 'encode',
    date: new Date().toISOString(),
    machine: machine(),
    baseline: tf ? '@huggingface/transformers feature-extraction pipeline, batch 32, input order' : null,
    results,
  };
}
