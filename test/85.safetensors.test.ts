// Models as sentence-transformers' trainer saves them (model.safetensors + config.json, no ONNX):
// the graph built in process against an independent forward pass for every family and weight
// type, against the torch reference embeddings in shared/, and through the command line.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from 'tokenizers';
import { describe, expect, it } from 'vitest';
import { loadBeir } from '../lib/data/beir.js';
import { readNpy } from '../lib/data/npy.js';
import { Encoder } from '../lib/encode/encoder.js';
import { readSafetensors } from '../lib/onnx/safetensors.js';
import { cli, HAS_SHARED, rng, shared } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { referenceEmbedding, type TinyTransformerOptions, WORDS, writeTinyTransformer } from './helpers/transformer-model.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'emb-st-'));

function sentences(n: number, seed: number): string[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: 1 + Math.floor(r() * 30) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' '));
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

describe('the built encoder graph against a straightforward forward pass', () => {
  it.each<[string, TinyTransformerOptions]>([
    ['BERT, float32, CLS pooling, a query prompt, truncation', { family: 'bert', dtype: 'F32', pooling: 'cls', queryPrompt: 'query: ', maxSeqLength: 12 }],
    ['BERT, float16, mean pooling', { family: 'bert', dtype: 'F16', pooling: 'mean', maxSeqLength: 40 }],
    ['XLM-RoBERTa, bfloat16, mean pooling, padding id 1 (positions from 2)', { family: 'roberta', dtype: 'BF16', pooling: 'mean', maxSeqLength: 20 }],
    [
      'RoBERTa, float32, padding id 0 (positions from 1), a prompt',
      { family: 'roberta', dtype: 'F32', pooling: 'cls', padTokenId: 0, queryPrompt: 'what is ', maxSeqLength: 16 },
    ],
  ])('%s', async (_, o) => {
    const m = writeTinyTransformer(tmp(), o);
    const texts = sentences(40, 3);
    const enc = await Encoder.load(m.dir, { cacheDir: null });
    const got = await enc.encode(texts, { kind: 'query' });
    await enc.close();
    const tokenizer = Tokenizer.fromFile(join(m.dir, 'tokenizer.json'));
    tokenizer.setTruncation(o.maxSeqLength ?? 24);
    let worst = 0;
    for (let i = 0; i < texts.length; i++) {
      const e = await tokenizer.encode((o.queryPrompt ?? '') + texts[i]);
      const want = referenceEmbedding(m, e.getIds(), e.getTypeIds(), o.pooling ?? 'mean');
      worst = Math.max(worst, maxAbsDiff(got.data.subarray(i * m.hidden, (i + 1) * m.hidden), want));
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('the graph is cached by the weights and the builder version: a second load builds nothing', async () => {
    const m = writeTinyTransformer(tmp(), { family: 'bert' });
    const cache = tmp();
    const texts = sentences(10, 5);
    const first = await Encoder.load(m.dir, { cacheDir: cache });
    const a = await first.encode(texts, { kind: 'document' });
    await first.close();
    const graphs = readdirSync(join(cache, 'graphs'));
    expect(graphs).toHaveLength(1);
    const graphFile = join(cache, 'graphs', graphs[0]);
    const stamp = readFileSync(graphFile);
    writeFileSync(join(m.dir, 'model.safetensors'), 'damaged after the first run'); // changes the files' sha256
    await expect(Encoder.load(m.dir, { cacheDir: cache })).rejects.toThrow(/model\.safetensors: not a readable safetensors file/);
    expect(readFileSync(graphFile)).toEqual(stamp);
    const copy = writeTinyTransformer(tmp(), { family: 'bert' });
    const second = await Encoder.load(copy.dir, { cacheDir: join(cache, 'other') });
    const b = await second.encode(texts, { kind: 'document' });
    await second.close();
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
  });
});

describe('safetensors models through the command line', () => {
  it('compare on a safetensors folder gives the metrics of the same model from an ONNX file', async () => {
    const base = writeTinyTransformer(tmp(), { family: 'bert', seed: 1 });
    const tuned = writeTinyTransformer(tmp(), { family: 'roberta', dtype: 'BF16', seed: 2 });
    const data = writeTinyBeir({ docs: 60, queries: 15 });
    const cache = tmp();
    const run = async (a: string, b: string) => {
      const r = await cli(['compare', a, b, '--data', data, '--dims', '16,8', '--out', join(tmp(), 'o'), '--no-log', '--cache-dir', cache, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const fromWeights = await run(base.dir, tuned.dir);
    // the same models as ONNX folders: the graphs the first run cached
    const asOnnx = (dir: string) => {
      const out = tmp();
      cpSync(dir, out, { recursive: true });
      for (const f of ['model.safetensors', 'config.json']) writeFileSync(join(out, f), '');
      return out;
    };
    const graphs = readdirSync(join(cache, 'graphs'));
    expect(graphs).toHaveLength(2);
    const folders = [asOnnx(base.dir), asOnnx(tuned.dir)];
    // which graph is which: the one that loads with token_type_ids is BERT's
    for (const g of graphs) {
      const bytes = readFileSync(join(cache, 'graphs', g));
      const target = bytes.includes(Buffer.from('token_type_ids')) ? folders[0] : folders[1];
      mkdirSync(join(target, 'onnx'), { recursive: true });
      writeFileSync(join(target, 'onnx', 'model.onnx'), bytes);
    }
    const fromOnnx = await run(folders[0], folders[1]);
    for (const side of ['base', 'tuned'])
      for (const [k, v] of Object.entries(fromWeights[side].metrics as Record<string, number>))
        expect(fromOnnx[side].metrics[k], `${side} ${k}`).toBeCloseTo(v, 6);
  });

  it('a checkpoint with an int64 position_ids buffer (older transformers) runs, the buffer left out', async () => {
    const m = writeTinyTransformer(tmp(), { family: 'bert' });
    const before = await cli(['eval', m.dir, '--data', writeTinyBeir(), '--out', join(tmp(), 'o'), '--no-log', '--no-cache', '--json']);
    const file = join(m.dir, 'model.safetensors');
    const bytes = readFileSync(file);
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    const body = bytes.subarray(8 + n);
    const ids = Buffer.alloc(8 * 24);
    for (let i = 0; i < 24; i++) ids.writeBigInt64LE(BigInt(i), 8 * i);
    header['embeddings.position_ids'] = { dtype: 'I64', shape: [1, 24], data_offsets: [body.length, body.length + ids.length] };
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(file, Buffer.concat([len, json, body, ids]));
    const after = await cli(['eval', m.dir, '--data', writeTinyBeir(), '--out', join(tmp(), 'o'), '--no-log', '--no-cache', '--json']);
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout).metrics).toEqual(JSON.parse(before.stdout).metrics);
  });

  it("weights past protobuf's limit go to an external data file beside the graph: same numbers, cached or not", async () => {
    const m = writeTinyTransformer(tmp(), { family: 'roberta', dtype: 'BF16' });
    const data = writeTinyBeir();
    const run = async (extra: string[], env: Record<string, string> = {}) => {
      const r = await cli(['eval', m.dir, '--data', data, '--out', join(tmp(), 'o'), '--no-log', '--json', ...extra], env);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).metrics;
    };
    const inline = await run(['--no-cache']);
    const cache = tmp();
    const external = { EMB_BENCH_EXTERNAL_DATA_ABOVE: '1' };
    expect(await run(['--cache-dir', cache], external)).toEqual(inline);
    const [folder] = readdirSync(join(cache, 'graphs'));
    expect(readdirSync(join(cache, 'graphs', folder)).sort()).toEqual(['model.onnx', 'model.onnx.data']);
    expect(await run(['--cache-dir', cache], external)).toEqual(inline); // from the cached folder
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith('emb-bench-graph-'));
    expect(await run(['--no-cache'], external)).toEqual(inline);
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('emb-bench-graph-'))).toEqual(before);
  });

  it('an architecture emb-bench cannot build: one line naming it and how to export ONNX', async () => {
    const m = writeTinyTransformer(tmp(), { family: 'bert' });
    const config = JSON.parse(readFileSync(join(m.dir, 'config.json'), 'utf8'));
    writeFileSync(join(m.dir, 'config.json'), JSON.stringify({ ...config, architectures: ['MPNetModel'], model_type: 'mpnet' }));
    const r = await cli(['eval', m.dir, '--data', writeTinyBeir(), '--out', join(tmp(), 'o'), '--no-log', '--no-cache']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/config\.json: architectures \[MPNetModel\] .*cannot be built without an ONNX export.*optimum-cli export onnx/);
  });

  it('a safetensors header that lies about its tensors: one line, exit 2', async () => {
    const m = writeTinyTransformer(tmp(), { family: 'bert' });
    const file = join(m.dir, 'model.safetensors');
    const bytes = readFileSync(file);
    bytes.writeBigUInt64LE(BigInt(bytes.length * 2), 0);
    writeFileSync(file, bytes);
    const r = await cli(['eval', m.dir, '--data', writeTinyBeir(), '--out', join(tmp(), 'o'), '--no-log', '--no-cache']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/model\.safetensors: not a readable safetensors file \(header length/);
  });
});

describe('safetensors files that are not what they claim', () => {
  const file = (header: unknown, data = Buffer.alloc(0)) => {
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    const path = join(tmp(), 'model.safetensors');
    writeFileSync(path, Buffer.concat([len, json, data]));
    return path;
  };

  it.each([[[]], [null], [42]])('a header of %j is refused as such (not blamed on config.json or onnxruntime)', (header) => {
    expect(() => readSafetensors(file(header))).toThrow(/model\.safetensors: not a readable safetensors file \(the header is not a JSON object of tensors\)/);
  });

  it('tensors whose bytes overlap, or leave a gap, are refused as Python safetensors refuses them', () => {
    const t = (from: number, to: number) => ({ dtype: 'F32', shape: [(to - from) / 4], data_offsets: [from, to] });
    expect(() => readSafetensors(file({ a: t(0, 8), b: t(0, 8) }, Buffer.alloc(8)))).toThrow(/tensor [ab] starts at byte 0, where 8 was expected/);
    expect(() => readSafetensors(file({ a: t(0, 8), b: t(12, 16) }, Buffer.alloc(16)))).toThrow(/tensor b starts at byte 12, where 8 was expected/);
    expect(() => readSafetensors(file({ a: t(0, 8) }, Buffer.alloc(12)))).toThrow(/the tensors end at byte 8 of 12/);
    expect(readSafetensors(file({ a: t(0, 8), b: t(8, 16) }, Buffer.alloc(16))).size).toBe(2);
  });

  it('a config with fewer layers than the checkpoint: the unused weights are named in a warning', async () => {
    const m = writeTinyTransformer(tmp(), { family: 'bert', layers: 3 });
    const config = JSON.parse(readFileSync(join(m.dir, 'config.json'), 'utf8'));
    writeFileSync(join(m.dir, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: 2 }));
    const warnings: string[] = [];
    const enc = await Encoder.load(m.dir, { cacheDir: null, onWarning: (w) => warnings.push(w) });
    await enc.close();
    expect(warnings).toEqual([expect.stringMatching(/model\.safetensors: \d+ tensor\(s\) of the checkpoint are not used .*encoder\.layer\.2\./)]);
  });
});

describe.skipIf(!HAS_SHARED)('shared safetensors-only models against torch', () => {
  it.each(['minibert-bert-safetensors', 'minibert-xlmr-safetensors'])(
    '%s: every Cranfield query and document embedding to 1e-5',
    async (name) => {
      const ds = loadBeir(shared('data', 'cranfield'), 'test');
      const enc = await Encoder.load(shared('models', name), { cacheDir: null });
      const q = await enc.encode(ds.queries.texts, { kind: 'query' });
      const c = await enc.encode(ds.corpus.texts, { kind: 'document' });
      await enc.close();
      const golden = (f: string) => readNpy(shared('golden', 'safetensors-cranfield', name, f));
      expect(maxAbsDiff(q.data, golden('query_embeddings.npy').data)).toBeLessThan(1e-5);
      expect(maxAbsDiff(c.data, golden('corpus_embeddings.npy').data)).toBeLessThan(1e-5);
      expect(existsSync(shared('models', name, 'onnx'))).toBe(false);
    },
    120_000,
  );
});
