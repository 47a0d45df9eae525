// The encoder graph of a transformers checkpoint, built in process from config.json and the
// safetensors weights, so a model saved by sentence-transformers' trainer (no ONNX file) runs
// in onnxruntime as it is. Families: BERT (BertModel: bge, e5, gte, MiniLM, arctic-embed-m) and
// RoBERTa / XLM-RoBERTa (position ids counted from padding_idx + 1). The graph is the plain
// operator sequence of transformers' eager forward pass (post-LayerNorm, exact GELU); the
// session's graph optimiser fuses it (LayerNorm, GELU, MatMul+Add) as it does an exported one.
import { UserError } from '../errors.js';
import type { Tensor } from './safetensors.js';
import { FLOAT, floatAttr, Graph, INT64, intAttr, intsAttr } from './writer.js';

/** Bumped whenever the graph built from the same weights changes (it keys the graph cache). */
export const GRAPH_VERSION = 1;

export const SUPPORTED_ARCHITECTURES = ['BertModel', 'RobertaModel', 'XLMRobertaModel'];

export interface EncoderConfig {
  family: 'bert' | 'roberta';
  hidden: number;
  heads: number;
  layers: number;
  intermediate: number;
  eps: number;
  /** RoBERTa: positions start at padding_idx + 1. */
  positionOffset: number;
  typeVocab: number;
}

/** What config.json says, checked; `where` names the file in errors. */
export function encoderConfig(config: Record<string, unknown>, where: string): EncoderConfig {
  const archs = Array.isArray(config.architectures) ? (config.architectures as string[]) : [];
  const type = String(config.model_type ?? '');
  const family = type === 'bert' ? 'bert' : type === 'roberta' || type === 'xlm-roberta' ? 'roberta' : null;
  if (!family)
    throw new UserError(
      `${where}: architectures [${archs.join(', ')}] (model_type "${type}") cannot be built without an ONNX export; emb-bench builds ${SUPPORTED_ARCHITECTURES.join(', ')}. ` +
        'Export ONNX (optimum-cli export onnx --model DIR --task feature-extraction DIR/onnx) and point emb-bench at that folder',
      'ERR_MODEL_CONFIG',
    );
  const int = (key: string, fallback?: number) => {
    const v = config[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw new UserError(`${where}: ${key} must be a positive integer, got ${JSON.stringify(v)}`, 'ERR_MODEL_CONFIG');
    return v;
  };
  const act = String(config.hidden_act ?? 'gelu');
  if (act !== 'gelu') throw new UserError(`${where}: hidden_act "${act}" is not supported (emb-bench builds exact GELU)`, 'ERR_MODEL_CONFIG');
  const posType = String(config.position_embedding_type ?? 'absolute');
  if (posType !== 'absolute') throw new UserError(`${where}: position_embedding_type "${posType}" is not supported (absolute only)`, 'ERR_MODEL_CONFIG');
  const hidden = int('hidden_size');
  const heads = int('num_attention_heads');
  if (hidden % heads !== 0) throw new UserError(`${where}: hidden_size ${hidden} is not a multiple of num_attention_heads ${heads}`, 'ERR_MODEL_CONFIG');
  const pad = config.pad_token_id;
  return {
    family,
    hidden,
    heads,
    layers: int('num_hidden_layers'),
    intermediate: int('intermediate_size'),
    eps: typeof config.layer_norm_eps === 'number' ? config.layer_norm_eps : 1e-12,
    positionOffset: family === 'roberta' ? (typeof pad === 'number' ? pad : 1) + 1 : 0,
    typeVocab: int('type_vocab_size', 2),
  };
}

function transpose(t: Tensor): Float32Array {
  const [rows, cols] = t.shape;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c];
  return out;
}

/**
 * The ONNX encoder: inputs input_ids, attention_mask (and token_type_ids when the model has
 * more than one token type); output last_hidden_state [batch, sequence, hidden]. Serialise it
 * with `model(17)`, or with external data for weights past protobuf's 2 GiB.
 */
export function buildEncoderGraph(cfg: EncoderConfig, weights: Map<string, Tensor>, where: string, onWarning?: (message: string) => void): Graph {
  // Checkpoints of task heads carry a prefix (bert., roberta.); the encoder's names are the same below it.
  const prefix = ['', 'bert.', 'roberta.', 'model.'].find((p) => weights.has(`${p}embeddings.word_embeddings.weight`));
  if (prefix === undefined) throw new UserError(`${where}: no embeddings.word_embeddings.weight tensor: not a BERT-family checkpoint`, 'ERR_MODEL_CONFIG');
  const used = new Set<string>();
  const get = (name: string, shape: number[]): Tensor => {
    const t = weights.get(prefix + name);
    used.add(prefix + name);
    if (!t) throw new UserError(`${where}: tensor ${prefix}${name} is missing (or not float32, float16 or bfloat16)`, 'ERR_MODEL_CONFIG');
    if (t.shape.length !== shape.length || t.shape.some((d, i) => shape[i] >= 0 && d !== shape[i]))
      throw new UserError(`${where}: tensor ${prefix}${name} has shape [${t.shape}], expected [${shape.map((d) => (d < 0 ? '?' : d))}]`, 'ERR_MODEL_CONFIG');
    return t;
  };
  const H = cfg.hidden;
  const dh = H / cfg.heads;
  const g = new Graph();
  const w = (name: string, shape: number[]) => g.tensor(name, get(name, shape).shape, get(name, shape).data);
  const wT = (name: string, outDim: number, inDim: number) => g.tensor(`${name}.T`, [inDim, outDim], transpose(get(name, [outDim, inDim])));
  const c = (name: string, values: number[]) => g.tensor(name, [values.length], Float32Array.from(values));
  const ci = (name: string, values: number[], dims = [values.length]) => g.tensor(name, dims, BigInt64Array.from(values.map(BigInt)));

  g.input('input_ids', INT64, ['batch', 'sequence']);
  g.input('attention_mask', INT64, ['batch', 'sequence']);
  const withTypes = cfg.typeVocab > 1;
  if (withTypes) g.input('token_type_ids', INT64, ['batch', 'sequence']);
  ci('zero', [0], []);
  ci('one', [1], []);
  ci('axis1', [1], []);
  ci('position_offset', [cfg.positionOffset], []);

  const layerNorm = (x: string, p: string) =>
    g.op('LayerNormalization', [x, w(`${p}.weight`, [H]), w(`${p}.bias`, [H])], [intAttr('axis', -1), floatAttr('epsilon', cfg.eps)]);
  const linear = (x: string, p: string, inDim: number, outDim: number) =>
    g.op('Add', [g.op('MatMul', [x, wT(`${p}.weight`, outDim, inDim)]), w(`${p}.bias`, [outDim])]);

  // embeddings: word + position + token type, then LayerNorm
  const seq = g.op('Gather', [g.op('Shape', ['input_ids']), 'axis1'], [intAttr('axis', 0)]);
  const positions = g.op('Add', [g.op('Range', ['zero', seq, 'one']), 'position_offset']);
  let h = g.op('Add', [
    g.op('Gather', [w('embeddings.word_embeddings.weight', [-1, H]), 'input_ids']),
    g.op('Gather', [w('embeddings.position_embeddings.weight', [-1, H]), positions]),
  ]);
  const types = get('embeddings.token_type_embeddings.weight', [cfg.typeVocab, H]);
  h = withTypes
    ? g.op('Add', [h, g.op('Gather', [w('embeddings.token_type_embeddings.weight', [cfg.typeVocab, H]), 'token_type_ids'])])
    : g.op('Add', [h, g.tensor('token_type_row0', [H], types.data.subarray(0, H))]);
  h = layerNorm(h, 'embeddings.LayerNorm');

  // additive attention mask [batch, 1, 1, seq]: 0 for tokens, float32's lowest for padding (as transformers does)
  const maskF = g.op('Cast', ['attention_mask'], [intAttr('to', FLOAT)]);
  const mask = g.op('Mul', [g.op('Sub', [c('onef', [1]), g.op('Unsqueeze', [maskF, ci('mask_axes', [1, 2])])]), c('lowest', [-3.4028234663852886e38])]);
  const headsShape = ci('heads_shape', [0, 0, cfg.heads, dh]);
  const mergedShape = ci('merged_shape', [0, 0, H]);
  const scale = c('scale', [1 / Math.sqrt(dh)]);
  for (let l = 0; l < cfg.layers; l++) {
    const p = `encoder.layer.${l}`;
    const split = (x: string, perm: number[]) => g.op('Transpose', [g.op('Reshape', [x, headsShape])], [intsAttr('perm', perm)]);
    const q = split(linear(h, `${p}.attention.self.query`, H, H), [0, 2, 1, 3]);
    const k = split(linear(h, `${p}.attention.self.key`, H, H), [0, 2, 3, 1]);
    const v = split(linear(h, `${p}.attention.self.value`, H, H), [0, 2, 1, 3]);
    const probs = g.op('Softmax', [g.op('Add', [g.op('Mul', [g.op('MatMul', [q, k]), scale]), mask])], [intAttr('axis', -1)]);
    const context = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, v])], [intsAttr('perm', [0, 2, 1, 3])]), mergedShape]);
    const attended = layerNorm(g.op('Add', [linear(context, `${p}.attention.output.dense`, H, H), h]), `${p}.attention.output.LayerNorm`);
    const up = linear(attended, `${p}.intermediate.dense`, H, cfg.intermediate);
    const gelu = g.op('Mul', [
      g.op('Mul', [up, c(`${p}.half`, [0.5])]),
      g.op('Add', [g.op('Erf', [g.op('Div', [up, c(`${p}.sqrt2`, [Math.SQRT2])])]), c(`${p}.onef`, [1])]),
    ]);
    h = layerNorm(g.op('Add', [linear(gelu, `${p}.output.dense`, cfg.intermediate, H), attended]), `${p}.output.LayerNorm`);
  }
  g.op('Identity', [h], [], 'last_hidden_state');
  g.output('last_hidden_state', FLOAT, ['batch', 'sequence', H]);
  // Weights the config leaves out (more layers in the checkpoint than num_hidden_layers says)
  // would make another model than the one trained: said, not silent.
  const unused = [...weights.keys()].filter((k) => k.startsWith(prefix) && !used.has(k));
  if (unused.length)
    onWarning?.(
      `${where}: ${unused.length} tensor(s) of the checkpoint are not used by the model config.json describes (${unused.slice(0, 3).join(', ')}${unused.length > 3 ? ', ...' : ''}); check num_hidden_layers and the architecture`,
    );
  return g;
}

/** Rows of the position table the tokenizer's max_seq_length may use. */
export function maxPositions(cfg: EncoderConfig, weights: Map<string, Tensor>): number {
  for (const p of ['', 'bert.', 'roberta.', 'model.']) {
    const t = weights.get(`${p}embeddings.position_embeddings.weight`);
    if (t) return t.shape[0] - cfg.positionOffset;
  }
  return 0;
}
