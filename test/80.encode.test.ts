// The encoder on small models made here, checked against an independent computation.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Encoder } from '../lib/encode/encoder.js';
import { loadBeir } from '../lib/data/beir.js';
import { embedDataset, evaluateEmbeddings, evaluateModel } from '../lib/evaluate.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { UserError } from '../lib/errors.js';
import { writeTinyModel, type TinyModel, type TinyModelOptions } from './helpers/tiny-model.js';

const fresh = (o: TinyModelOptions) => writeTinyModel(mkdtempSync(join(tmpdir(), 'emb-tiny-')), o);

/** tanh(word[id] + type[0]) per token: what the tiny graph computes. */
function hidden(m: TinyModel, ids: number[], withTypes: boolean): number[][] {
  return ids.map((id) => Array.from({ length: m.width }, (_, j) => Math.tanh(m.wordVectors[id * m.width + j] + (withTypes ? m.typeVectors[j] : 0))));
}
const meanOf = (rows: number[][]) => rows[0].map((_, j) => rows.reduce((s, r) => s + r[j], 0) / rows.length);
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const expectClose = (got: Float32Array, want: number[]) => want.forEach((w, j) => expect(got[j]).toBeCloseTo(w, 5));

// "query: What is the docs" -> [CLS] query : what is the doc ##s [SEP], truncated to 6 tokens
// with the special tokens counted: [CLS] query : what is [SEP]
const PROMPTED_IDS = [2, 7, 13, 4, 5, 3];

describe('encoder', () => {
  it('WordPiece with [CLS]/[SEP], token_type_ids, a sentence_embedding output and Normalize', async () => {
    const m = fresh({ tokenTypes: true, sentenceEmbedding: true, normalize: true });
    const enc = await Encoder.load(m.dir);
    const out = await enc.encode(['what is the lift', 'wing'], { kind: 'document' });
    expect([out.rows, out.cols]).toEqual([2, 8]);
    const cls = unit(hidden(m, [2], true)[0]);
    expectClose(out.data.subarray(0, 8), cls);
    expectClose(out.data.subarray(8, 16), cls);
    await enc.close();
  });

  it('mean pooling with the query prompt and truncation to max_seq_length', async () => {
    const m = fresh({ tokenTypes: true, pooling: 'mean', queryPrompt: 'query: ' });
    const enc = await Encoder.load(m.dir);
    const q = await enc.encode(['What is the docs'], { kind: 'query' });
    expectClose(q.data, meanOf(hidden(m, PROMPTED_IDS, true)));
    // documents get no query prompt: [CLS] wing lift flow of [SEP]
    const d = await enc.encode(['wing lift flow of a wing'], { kind: 'document' });
    expectClose(d.data, meanOf(hidden(m, [2, 10, 11, 12, 15, 3], true)));
    await enc.close();
  });

  it('include_prompt false leaves the prompt tokens out of the pooling', async () => {
    const m = fresh({ pooling: 'mean', queryPrompt: 'query: ', includePrompt: false });
    const enc = await Encoder.load(m.dir);
    const q = await enc.encode(['What is the docs'], { kind: 'query' });
    // prompt "query: " tokenizes to [CLS] query : [SEP]: its first 3 tokens are excluded
    expectClose(q.data, meanOf(hidden(m, PROMPTED_IDS.slice(3), false)));
    await enc.close();
  });

  it.each([
    ['max', (rows: number[][]) => rows[0].map((_, j) => Math.max(...rows.map((r) => r[j])))],
    ['lasttoken', (rows: number[][]) => rows[rows.length - 1]],
    ['mean_sqrt_len_tokens', (rows: number[][]) => rows[0].map((_, j) => rows.reduce((s, r) => s + r[j], 0) / Math.sqrt(rows.length))],
    ['weightedmean', (rows: number[][]) => rows[0].map((_, j) => rows.reduce((s, r, t) => s + (t + 1) * r[j], 0) / ((rows.length * (rows.length + 1)) / 2))],
  ])('%s pooling, in a batch with a shorter padded text', async (mode, expected) => {
    const m = fresh({ pooling: mode });
    const enc = await Encoder.load(m.dir);
    const out = await enc.encode(['wing lift flow', 'lift'], { kind: 'document' });
    expectClose(out.data.subarray(0, 8), expected(hidden(m, [2, 10, 11, 12, 3], false)));
    expectClose(out.data.subarray(8, 16), expected(hidden(m, [2, 11, 3], false)));
    await enc.close();
  });

  it('--no-prompts and an explicit prompt override the model', async () => {
    const m = fresh({ pooling: 'mean', queryPrompt: 'query: ' });
    const plain = await Encoder.load(m.dir, { noPrompts: true });
    const q = await plain.encode(['what is the lift'], { kind: 'query' });
    expectClose(q.data, meanOf(hidden(m, [2, 4, 5, 6, 11, 3], false)));
    const custom = await Encoder.load(m.dir, { queryPrompt: 'wing ' });
    const c = await custom.encode(['lift'], { kind: 'query' });
    expectClose(c.data, meanOf(hidden(m, [2, 10, 11, 3], false)));
  });

  it('a cache hit returns the same vectors without inference', async () => {
    const m = fresh({ pooling: 'mean' });
    const cacheDir = mkdtempSync(join(tmpdir(), 'emb-cache-'));
    const a = await Encoder.load(m.dir, { cacheDir });
    const first = await a.encode(['wing lift', 'flow'], { kind: 'document' });
    expect(a.inferred).toBe(2);
    const b = await Encoder.load(m.dir, { cacheDir });
    const second = await b.encode(['flow', 'wing lift', 'lift'], { kind: 'document' });
    expect(b.inferred).toBe(1);
    expect(Array.from(second.data.subarray(0, 8))).toEqual(Array.from(first.data.subarray(8, 16)));
  });

  it('a model that emits NaN is a UserError naming the model file and the text', async () => {
    const m = fresh({ pooling: 'mean', nanWord: 'flow' });
    const enc = await Encoder.load(m.dir);
    const run = enc.encode(['wing lift', 'lift', 'the flow'], { kind: 'document' });
    await expect(run).rejects.toThrow(UserError);
    await expect(enc.encode(['wing lift', 'lift', 'the flow'], { kind: 'document' })).rejects.toThrow(
      /model\.onnx: the model's embedding of document 3 \("the flow"\) has a non-finite value \(NaN\) at column 0/,
    );
    await enc.close();
  });

  it('evaluateModel encodes the corpus and only the queries it scores, with the metrics of all-query embeddings', async () => {
    const m = fresh({ pooling: 'mean' });
    const dir = writeTinyBeir({ docs: 30, queries: 10 });
    const qrels = join(dir, 'qrels', 'test.tsv');
    // queries q1, q4 and q7 lose their judgments: never scored, so never worth encoding
    const lines = readFileSync(qrels, 'utf8').trim().split('\n');
    writeFileSync(qrels, lines.filter((l) => !/^q[147]\t/.test(l)).join('\n') + '\n');
    const dataset = loadBeir(dir);
    const enc = await Encoder.load(m.dir);
    const result = await evaluateModel(enc, dataset, { dims: [8, 4] });
    expect(result.inferred).toBe(30 + 7);
    expect(result.queryIds).toEqual(['q0', 'q2', 'q3', 'q5', 'q6', 'q8', 'q9']);
    const all = await embedDataset(enc, dataset);
    const reference = await evaluateEmbeddings(dataset, all.queries, all.corpus, { dims: [8, 4] });
    expect(result.metrics).toEqual(reference.metrics);
    await enc.close();
  });

  it.each([
    ['a folder without a model', (dir: string) => writeFileSync(join(dir, 'onnx', 'model.onnx'), 'not onnx'), /onnxruntime cannot load this model/],
    ['a broken tokenizer.json', (dir: string) => writeFileSync(join(dir, 'tokenizer.json'), '{"model": 1}'), /tokenizer\.json: cannot load the tokenizer/],
    [
      'a truncated tokenizer.json',
      (dir: string) => writeFileSync(join(dir, 'tokenizer.json'), '{"version": "1.0", "mod'),
      /tokenizer\.json: cannot load the tokenizer \(EOF while parsing/,
    ],
    [
      'an unknown pooling mode',
      (dir: string) => writeFileSync(join(dir, '1_Pooling', 'config.json'), '{"pooling_mode": "median"}'),
      /unknown pooling mode "median"/,
    ],
  ])('rejects %s with a UserError naming the file', async (_, breakIt, message) => {
    const m = fresh({ pooling: 'mean' });
    breakIt(m.dir);
    await expect(Encoder.load(m.dir)).rejects.toThrow(UserError);
    await expect(Encoder.load(m.dir)).rejects.toThrow(message);
  });

  it("a model's identity covers its ONNX external data: same graph, other weights, another sha256 and no shared cache", async () => {
    // width 32: the 16 x 32 word table (2 KiB) goes to the external data file
    const a = fresh({ width: 32, seed: 1, externalData: 'model.onnx_data' });
    const b = fresh({ width: 32, seed: 2, externalData: 'model.onnx_data' });
    const graph = (m: TinyModel) => readFileSync(join(m.dir, 'onnx', 'model.onnx'));
    expect(graph(a).equals(graph(b))).toBe(true);
    const cacheDir = mkdtempSync(join(tmpdir(), 'emb-cache-'));
    const encA = await Encoder.load(a.dir, { cacheDir });
    const encB = await Encoder.load(b.dir, { cacheDir });
    expect(encA.spec.files).toContain(join(a.dir, 'onnx', 'model.onnx_data'));
    expect(encA.spec.sha256).not.toBe(encB.spec.sha256);
    const texts = ['wing lift', 'the flow'];
    const ea = await encA.encode(texts, { kind: 'document' });
    const eb = await encB.encode(texts, { kind: 'document' });
    expect(encB.inferred).toBe(2); // not served A's cached rows
    expect(Array.from(eb.data)).not.toEqual(Array.from(ea.data));
    expectClose(eb.data.subarray(0, 32), hidden(b, [2], false)[0]);
    await encA.close();
    await encB.close();
    // retrained in place: the same folder with new external weights is another version
    const before = encA.spec.sha256;
    writeFileSync(join(a.dir, 'onnx', 'model.onnx_data'), readFileSync(join(b.dir, 'onnx', 'model.onnx_data')));
    const again = await Encoder.load(a.dir, { cacheDir });
    expect(again.spec.sha256).not.toBe(before);
    await again.close();
  });

  it('names the external data file a graph needs when it is missing', async () => {
    const m = fresh({ width: 32, externalData: 'weights.bin' });
    rmSync(join(m.dir, 'onnx', 'weights.bin'));
    await expect(Encoder.load(m.dir)).rejects.toThrow(/model\.onnx: the graph's external data file "weights\.bin" is not there/);
  });

  it('names what was looked for when the path is not a model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emb-empty-'));
    await expect(Encoder.load(dir)).rejects.toThrow(/not a model folder \(looked for .*onnx\/model\.onnx and .*model\.onnx\)/);
  });
});
