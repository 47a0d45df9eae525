// A self-contained demo of the main job: a synthetic retrieval set where queries say things
// with synonyms of their document's words, a "base" model that knows no synonyms (random word
// vectors) and a "fine-tuned" one that learned them, with Matryoshka-shaped vectors (early
// components carry most of the signal). No downloads: everything is written here.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLOAT, Graph, INT64, intAttr } from '../onnx/writer.js';
import { gaussianArray, seededRandom } from '../random.js';
import { SPECIAL_TOKENS, writeModelFolder } from './models.js';

export interface DemoSetup {
  data: string;
  base: string;
  tuned: string;
  dims: number[];
}

const WIDTH = 64;

function lookupModel(vectors: Float32Array, vocabSize: number): Buffer {
  const g = new Graph();
  g.input('input_ids', INT64, ['batch', 'sequence']);
  g.input('attention_mask', INT64, ['batch', 'sequence']);
  g.op('Gather', [g.tensor('word_embeddings', [vocabSize, WIDTH], vectors), 'input_ids'], [intAttr('axis', 0)], 'last_hidden_state');
  g.output('last_hidden_state', FLOAT, ['batch', 'sequence', WIDTH]);
  return g.model(17);
}

export function writeDemo(dir: string, { concepts = 3000, docs = 3000, queries = 300, seed = 7 } = {}): DemoSetup {
  const u = seededRandom(seed);
  const pick = (n: number) => Math.floor(u() * n);
  // vocabulary: special tokens, then a document word and a query synonym per concept
  const vocab = [...SPECIAL_TOKENS, ...Array.from({ length: concepts }, (_, i) => `doc${i}`), ...Array.from({ length: concepts }, (_, i) => `syn${i}`)];
  const docWord = (c: number) => SPECIAL_TOKENS.length + c;
  const synWord = (c: number) => SPECIAL_TOKENS.length + concepts + c;

  const docConcepts = Array.from({ length: docs }, () => Array.from({ length: 12 }, () => pick(concepts)));
  const corpus = docConcepts.map((cs, i) => ({ _id: `d${i}`, title: '', text: cs.map((c) => `doc${c}`).join(' ') }));
  const targets = Array.from({ length: queries }, (_, q) => (q * 7919) % docs);
  const queryRows = targets.map((d, q) => ({
    _id: `q${q}`,
    // mostly synonyms (only a model that learned them can match), sometimes the document's word
    text: Array.from({ length: 4 }, () => {
      const c = docConcepts[d][pick(12)];
      return u() < 0.4 ? `doc${c}` : `syn${c}`;
    }).join(' '),
  }));

  const data = join(dir, 'synthetic-synonyms');
  mkdirSync(join(data, 'qrels'), { recursive: true });
  writeFileSync(join(data, 'corpus.jsonl'), corpus.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(join(data, 'queries.jsonl'), queryRows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(join(data, 'qrels', 'test.tsv'), ['query-id\tcorpus-id\tscore', ...targets.map((d, q) => `q${q}\td${d}\t1`)].join('\n') + '\n');

  // Matryoshka shape: component j scaled by 1/sqrt(1 + j/4)
  const scale = (v: Float32Array) => {
    for (let i = 0; i < v.length; i++) v[i] *= 1 / Math.sqrt(1 + (i % WIDTH) / 4);
    return v;
  };
  const base = scale(gaussianArray(vocab.length * WIDTH, seed, 1));
  const tuned = Float32Array.from(base);
  const noise = gaussianArray(concepts * WIDTH, seed + 1, 0.35);
  for (let c = 0; c < concepts; c++)
    for (let j = 0; j < WIDTH; j++) tuned[synWord(c) * WIDTH + j] = tuned[docWord(c) * WIDTH + j] + noise[c * WIDTH + j] / Math.sqrt(1 + j / 4);
  for (const vectors of [base, tuned]) vectors.fill(0, 0, SPECIAL_TOKENS.length * WIDTH); // [CLS]/[SEP] add nothing

  const models = { base: join(dir, 'models', 'base'), tuned: join(dir, 'models', 'fine-tuned') };
  writeModelFolder(models.base, lookupModel(base, vocab.length), vocab, { width: WIDTH, maxSeqLength: 64, pooling: 'mean' });
  writeModelFolder(models.tuned, lookupModel(tuned, vocab.length), vocab, { width: WIDTH, maxSeqLength: 64, pooling: 'mean' });
  return { data, base: models.base, tuned: models.tuned, dims: [64, 32, 16, 8] };
}
