// A self-contained demo: a synthetic BEIR dataset with Matryoshka-shaped embeddings (early
// components carry most of the signal), written to a folder and scored like real data.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeNpy } from '../data/npy.js';
import type { Matrix } from '../data/matrix.js';

function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

export interface DemoData {
  dir: string;
  queryEmbeddings: string;
  corpusEmbeddings: string;
}

/** Writes corpus.jsonl, queries.jsonl, qrels/test.tsv and both .npy files under `dir`. */
export function writeDemoData(dir: string, { docs = 20000, queries = 500, width = 768, seed = 42 } = {}): DemoData {
  const g = gaussian(seed);
  const scale = Float32Array.from({ length: width }, (_, j) => 1 / Math.sqrt(1 + j / 32));
  const corpus: Matrix = { data: new Float32Array(docs * width), rows: docs, cols: width };
  for (let i = 0; i < corpus.data.length; i++) corpus.data[i] = g() * scale[i % width];
  const query: Matrix = { data: new Float32Array(queries * width), rows: queries, cols: width };
  const relevant: number[] = [];
  for (let q = 0; q < queries; q++) {
    const doc = (q * 7919) % docs;
    relevant.push(doc);
    for (let j = 0; j < width; j++) query.data[q * width + j] = corpus.data[doc * width + j] + 2.5 * g() * scale[j];
  }
  mkdirSync(join(dir, 'qrels'), { recursive: true });
  writeFileSync(join(dir, 'corpus.jsonl'), Array.from({ length: docs }, (_, i) => JSON.stringify({ _id: `d${i}`, title: '', text: `document ${i}` })).join('\n') + '\n');
  writeFileSync(join(dir, 'queries.jsonl'), Array.from({ length: queries }, (_, i) => JSON.stringify({ _id: `q${i}`, text: `query ${i}` })).join('\n') + '\n');
  writeFileSync(join(dir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\n' + relevant.map((d, q) => `q${q}\td${d}\t1`).join('\n') + '\n');
  const out = { dir, queryEmbeddings: join(dir, 'query_embeddings.npy'), corpusEmbeddings: join(dir, 'corpus_embeddings.npy') };
  writeNpy(out.queryEmbeddings, query);
  writeNpy(out.corpusEmbeddings, corpus);
  return out;
}
