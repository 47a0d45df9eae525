// A NanoBEIR-shaped fixture from shared/data: three small datasets named as NanoBEIR's
// (NanoSciFact from scifact, NanoNFCorpus from cisi, NanoArguAna from cranfield), each 30 queries
// and 300 documents, rows as NanoBEIR publishes them (corpus _id/title/text, queries _id/text,
// qrels query-id/corpus-id without a score), plus an empty document and an empty query that its
// evaluator leaves out; one document per text (no exact score ties). Deterministic: the same
// rows on every machine.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';

export type NanoRow = Record<string, string>;
export interface NanoSet {
  corpus: NanoRow[];
  queries: NanoRow[];
  qrels: NanoRow[];
}

export const NANO_FIXTURE = [
  { name: 'scifact', split: 'NanoSciFact', from: 'scifact' },
  // cisi's queries 5, 12 and 28 left out: each has a relevant and a non-relevant document whose
  // cosines differ by under 1e-7 at some dim (2e-9, 9e-8, 2e-8), where float32 rounding, not any
  // convention, orders them (make_expected.py refuses a fixture with such a pair)
  { name: 'nfcorpus', split: 'NanoNFCorpus', from: 'cisi', skip: ['5', '12', '28'] },
  { name: 'arguana', split: 'NanoArguAna', from: 'cranfield' },
] as const;

const jsonl = (file: string): Array<Record<string, unknown>> =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

/** One NanoBEIR-shaped set from a shared/data folder: the first `q` judged queries, their relevant documents and the corpus's first others up to `d`. */
function nanoSet(folder: string, skip: readonly string[] = [], q = 30, d = 300): NanoSet {
  const corpus = jsonl(join(folder, 'corpus.jsonl'));
  const queries = jsonl(join(folder, 'queries.jsonl'));
  const rows = readFileSync(join(folder, 'qrels', 'test.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  const rel = new Map<string, string[]>();
  for (const line of rows) {
    const [qid, did, score] = line.split('\t');
    if (Number(score) <= 0) continue;
    rel.set(qid, [...(rel.get(qid) ?? []), did]);
  }
  const picked = queries.filter((x) => rel.has(String(x._id)) && !skip.includes(String(x._id))).slice(0, q);
  const wanted = new Set(picked.flatMap((x) => rel.get(String(x._id))!));
  const docs = corpus.filter((x) => wanted.has(String(x._id)));
  for (const x of corpus) {
    if (docs.length >= Math.max(d, wanted.size)) break;
    if (!wanted.has(String(x._id))) docs.push(x);
  }
  // one document per text: equal texts score equal, and sentence-transformers orders exact ties
  // by its heap, which no other implementation reproduces
  const texts = new Set<string>();
  const unique = docs.filter((x) => !texts.has(String(x.text)) && texts.add(String(x.text)));
  docs.splice(0, docs.length, ...unique);
  const inCorpus = new Set(docs.map((x) => String(x._id)));
  return {
    corpus: [
      ...docs.map((x) => ({ _id: String(x._id), title: String(x.title ?? ''), text: String(x.text) })),
      { _id: 'empty-doc', title: 'a title', text: '' },
    ],
    queries: [...picked.map((x) => ({ _id: String(x._id), text: String(x.text) })), { _id: 'empty-query', text: '' }],
    qrels: [
      ...picked.flatMap((x) =>
        rel
          .get(String(x._id))!
          .filter((did) => inCorpus.has(did))
          .map((did) => ({ 'query-id': String(x._id), 'corpus-id': did })),
      ),
      { 'query-id': 'empty-query', 'corpus-id': String(docs[0]._id) },
    ],
  };
}

/** The fixture's sets by split name (NanoSciFact, ...). */
export function nanoFixture(sharedData: string): Record<string, NanoSet> {
  return Object.fromEntries(NANO_FIXTURE.map((f) => [f.split, nanoSet(join(sharedData, f.from), 'skip' in f ? f.skip : [])]));
}

const parquet = (rows: NanoRow[]) => {
  const names = Object.keys(rows[0]);
  return Buffer.from(parquetWriteBuffer({ columnData: names.map((name) => ({ name, type: 'STRING', data: rows.map((r) => r[name]) })) as never }));
};

/** The files of a NanoBEIR-en-shaped repo holding the sets: `<config>/<split>-00000-of-00001.parquet`. */
export function nanoRepoFiles(sets: Record<string, NanoSet>): Record<string, Buffer> {
  const files: Record<string, Buffer> = { 'README.md': Buffer.from('# NanoBEIR-shaped test fixture\n') };
  for (const [split, set] of Object.entries(sets))
    for (const config of ['corpus', 'queries', 'qrels'] as const) files[`${config}/${split}-00000-of-00001.parquet`] = parquet(set[config]);
  return files;
}

/** A MTEB-shaped repo of one set: `corpus/`, `queries/` and `default/test` Parquet, qrels graded (1, and 2 for a query's first). */
export function mtebRepoFiles(set: NanoSet): Record<string, Buffer> {
  const seen = new Set<string>();
  const qrels = set.qrels.map((r) => ({ ...r, score: seen.has(r['query-id']) ? '1' : (seen.add(r['query-id']), '2') }));
  return {
    'corpus/corpus-00000-of-00001.parquet': parquet(set.corpus),
    'queries/queries-00000-of-00001.parquet': parquet(set.queries),
    'default/test-00000-of-00001.parquet': parquet(qrels),
  };
}
