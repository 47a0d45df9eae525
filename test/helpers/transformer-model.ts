// Small transformers checkpoints saved as sentence-transformers' trainer saves them
// (model.safetensors + config.json + tokenizer + modules, no ONNX), and an independent,
// straightforward forward pass of the same math to hold the built graph to.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPECIAL_TOKENS, wordPieceTokenizer } from '../../lib/demo/models.js';
import { seededRandom } from '../../lib/random.js';

export type Dtype = 'F32' | 'F16' | 'BF16';

/** Rounds float32 values to `dtype` and returns them with their bytes. */
function encodeValues(values: Float32Array, dtype: Dtype): { bytes: Buffer; rounded: Float32Array } {
  if (dtype === 'F32') return { bytes: Buffer.from(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)), rounded: values };
  const bytes = Buffer.alloc(values.length * 2);
  const rounded = new Float32Array(values.length);
  const u32 = new Uint32Array(1);
  const f32 = new Float32Array(u32.buffer);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    if (dtype === 'BF16') {
      const bits = u32[0];
      const top = (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16; // round to nearest even
      bytes.writeUInt16LE(top, 2 * i);
      u32[0] = top << 16;
      rounded[i] = f32[0];
    } else {
      // float16 via the nearest representable value (these weights are small and normal)
      const v = values[i];
      const exp = v === 0 ? -15 : Math.max(-14, Math.floor(Math.log2(Math.abs(v))));
      const step = 2 ** (exp - 10);
      const r = Math.round(v / step) * step;
      rounded[i] = r;
      const a = Math.abs(r);
      let h: number;
      if (a === 0) h = 0;
      else if (a < 2 ** -14) h = Math.round(a / 2 ** -24);
      else {
        const e = Math.floor(Math.log2(a));
        h = ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
      }
      bytes.writeUInt16LE(h | (r < 0 ? 0x8000 : 0), 2 * i);
    }
  }
  return { bytes, rounded };
}

export function writeSafetensors(path: string, tensors: Record<string, { shape: number[]; bytes: Buffer; dtype: Dtype }>): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, Buffer.from(json), ...Object.values(tensors).map((t) => t.bytes)]));
}

export interface TinyTransformer {
  dir: string;
  family: 'bert' | 'roberta';
  vocab: string[];
  hidden: number;
  heads: number;
  layers: number;
  eps: number;
  positionOffset: number;
  /** The weights as the model holds them (rounded to the dtype), by transformers name. */
  weights: Map<string, Float32Array>;
}

export interface TinyTransformerOptions {
  family: 'bert' | 'roberta';
  dtype?: Dtype;
  hidden?: number;
  heads?: number;
  layers?: number;
  maxSeqLength?: number;
  pooling?: 'cls' | 'mean';
  queryPrompt?: string;
  padTokenId?: number;
  seed?: number;
}

export const WORDS = ['what', 'is', 'the', 'lift', 'of', 'a', 'wing', 'flow', 'over', 'plate', 'heat', 'transfer', 'boundary', 'layer', 'shock', 'wave'];

export function writeTinyTransformer(dir: string, o: TinyTransformerOptions): TinyTransformer {
  const { family, dtype = 'F32', hidden = 16, heads = 4, layers = 2, maxSeqLength = 24, pooling = 'mean', seed = 1 } = o;
  const vocab = [...SPECIAL_TOKENS, ...WORDS, ...WORDS.map((w) => `##${w.slice(0, 2)}`)];
  const pad = o.padTokenId ?? (family === 'roberta' ? 1 : 0);
  const positionOffset = family === 'roberta' ? pad + 1 : 0;
  const typeVocab = family === 'bert' ? 2 : 1;
  const inter = hidden * 4;
  const u = seededRandom(seed);
  const rand = (n: number, scale = 0.2) => Float32Array.from({ length: n }, () => (u() * 2 - 1) * scale);
  const shapes: Record<string, number[]> = {
    'embeddings.word_embeddings.weight': [vocab.length, hidden],
    'embeddings.position_embeddings.weight': [maxSeqLength + positionOffset + 2, hidden],
    'embeddings.token_type_embeddings.weight': [typeVocab, hidden],
    'embeddings.LayerNorm.weight': [hidden],
    'embeddings.LayerNorm.bias': [hidden],
  };
  for (let l = 0; l < layers; l++) {
    const p = `encoder.layer.${l}`;
    for (const n of ['query', 'key', 'value'])
      Object.assign(shapes, { [`${p}.attention.self.${n}.weight`]: [hidden, hidden], [`${p}.attention.self.${n}.bias`]: [hidden] });
    Object.assign(shapes, {
      [`${p}.attention.output.dense.weight`]: [hidden, hidden],
      [`${p}.attention.output.dense.bias`]: [hidden],
      [`${p}.attention.output.LayerNorm.weight`]: [hidden],
      [`${p}.attention.output.LayerNorm.bias`]: [hidden],
      [`${p}.intermediate.dense.weight`]: [inter, hidden],
      [`${p}.intermediate.dense.bias`]: [inter],
      [`${p}.output.dense.weight`]: [hidden, inter],
      [`${p}.output.dense.bias`]: [hidden],
      [`${p}.output.LayerNorm.weight`]: [hidden],
      [`${p}.output.LayerNorm.bias`]: [hidden],
    });
  }
  shapes['pooler.dense.weight'] = [hidden, hidden]; // unused, as in real checkpoints
  const weights = new Map<string, Float32Array>();
  const tensors: Record<string, { shape: number[]; bytes: Buffer; dtype: Dtype }> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = name.endsWith('LayerNorm.weight') ? Float32Array.from(rand(n, 0.1), (x) => 1 + x) : rand(n, name.includes('embeddings') ? 1 : 0.3);
    const { bytes, rounded } = encodeValues(values, dtype);
    weights.set(name, rounded);
    tensors[name] = { shape, bytes, dtype };
  }
  mkdirSync(join(dir, '1_Pooling'), { recursive: true });
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  const eps = 1e-12;
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      architectures: [family === 'bert' ? 'BertModel' : 'XLMRobertaModel'],
      model_type: family === 'bert' ? 'bert' : 'xlm-roberta',
      hidden_size: hidden,
      num_attention_heads: heads,
      num_hidden_layers: layers,
      intermediate_size: inter,
      hidden_act: 'gelu',
      layer_norm_eps: eps,
      max_position_embeddings: maxSeqLength + positionOffset + 2,
      type_vocab_size: typeVocab,
      vocab_size: vocab.length,
      pad_token_id: pad,
      position_embedding_type: 'absolute',
      torch_dtype: dtype === 'F32' ? 'float32' : dtype === 'F16' ? 'float16' : 'bfloat16',
    }),
  );
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(wordPieceTokenizer(vocab)));
  writeFileSync(join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: maxSeqLength, do_lower_case: false }));
  writeFileSync(
    join(dir, 'config_sentence_transformers.json'),
    JSON.stringify({ prompts: o.queryPrompt ? { query: o.queryPrompt, document: '' } : {}, similarity_fn_name: 'cosine' }),
  );
  writeFileSync(
    join(dir, '1_Pooling', 'config.json'),
    JSON.stringify({
      word_embedding_dimension: hidden,
      pooling_mode_cls_token: pooling === 'cls',
      pooling_mode_mean_tokens: pooling === 'mean',
      include_prompt: true,
    }),
  );
  writeFileSync(
    join(dir, 'modules.json'),
    JSON.stringify([
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
    ]),
  );
  return { dir, family, vocab, hidden, heads, layers, eps, positionOffset, weights };
}

// ---- the reference forward pass: one text at a time, no padding, float64 arithmetic ----

function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse; use the series/continued-fraction pair instead.
  const t = Math.abs(x);
  if (t < 3) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 200; n++) {
      term *= (-t * t) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  return Math.sign(x) * (1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f));
}

/** Sentence embedding of one tokenized text (ids, type ids), pooled and normalised as the model's files say. */
export function referenceEmbedding(m: TinyTransformer, ids: number[], typeIds: number[], pooling: 'cls' | 'mean'): Float64Array {
  const H = m.hidden;
  const dh = H / m.heads;
  const W = (name: string) => m.weights.get(name)!;
  const n = ids.length;
  const layerNorm = (x: Float64Array[], p: string) =>
    x.map((row) => {
      const mean = row.reduce((a, b) => a + b, 0) / H;
      const v = row.reduce((a, b) => a + (b - mean) ** 2, 0) / H;
      return Float64Array.from(row, (val, j) => ((val - mean) / Math.sqrt(v + m.eps)) * W(`${p}.weight`)[j] + W(`${p}.bias`)[j]);
    });
  const linear = (x: Float64Array[], p: string, inDim: number, outDim: number) =>
    x.map((row) => {
      const w = W(`${p}.weight`);
      const b = W(`${p}.bias`);
      return Float64Array.from({ length: outDim }, (_, o) => {
        let s = b[o];
        for (let i = 0; i < inDim; i++) s += row[i] * w[o * inDim + i];
        return s;
      });
    });
  let h = ids.map((id, t) =>
    Float64Array.from(
      { length: H },
      (_, j) =>
        W('embeddings.word_embeddings.weight')[id * H + j] +
        W('embeddings.position_embeddings.weight')[(t + m.positionOffset) * H + j] +
        W('embeddings.token_type_embeddings.weight')[typeIds[t] * H + j],
    ),
  );
  h = layerNorm(h, 'embeddings.LayerNorm');
  for (let l = 0; l < m.layers; l++) {
    const p = `encoder.layer.${l}`;
    const q = linear(h, `${p}.attention.self.query`, H, H);
    const k = linear(h, `${p}.attention.self.key`, H, H);
    const v = linear(h, `${p}.attention.self.value`, H, H);
    const context = Array.from({ length: n }, () => new Float64Array(H));
    for (let head = 0; head < m.heads; head++) {
      for (let i = 0; i < n; i++) {
        const scores = Array.from({ length: n }, (_, j) => {
          let s = 0;
          for (let d = 0; d < dh; d++) s += q[i][head * dh + d] * k[j][head * dh + d];
          return s / Math.sqrt(dh);
        });
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j < n; j++) for (let d = 0; d < dh; d++) context[i][head * dh + d] += (e[j] / z) * v[j][head * dh + d];
      }
    }
    const attnOut = linear(context, `${p}.attention.output.dense`, H, H).map((row, i) => row.map((x, j) => x + h[i][j]));
    const attended = layerNorm(attnOut, `${p}.attention.output.LayerNorm`);
    const up = linear(attended, `${p}.intermediate.dense`, H, H * 4).map((row) => row.map((x) => 0.5 * x * (1 + erf(x / Math.SQRT2))));
    const down = linear(up, `${p}.output.dense`, H * 4, H).map((row, i) => row.map((x, j) => x + attended[i][j]));
    h = layerNorm(down, `${p}.output.LayerNorm`);
  }
  const pooled = pooling === 'cls' ? h[0] : Float64Array.from({ length: H }, (_, j) => h.reduce((a, row) => a + row[j], 0) / n);
  const norm = Math.sqrt(pooled.reduce((a, b) => a + b * b, 0));
  return pooled.map((x) => x / norm);
}
