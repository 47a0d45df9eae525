// Pairs files (ZenML's and Hugging Face's shape) read the same in every format, Parquet included
// as Hugging Face datasets writes it (INT64 ids, Snappy pages, several row groups).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { loadPairs } from '../lib/data/pairs.js';
import { UserError } from '../lib/errors.js';

const rows = [
  { id: 10, anchor: 'what is lift', positive: 'lift is the force, "up"' },
  { id: 11, anchor: 'how, exactly, does a wing work', positive: 'a wing\nbends the flow' },
  { id: 12, anchor: 'é ü 中文', positive: 'unicode text ✓' },
  { id: 13, anchor: 'drag', positive: 'drag; the other force' },
  { id: 14, anchor: 'flow', positive: 'laminar flow' },
];

function write(name: string, data: string | ArrayBuffer): string {
  const path = join(mkdtempSync(join(tmpdir(), 'emb-pairs-')), name);
  writeFileSync(path, typeof data === 'string' ? data : Buffer.from(data));
  return path;
}

const csvCell = (s: string) => `"${s.replace(/"/g, '""')}"`;

function parquet(columns: Array<{ name: string; data: unknown[]; type?: string }>): ArrayBuffer {
  return parquetWriteBuffer({ columnData: columns as never, rowGroupSize: 2 });
}

describe('pairs files', () => {
  it('JSONL, JSON, CSV and Parquet (INT64 ids, Snappy, row groups of 2) give the same dataset', async () => {
    const files = {
      jsonl: write('p.jsonl', rows.map((r) => JSON.stringify(r)).join('\n') + '\n'),
      json: write('p.json', JSON.stringify(rows)),
      csv: write('p.csv', ['id,anchor,positive', ...rows.map((r) => [r.id, csvCell(r.anchor), csvCell(r.positive)].join(','))].join('\n') + '\n'),
      parquet: write(
        'p.parquet',
        parquet([
          { name: 'id', data: rows.map((r) => BigInt(r.id)), type: 'INT64' },
          { name: 'anchor', data: rows.map((r) => r.anchor), type: 'STRING' },
          { name: 'positive', data: rows.map((r) => r.positive), type: 'STRING' },
        ]),
      ),
    };
    const loaded = await Promise.all(Object.values(files).map((f) => loadPairs(f)));
    const shape = (d: Awaited<ReturnType<typeof loadPairs>>) => ({ queries: d.queries, corpus: d.corpus, qrels: [...d.qrels].map(([q, s]) => [q, [...s]]) });
    expect(shape(loaded[0])).toEqual({
      queries: { ids: rows.map((r) => String(r.id)), texts: rows.map((r) => r.anchor) },
      corpus: { ids: rows.map((r) => String(r.id)), texts: rows.map((r) => r.positive) },
      qrels: rows.map((r) => [String(r.id), [String(r.id)]]),
    });
    for (const d of loaded.slice(1)) expect(shape(d)).toEqual(shape(loaded[0]));
  });

  it('a Parquet row with a null or non-text field is a one-line UserError naming the row', async () => {
    const nullText = write(
      'n.parquet',
      parquet([
        { name: 'id', data: [1n, 2n, 3n], type: 'INT64' },
        { name: 'anchor', data: ['a', 'b', 'c'], type: 'STRING' },
        { name: 'positive', data: ['x', null, 'z'], type: 'STRING' },
      ]),
    );
    await expect(loadPairs(nullText)).rejects.toThrow(UserError);
    await expect(loadPairs(nullText)).rejects.toThrow(/n\.parquet: row 2: field "positive" must be a string, got null/);
    const boolId = write(
      'b.parquet',
      parquet([
        { name: 'id', data: [true, false], type: 'BOOLEAN' },
        { name: 'anchor', data: ['a', 'b'], type: 'STRING' },
        { name: 'positive', data: ['x', 'y'], type: 'STRING' },
      ]),
    );
    await expect(loadPairs(boolId)).rejects.toThrow(/b\.parquet: row 1: field "id" must be a string, got true/);
  });

  it('other field names, as --query-field/--doc-field/--id-field give them', async () => {
    const path = write(
      'f.parquet',
      parquet([
        { name: 'qid', data: ['a', 'b'], type: 'STRING' },
        { name: 'question', data: ['q a', 'q b'], type: 'STRING' },
        { name: 'context', data: ['d a', 'd b'], type: 'STRING' },
      ]),
    );
    const d = await loadPairs(path, { fields: { queryField: 'question', docField: 'context', idField: 'qid' } });
    expect(d.queries.texts).toEqual(['q a', 'q b']);
    expect(d.corpus.texts).toEqual(['d a', 'd b']);
  });
});
