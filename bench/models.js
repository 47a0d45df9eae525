// BERT-architecture ONNX encoders with random weights, for the encoding benchmarks: the real
// shapes (MiniLM-L6-H384, BERT-base) and operators, none of the meaning.
import { FLOAT, floatAttr, Graph, INT64, intAttr, intsAttr } from '../dist/lib/onnx/writer.js';
import { writeModelFolder } from '../dist/lib/demo/models.js';
import { gaussianArray } from '../dist/lib/random.js';

/** @typedef {{ layers: number, hidden: number, heads: number, intermediate: number, maxPositions: number }} BertShape */

export const MINILM_L6_H384 = { layers: 6, hidden: 384, heads: 12, intermediate: 1536, maxPositions: 512 };
export const BERT_BASE_L12_H768 = { layers: 12, hidden: 768, heads: 12, intermediate: 3072, maxPositions: 512 };

/** A BERT encoder graph (embeddings, self-attention, GELU feed-forward, post-LayerNorm) with
 * random weights: inputs input_ids, attention_mask, token_type_ids; output last_hidden_state. */
/**
 * @param {BertShape} shape
 * @param {number} vocabSize
 * @returns {Buffer}
 */
export function bertOnnx(shape, vocabSize, seed = 1) {
  const g = new Graph();
  const H = shape.hidden;
  const dh = H / shape.heads;
  let seedN = seed;
  const w = (name, dims) =>
    g.tensor(
      name,
      dims,
      gaussianArray(
        dims.reduce((a, b) => a * b, 1),
        seedN++,
        0.02,
      ),
    );
  const c = (name, values) => g.tensor(name, [values.length], Float32Array.from(values));
  const ci = (name, values, dims = [values.length]) => g.tensor(name, dims, BigInt64Array.from(values.map(BigInt)));
  const ones = (name, n) => g.tensor(name, [n], new Float32Array(n).fill(1));
  const zeros = (name, n) => g.tensor(name, [n], new Float32Array(n));

  g.input('input_ids', INT64, ['batch', 'sequence']);
  g.input('attention_mask', INT64, ['batch', 'sequence']);
  g.input('token_type_ids', INT64, ['batch', 'sequence']);
  ci('zero', [0], []);
  ci('one', [1], []);
  ci('axis1', [1], []);
  const layerNorm = (x, p) => g.op('LayerNormalization', [x, ones(`${p}.gamma`, H), zeros(`${p}.beta`, H)], [intAttr('axis', -1), floatAttr('epsilon', 1e-12)]);
  const linear = (x, p, nIn, nOut) => g.op('Add', [g.op('MatMul', [x, w(`${p}.weight`, [nIn, nOut])]), zeros(`${p}.bias`, nOut)]);

  const seq = g.op('Gather', [g.op('Shape', ['input_ids']), 'axis1'], [intAttr('axis', 0)]);
  const positions = g.op('Range', ['zero', seq, 'one']);
  let h = g.op('Add', [
    g.op('Add', [
      g.op('Gather', [w('word_embeddings', [vocabSize, H]), 'input_ids']),
      g.op('Gather', [w('position_embeddings', [shape.maxPositions, H]), positions]),
    ]),
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
    const split = (x, perm) => g.op('Transpose', [g.op('Reshape', [x, heads])], [intsAttr('perm', perm)]);
    const q = split(linear(h, `${p}.q`, H, H), [0, 2, 1, 3]);
    const k = split(linear(h, `${p}.k`, H, H), [0, 2, 3, 1]);
    const v = split(linear(h, `${p}.v`, H, H), [0, 2, 1, 3]);
    const probs = g.op('Softmax', [g.op('Add', [g.op('Mul', [g.op('MatMul', [q, k]), scale]), mask])], [intAttr('axis', -1)]);
    const context = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, v])], [intsAttr('perm', [0, 2, 1, 3])]), merged]);
    const attended = layerNorm(g.op('Add', [linear(context, `${p}.o`, H, H), h]), `${p}.attn_norm`);
    const up = linear(attended, `${p}.up`, H, shape.intermediate);
    const gelu = g.op('Mul', [
      g.op('Mul', [up, c(`${p}.half`, [0.5])]),
      g.op('Add', [g.op('Erf', [g.op('Div', [up, c(`${p}.sqrt2`, [Math.SQRT2])])]), c(`${p}.onef`, [1])]),
    ]);
    h = layerNorm(g.op('Add', [linear(gelu, `${p}.down`, shape.intermediate, H), attended]), `${p}.ffn_norm`);
  }
  g.op('Identity', [h], [], 'last_hidden_state');
  g.output('last_hidden_state', FLOAT, ['batch', 'sequence', H]);
  return g.model(17);
}

/**
 * A BERT-shaped model folder with a WordPiece vocabulary.
 * @param {string} dir
 * @param {BertShape} shape
 * @param {string[]} vocab
 */
export function writeBertModel(dir, shape, vocab, { seed = 1, maxSeqLength = 256 } = {}) {
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
