// Small sentence-transformers ONNX model folders for tests, built with lib/demo's ONNX writer:
// last_hidden_state[b, t] = tanh(word[id] + type[token_type]); sentence_embedding = row t = 0.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLOAT, Graph, INT64, intAttr } from '../../lib/onnx/writer.js';
import { writeModelFolder } from '../../lib/demo/models.js';
import { seededRandom } from '../../lib/random.js';

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
  pooling?: string; // 1_Pooling mode
  queryPrompt?: string;
  normalize?: boolean;
  includePrompt?: boolean;
  /** Name of the token output (default last_hidden_state): another name is a graph users cannot use. */
  outputName?: string;
  /** Rows of the embedding table (default: the vocabulary): fewer makes inference fail on later ids. */
  tableRows?: number;
  /** A vocabulary word whose vector is NaN: a broken model. */
  nanWord?: string;
  /** Save the weights (those over 1 KiB) as ONNX external data in this file beside onnx/model.onnx. */
  externalData?: string;
}

export const TINY_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'what', 'is', 'the', 'query', 'doc', '##s', 'wing', 'lift', 'flow', ':', 'a', 'of'];

export function writeTinyModel(dir: string, o: TinyModelOptions = {}): TinyModel {
  const width = o.width ?? 8;
  const u = seededRandom(o.seed ?? 1);
  const rand = () => u() * 2 - 1;
  const rows = o.tableRows ?? TINY_VOCAB.length;
  const wordVectors = Float32Array.from({ length: rows * width }, rand);
  if (o.nanWord) wordVectors.fill(NaN, TINY_VOCAB.indexOf(o.nanWord) * width, (TINY_VOCAB.indexOf(o.nanWord) + 1) * width);
  const typeVectors = Float32Array.from({ length: 2 * width }, rand);
  const g = new Graph();
  g.input('input_ids', INT64, ['batch', 'sequence']);
  g.input('attention_mask', INT64, ['batch', 'sequence']);
  let hidden = g.op('Gather', [g.tensor('word_embeddings', [rows, width], wordVectors), 'input_ids'], [intAttr('axis', 0)]);
  if (o.tokenTypes) {
    g.input('token_type_ids', INT64, ['batch', 'sequence']);
    hidden = g.op('Add', [hidden, g.op('Gather', [g.tensor('type_embeddings', [2, width], typeVectors), 'token_type_ids'], [intAttr('axis', 0)])]);
  }
  const tokenOutput = g.op('Tanh', [hidden], [], o.outputName ?? 'last_hidden_state');
  g.output(tokenOutput, FLOAT, ['batch', 'sequence', width]);
  if (o.sentenceEmbedding) {
    g.op('Gather', [tokenOutput, g.tensor('cls_index', [], BigInt64Array.from([0n]))], [intAttr('axis', 1)], 'sentence_embedding');
    g.output('sentence_embedding', FLOAT, ['batch', width]);
  }
  let onnx: Buffer;
  if (o.externalData) {
    const { model, data } = g.model(17, o.externalData);
    onnx = model;
    mkdirSync(join(dir, 'onnx'), { recursive: true });
    writeFileSync(join(dir, 'onnx', o.externalData), Buffer.concat(data));
  } else onnx = g.model(17);
  writeModelFolder(dir, onnx, TINY_VOCAB, {
    width,
    maxSeqLength: 6,
    pooling: o.pooling ?? 'cls',
    includePrompt: o.includePrompt,
    normalize: o.normalize,
    prompts: o.queryPrompt ? { query: o.queryPrompt, document: '' } : {},
  });
  return { dir, vocab: TINY_VOCAB, wordVectors, typeVectors, width };
}
