// A small BEIR folder whose texts use the tiny models' vocabulary.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rng } from './shared.js';

const WORDS = ['what', 'is', 'the', 'query', 'doc', 'docs', 'wing', 'lift', 'flow', 'a', 'of'];

export function writeTinyBeir({ docs = 40, queries = 12, wordsPerDoc = 8, seed = 1 } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'emb-tinybeir-'));
  const r = rng(seed);
  const text = (n: number) => Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');
  mkdirSync(join(dir, 'qrels'));
  const corpus = Array.from({ length: docs }, (_, i) => JSON.stringify({ _id: `d${i}`, title: '', text: text(wordsPerDoc) }));
  writeFileSync(join(dir, 'corpus.jsonl'), corpus.join('\n') + '\n');
  writeFileSync(join(dir, 'queries.jsonl'), Array.from({ length: queries }, (_, i) => JSON.stringify({ _id: `q${i}`, text: text(3) })).join('\n') + '\n');
  const qrels = Array.from({ length: queries }, (_, i) => `q${i}\td${(i * 7) % docs}\t1`);
  writeFileSync(join(dir, 'qrels', 'test.tsv'), ['query-id\tcorpus-id\tscore', ...qrels].join('\n') + '\n');
  return dir;
}
