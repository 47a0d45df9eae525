// BERT-architecture encoders with random weights, for the encoding benchmarks: the real shapes
// (MiniLM-L6-H384, BERT-base) and operators, none of the meaning. The graph is the one
// emb-bench builds for a safetensors checkpoint (lib/onnx/transformer.ts).
import { writeModelFolder } from '../dist/lib/demo/models.js';
import { buildEncoderGraph, encoderConfig } from '../dist/lib/onnx/transformer.js';
import { gaussianArray } from '../dist/lib/random.js';

/** @typedef {{ layers: number, hidden: number, heads: number, intermediate: number, maxPositions: number }} BertShape */

export const MINILM_L6_H384 = { layers: 6, hidden: 384, heads: 12, intermediate: 1536, maxPositions: 512 };
export const BERT_BASE_L12_H768 = { layers: 12, hidden: 768, heads: 12, intermediate: 3072, maxPositions: 512 };

/**
 * transformers' config.json for a BertModel of this shape.
 * @param {BertShape} shape
 * @param {number} vocabSize
 */
export function bertConfig(shape, vocabSize) {
  return {
    model_type: 'bert',
    architectures: ['BertModel'],
    hidden_size: shape.hidden,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    intermediate_size: shape.intermediate,
    max_position_embeddings: shape.maxPositions,
    vocab_size: vocabSize,
    type_vocab_size: 2,
    hidden_act: 'gelu',
    layer_norm_eps: 1e-12,
  };
}

/**
 * Random BertModel weights under transformers' names (N(0, 0.02); LayerNorm weight 1, biases 0).
 * @param {BertShape} shape
 * @param {number} vocabSize
 */
export function bertWeights(shape, vocabSize, seed = 1) {
  const H = shape.hidden;
  const weights = new Map();
  let next = seed;
  const add = (name, dims, fill) => {
    const n = dims.reduce((a, b) => a * b, 1);
    weights.set(name, { shape: dims, data: fill === undefined ? gaussianArray(n, next++, 0.02) : new Float32Array(n).fill(fill) });
  };
  add('embeddings.word_embeddings.weight', [vocabSize, H]);
  add('embeddings.position_embeddings.weight', [shape.maxPositions, H]);
  add('embeddings.token_type_embeddings.weight', [2, H]);
  const norm = (p) => (add(`${p}.weight`, [H], 1), add(`${p}.bias`, [H], 0));
  const linear = (p, nIn, nOut) => (add(`${p}.weight`, [nOut, nIn]), add(`${p}.bias`, [nOut], 0));
  norm('embeddings.LayerNorm');
  for (let l = 0; l < shape.layers; l++) {
    const p = `encoder.layer.${l}`;
    for (const n of ['query', 'key', 'value']) linear(`${p}.attention.self.${n}`, H, H);
    linear(`${p}.attention.output.dense`, H, H);
    norm(`${p}.attention.output.LayerNorm`);
    linear(`${p}.intermediate.dense`, H, shape.intermediate);
    linear(`${p}.output.dense`, shape.intermediate, H);
    norm(`${p}.output.LayerNorm`);
  }
  return weights;
}

/**
 * A BERT encoder ONNX graph with random weights: inputs input_ids, attention_mask,
 * token_type_ids; output last_hidden_state.
 * @param {BertShape} shape
 * @param {number} vocabSize
 * @returns {Buffer}
 */
export function bertOnnx(shape, vocabSize, seed = 1) {
  return buildEncoderGraph(encoderConfig(bertConfig(shape, vocabSize), 'config.json'), bertWeights(shape, vocabSize, seed), 'model.safetensors').model(17);
}

/**
 * A BERT-shaped model folder (ONNX layout) with a WordPiece vocabulary.
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
    config: bertConfig(shape, vocab.length),
  });
}
