// Texts for the encoding benchmarks: shared/data/scifact's documents when ../shared is there
// (real length distribution), else synthetic documents with a log-normal length distribution
// fitted to it (median ~200 words) over a Zipf vocabulary.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPECIAL_TOKENS } from '../dist/lib/demo/models.js';
import { seededRandom } from '../dist/lib/random.js';

const SHARED = join(new URL('..', import.meta.url).pathname, '..', 'shared');

export function benchTexts(n) {
  const scifact = join(SHARED, 'data', 'scifact', 'corpus.jsonl');
  if (existsSync(scifact)) {
    const docs = readFileSync(scifact, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    return { source: 'shared/data/scifact corpus', texts: docs.slice(0, n).map((d) => (d.title ? `${d.title} ${d.text}`.trim() : d.text)) };
  }
  const u = seededRandom(7);
  const words = Array.from({ length: 5000 }, (_, i) => `w${i.toString(36)}`);
  const texts = Array.from({ length: n }, () => {
    const len = Math.max(5, Math.round(Math.exp(5.3 + 0.5 * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()))));
    return Array.from({ length: len }, () => words[Math.min(words.length - 1, Math.floor(1 / u() ** 0.8) - 1)]).join(' ');
  });
  return { source: 'synthetic (log-normal lengths, Zipf words)', texts };
}

/** A WordPiece vocabulary: special tokens, characters and continuations, then frequent words. */
export function benchVocab(texts, size = 30522) {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('');
  const punct = '.,;:!?()[]{}-_/\'"%+=<>*&#@$'.split('');
  const counts = new Map();
  for (const t of texts) for (const w of t.toLowerCase().match(/[a-z0-9]+/g) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
  const base = [...SPECIAL_TOKENS, ...chars, ...punct, ...chars.map((c) => `##${c}`)];
  const seen = new Set(base);
  const words = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([w]) => w)
    .filter((w) => !seen.has(w));
  return [...base, ...words.slice(0, size - base.length)];
}
