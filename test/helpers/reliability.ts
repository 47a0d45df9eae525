// Small models, texts and cache probes that the reliability tests share.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Encoder } from '../../lib/encode/encoder.js';
import { rng } from './shared.js';
import { TINY_VOCAB, writeTinyModel } from './tiny-model.js';

export const tmp = (prefix = 'emb-rel-') => mkdtempSync(join(tmpdir(), prefix));
export const model = (o = {}) => writeTinyModel(tmp('emb-m-'), { pooling: 'mean', ...o }).dir;
export const texts = (n: number, seed = 1) => {
  const r = rng(seed);
  const words = TINY_VOCAB.slice(4).filter((w) => !w.startsWith('#'));
  return Array.from({ length: n }, () => Array.from({ length: 2 + Math.floor(r() * 8) }, () => words[Math.floor(r() * words.length)]).join(' '));
};
/** The embedding cache's segment files under `dir`. */
export const segments = (dir: string) =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(seg|part)$/.test(f))
    .map((f) => join(dir, f));

/** Encodes `input` as documents with a fresh encoder on `cacheDir`; the vectors and how many were inferred. */
export async function encodeWith(modelDir: string, input: string[], cacheDir: string | null, warnings: string[] = []) {
  const enc = await Encoder.load(modelDir, { cacheDir, onWarning: (w) => warnings.push(w) });
  try {
    const m = await enc.encode(input, { kind: 'document' });
    return { data: m.data, inferred: enc.inferred };
  } finally {
    await enc.close();
  }
}
