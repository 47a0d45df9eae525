// Parsers under property-based fuzzing: random bytes and random mutations of valid files end
// in a result or a UserError, never another exception.
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadBeir } from '../lib/data/beir.js';
import { npyBytes, parseNpy } from '../lib/data/npy.js';
import { loadPairs, parseCsv } from '../lib/data/pairs.js';
import { UserError } from '../lib/errors.js';

function onlyUserErrors(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    expect(e, String((e as Error)?.stack ?? e)).toBeInstanceOf(UserError);
  }
}
async function onlyUserErrorsAsync(fn: () => Promise<unknown>) {
  try {
    await fn();
  } catch (e) {
    expect(e, String((e as Error)?.stack ?? e)).toBeInstanceOf(UserError);
  }
}

/** Random byte flips, insertions and cuts of a valid input. */
const mutationOf = (valid: Uint8Array) =>
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'cut')), { minLength: 1, maxLength: 8 }).map((edits) => {
    let b = Array.from(valid);
    for (const [pos, byte, kind] of edits) {
      const i = b.length ? pos % b.length : 0;
      if (kind === 'set') b[i] = byte;
      else if (kind === 'insert') b.splice(i, 0, byte);
      else b = b.slice(0, i);
    }
    return Buffer.from(b);
  });

const validNpy = npyBytes({ data: Float32Array.from([1, 2, 3, 4, 5, 6]), rows: 2, cols: 3 });
const validBeir = {
  corpus: '{"_id":"d0","title":"t","text":"wing lift"}\n{"_id":"d1","text":"flow"}\n',
  queries: '{"_id":"q0","text":"what lift"}\n',
  qrels: 'query-id\tcorpus-id\tscore\nq0\td0\t1\n',
};
const validPairs = '{"id":"1","anchor":"a","positive":"b"}\n{"id":"2","anchor":"c","positive":"d"}\n';

describe('fuzzing the parsers', () => {
  it('npy: random bytes and mutations', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyUserErrors(() => parseNpy(Buffer.from(b), 'f.npy'))),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(mutationOf(validNpy), (b) => onlyUserErrors(() => parseNpy(b, 'f.npy'))),
      { numRuns: 1000 },
    );
  });

  it('csv: random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (t) => onlyUserErrors(() => parseCsv(t, 'f.csv'))),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', ',', ';', '"', '\n', '\r', '\t', 'id'), { maxLength: 60 }), (parts) =>
        onlyUserErrors(() => parseCsv(parts.join(''), 'f.csv')),
      ),
      { numRuns: 1000 },
    );
  });

  it('BEIR folders: mutated corpus, queries and qrels', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emb-fuzz-'));
    mkdirSync(join(dir, 'qrels'));
    const file = fc.constantFrom('corpus.jsonl', 'queries.jsonl', 'qrels/test.tsv');
    await fc.assert(
      fc.asyncProperty(file, fc.uint8Array({ maxLength: 8 }), fc.nat(), async (which, bytes, seed) => {
        writeFileSync(join(dir, 'corpus.jsonl'), validBeir.corpus);
        writeFileSync(join(dir, 'queries.jsonl'), validBeir.queries);
        writeFileSync(join(dir, 'qrels', 'test.tsv'), validBeir.qrels);
        const original = Buffer.from(which === 'corpus.jsonl' ? validBeir.corpus : which === 'queries.jsonl' ? validBeir.queries : validBeir.qrels);
        const at = seed % (original.length + 1);
        writeFileSync(join(dir, which), Buffer.concat([original.subarray(0, at), Buffer.from(bytes), original.subarray(at + (seed % 3))]));
        await onlyUserErrorsAsync(async () => loadBeir(dir));
      }),
      { numRuns: 300 },
    );
  });

  it('pairs files: mutated JSONL, JSON, CSV and random Parquet bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emb-fuzzp-'));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('p.jsonl', 'p.json', 'p.csv', 'p.parquet'), mutationOf(Buffer.from(validPairs)), async (name, bytes) => {
        const path = join(dir, name);
        writeFileSync(path, name === 'p.json' ? Buffer.concat([Buffer.from('['), bytes, Buffer.from(']')]) : bytes);
        await onlyUserErrorsAsync(() => loadPairs(path));
      }),
      { numRuns: 400 },
    );
  });
});
