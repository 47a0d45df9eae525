// Writes small sentence-transformers ONNX model folders for tests: a hand-encoded ONNX graph
// (protobuf written here, no onnx package needed) and a WordPiece tokenizer.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// ---- minimal protobuf writer -------------------------------------------------------------
const varint = (n: number | bigint): number[] => {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
};
const key = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, v: number) => [...key(field, 0), ...varint(v)];
const bytes = (field: number, b: Uint8Array | number[]) => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s, 'utf8')]);
const msg = (field: number, parts: number[]) => bytes(field, parts);

const FLOAT = 1;
const INT64 = 7;

function tensor(field: number, name: string, dims: number[], data: Float32Array | BigInt64Array, type: number) {
  return msg(field, [...dims.flatMap((d) => int(1, d)), ...int(2, type), ...str(8, name), ...bytes(9, new Uint8Array(data.buffer))]);
}
function valueInfo(field: number, name: string, type: number, dims: Array<number | string>) {
  const shape = dims.flatMap((d) => msg(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  return msg(field, [...str(1, name), ...msg(2, msg(1, [...int(1, type), ...msg(2, shape)]))]);
}
function node(op: string, inputs: string[], outputs: string[], attrs: number[][] = []) {
  return msg(1, [...inputs.flatMap((i) => str(1, i)), ...outputs.flatMap((o) => str(2, o)), ...str(4, op), ...attrs.flat()]);
}
const intAttr = (name: string, v: number) => msg(5, [...str(1, name), ...int(3, v), ...int(20, 2)]);

// ---- the model ---------------------------------------------------------------------------
export interface TinyModel {
  dir: string;
  vocab: string[];
  wordVectors: Float32Array; // [vocab x width]
  typeVectors: Float32Array; // [2 x width]
  width: number;
}

export interface TinyModelOptions {
  width?: number;
  seed?: number;
  tokenTypes?: boolean; // a token_type_ids input
  sentenceEmbedding?: boolean; // output [CLS] row as sentence_embedding (else last_hidden_state)
  pooling?: string; // 1_Pooling mode when there is no sentence_embedding output
  queryPrompt?: string;
  normalize?: boolean;
  includePrompt?: boolean;
  /** Name of the token output (default last_hidden_state): another name is a graph users cannot use. */
  outputName?: string;
  /** Rows of the embedding table (default: the vocabulary): fewer makes inference fail on later ids. */
  tableRows?: number;
}

export const TINY_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'what', 'is', 'the', 'query', 'doc', '##s', 'wing', 'lift', 'flow', ':', 'a', 'of'];

/** last_hidden_state[b, t] = tanh(word[id] + type[token_type]) ; sentence_embedding = row t = 0. */
export function writeTinyModel(dir: string, o: TinyModelOptions = {}): TinyModel {
  const width = o.width ?? 8;
  let s = o.seed ?? 1;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const rows = o.tableRows ?? TINY_VOCAB.length;
  const wordVectors = Float32Array.from({ length: rows * width }, rand);
  const typeVectors = Float32Array.from({ length: 2 * width }, rand);
  const nodes = [node('Gather', ['word_embeddings', 'input_ids'], ['words'], [intAttr('axis', 0)])];
  let hidden = 'words';
  if (o.tokenTypes) {
    nodes.push(node('Gather', ['type_embeddings', 'token_type_ids'], ['types'], [intAttr('axis', 0)]));
    nodes.push(node('Add', ['words', 'types'], ['summed']));
    hidden = 'summed';
  }
  const tokenOutput = o.outputName ?? 'last_hidden_state';
  nodes.push(node('Tanh', [hidden], [tokenOutput]));
  const outputs = [valueInfo(12, tokenOutput, FLOAT, ['batch', 'sequence', width])];
  const initializers = [tensor(5, 'word_embeddings', [rows, width], wordVectors, FLOAT)];
  if (o.tokenTypes) initializers.push(tensor(5, 'type_embeddings', [2, width], typeVectors, FLOAT));
  if (o.sentenceEmbedding) {
    initializers.push(tensor(5, 'cls_index', [], BigInt64Array.from([0n]), INT64));
    nodes.push(node('Gather', [tokenOutput, 'cls_index'], ['sentence_embedding'], [intAttr('axis', 1)]));
    outputs.push(valueInfo(12, 'sentence_embedding', FLOAT, ['batch', width]));
  }
  const inputs = [valueInfo(11, 'input_ids', INT64, ['batch', 'sequence']), valueInfo(11, 'attention_mask', INT64, ['batch', 'sequence'])];
  if (o.tokenTypes) inputs.push(valueInfo(11, 'token_type_ids', INT64, ['batch', 'sequence']));
  const graph = msg(7, [...nodes.flat(), ...str(2, 'tiny'), ...initializers.flat(), ...inputs.flat(), ...outputs.flat()]);
  const model = [...int(1, 8), ...str(2, 'emb-bench-tests'), ...graph, ...msg(8, [...str(1, ''), ...int(2, 17)])];

  mkdirSync(join(dir, 'onnx'), { recursive: true });
  mkdirSync(join(dir, '1_Pooling'), { recursive: true });
  writeFileSync(join(dir, 'onnx', 'model.onnx'), Uint8Array.from(model));
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({
    version: '1.0', truncation: null, padding: null,
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]'].map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(TINY_VOCAB.map((t, i) => [t, i])) },
  }));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 512, do_lower_case: true }));
  writeFileSync(join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: 6, do_lower_case: false }));
  writeFileSync(join(dir, 'config_sentence_transformers.json'), JSON.stringify({ prompts: o.queryPrompt ? { query: o.queryPrompt, document: '' } : {}, similarity_fn_name: 'cosine' }));
  const mode = o.pooling ?? 'cls';
  writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({
    word_embedding_dimension: width,
    pooling_mode_cls_token: mode === 'cls', pooling_mode_mean_tokens: mode === 'mean', pooling_mode_max_tokens: mode === 'max',
    pooling_mode_mean_sqrt_len_tokens: mode === 'mean_sqrt_len_tokens', pooling_mode_weightedmean_tokens: mode === 'weightedmean',
    pooling_mode_lasttoken: mode === 'lasttoken', include_prompt: o.includePrompt ?? true,
  }));
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  if (o.normalize) modules.push({ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' });
  writeFileSync(join(dir, 'modules.json'), JSON.stringify(modules));
  return { dir, vocab: TINY_VOCAB, wordVectors, typeVectors, width };
}
