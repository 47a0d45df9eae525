// Model folders in the sentence-transformers ONNX layout, made here: a tiny lookup model (for
// tests and the demo) and BERT-architecture encoders with random weights (for benchmarks).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLOAT, floatAttr, Graph, INT64, intAttr, intsAttr } from './onnx.js';

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'];

/** tokenizer.json for a BERT-style WordPiece tokenizer with [CLS]/[SEP] post-processing. */
export function wordPieceTokenizer(vocab: string[]): object {
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
  };
}

export interface FolderOptions {
  width: number;
  maxSeqLength: number;
  pooling?: string; // 1_Pooling mode
  includePrompt?: boolean;
  normalize?: boolean;
  prompts?: Record<string, string>;
  config?: object; // config.json (transformers' model config), for other runtimes
}

/** Writes the files around onnx/model.onnx that sentence-transformers' layout has. */
export function writeModelFolder(dir: string, onnx: Buffer, vocab: string[], o: FolderOptions): void {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  mkdirSync(join(dir, '1_Pooling'), { recursive: true });
  writeFileSync(join(dir, 'onnx', 'model.onnx'), onnx);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(wordPieceTokenizer(vocab)));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: o.maxSeqLength, do_lower_case: true, tokenizer_class: 'BertTokenizer', pad_token: '[PAD]', unk_token: '[UNK]', cls_token: '[CLS]', sep_token: '[SEP]' }));
  writeFileSync(join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: o.maxSeqLength, do_lower_case: false }));
  writeFileSync(join(dir, 'config_sentence_transformers.json'), JSON.stringify({ prompts: o.prompts ?? {}, similarity_fn_name: 'cosine' }));
  if (o.config) writeFileSync(join(dir, 'config.json'), JSON.stringify(o.config));
  const mode = o.pooling ?? 'mean';
  writeFileSync(
    join(dir, '1_Pooling', 'config.json'),
    JSON.stringify({
      word_embedding_dimension: o.width,
      pooling_mode_cls_token: mode === 'cls',
      pooling_mode_mean_tokens: mode === 'mean',
      pooling_mode_max_tokens: mode === 'max',
      pooling_mode_mean_sqrt_len_tokens: mode === 'mean_sqrt_len_tokens',
      pooling_mode_weightedmean_tokens: mode === 'weightedmean',
      pooling_mode_lasttoken: mode === 'lasttoken',
      include_prompt: o.includePrompt ?? true,
    }),
  );
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  if (o.normalize) modules.push({ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' });
  writeFileSync(join(dir, 'modules.json'), JSON.stringify(modules));
}

/** Deterministic N(0, std) float32 values (Box-Muller over a 32-bit LCG). */
export function randomWeights(n: number, seed: number, std = 0.02): Float32Array {
  let s = seed >>> 0 || 1;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u())) * std;
    const t = 2 * Math.PI * u();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

export interface BertShape {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  maxPositions: number;
}

export const MINILM_L6_H384: BertShape = { layers: 6, hidden: 384, heads: 12, intermediate: 1536, maxPositions: 512 };
export const BERT_BASE_L12_H768: BertShape = { layers: 12, hidden: 768, heads: 12, intermediate: 3072, maxPositions: 512 };

/** A BERT encoder graph (embeddings, self-attention, GELU feed-forward, post-LayerNorm) with
 * random weights: inputs input_ids, attention_mask, token_type_ids; output last_hidden_state. */
export function bertOnnx(shape: BertShape, vocabSize: number, seed = 1): Buffer {
  const g = new Graph();
  const H = shape.hidden;
  const dh = H / shape.heads;
  let seedN = seed;
  const w = (name: string, dims: number[]) => g.tensor(name, dims, randomWeights(dims.reduce((a, b) => a * b, 1), seedN++));
  const c = (name: string, values: number[]) => g.tensor(name, [values.length], Float32Array.from(values));
  const ci = (name: string, values: number[], dims = [values.length]) => g.tensor(name, dims, BigInt64Array.from(values.map(BigInt)));
  const ones = (name: string, n: number) => g.tensor(name, [n], new Float32Array(n).fill(1));
  const zeros = (name: string, n: number) => g.tensor(name, [n], new Float32Array(n));

  g.input('input_ids', INT64, ['batch', 'sequence']);
  g.input('attention_mask', INT64, ['batch', 'sequence']);
  g.input('token_type_ids', INT64, ['batch', 'sequence']);
  ci('zero', [0], []);
  ci('one', [1], []);
  ci('axis1', [1], []);
  const layerNorm = (x: string, p: string) => g.op('LayerNormalization', [x, ones(`${p}.gamma`, H), zeros(`${p}.beta`, H)], [intAttr('axis', -1), floatAttr('epsilon', 1e-12)]);
  const linear = (x: string, p: string, nIn: number, nOut: number) => g.op('Add', [g.op('MatMul', [x, w(`${p}.weight`, [nIn, nOut])]), zeros(`${p}.bias`, nOut)]);

  const seq = g.op('Gather', [g.op('Shape', ['input_ids']), 'axis1'], [intAttr('axis', 0)]);
  const positions = g.op('Range', ['zero', seq, 'one']);
  let h = g.op('Add', [
    g.op('Add', [g.op('Gather', [w('word_embeddings', [vocabSize, H]), 'input_ids']), g.op('Gather', [w('position_embeddings', [shape.maxPositions, H]), positions])]),
    g.op('Gather', [w('token_type_embeddings', [2, H]), 'token_type_ids']),
  ]);
  h = layerNorm(h, 'embeddings.norm');
  // additive mask [batch, 1, 1, seq]: 0 for tokens, -10000 for padding
  const maskF = g.op('Cast', ['attention_mask'], [intAttr('to', FLOAT)]);
  const mask = g.op('Mul', [g.op('Sub', [c('onef', [1]), g.op('Unsqueeze', [maskF, ci('mask_axes', [1, 2])])]), c('neg', [-10000])]);
  const heads = ci('heads_shape', [0, 0, shape.heads, dh]);
  const merged = ci('merged_shape', [0, 0, H]);
  const scale = c('scale', [1 / Math.sqrt(dh)]);
  for (let l = 0; l < shape.layers; l++) {
    const p = `layer${l}`;
    const split = (x: string, perm: number[]) => g.op('Transpose', [g.op('Reshape', [x, heads])], [intsAttr('perm', perm)]);
    const q = split(linear(h, `${p}.q`, H, H), [0, 2, 1, 3]);
    const k = split(linear(h, `${p}.k`, H, H), [0, 2, 3, 1]);
    const v = split(linear(h, `${p}.v`, H, H), [0, 2, 1, 3]);
    const probs = g.op('Softmax', [g.op('Add', [g.op('Mul', [g.op('MatMul', [q, k]), scale]), mask])], [intAttr('axis', -1)]);
    const context = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, v])], [intsAttr('perm', [0, 2, 1, 3])]), merged]);
    const attended = layerNorm(g.op('Add', [linear(context, `${p}.o`, H, H), h]), `${p}.attn_norm`);
    const up = linear(attended, `${p}.up`, H, shape.intermediate);
    const gelu = g.op('Mul', [g.op('Mul', [up, c(`${p}.half`, [0.5])]), g.op('Add', [g.op('Erf', [g.op('Div', [up, c(`${p}.sqrt2`, [Math.SQRT2])])]), c(`${p}.onef`, [1])])]);
    h = layerNorm(g.op('Add', [linear(gelu, `${p}.down`, shape.intermediate, H), attended]), `${p}.ffn_norm`);
  }
  g.op('Identity', [h], [], 'last_hidden_state');
  g.output('last_hidden_state', FLOAT, ['batch', 'sequence', H]);
  return g.model(17);
}

/** A BERT-shaped model folder with a WordPiece vocabulary. */
export function writeBertModel(dir: string, shape: BertShape, vocab: string[], { seed = 1, maxSeqLength = 256 } = {}): void {
  writeModelFolder(dir, bertOnnx(shape, vocab.length, seed), vocab, {
    width: shape.hidden,
    maxSeqLength,
    pooling: 'mean',
    normalize: true,
    config: {
      model_type: 'bert',
      architectures: ['BertModel'],
      hidden_size: shape.hidden,
      num_hidden_layers: shape.layers,
      num_attention_heads: shape.heads,
      intermediate_size: shape.intermediate,
      max_position_embeddings: shape.maxPositions,
      vocab_size: vocab.length,
      type_vocab_size: 2,
    },
  });
}
