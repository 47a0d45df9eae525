// BEIR folders: corpus.jsonl (_id, title, text), queries.jsonl (_id, text), qrels/<split>.tsv.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { invalidParameter, UserError } from '../errors.js';
import type { Dataset, Texts } from './dataset.js';
import { field, readJsonl, readText } from './read.js';

/** A row of a data file and where it is (file and line or row), for errors. */
export type Row = { where: string; row: Record<string, unknown> };

/** How a BEIR-shaped source's texts are read. */
export interface BeirTextRules {
  /** A document's text is `title + " " + text` (BEIR, MTEB); false: `text` alone (NanoBEIR's evaluator). */
  titles: boolean;
  /** Queries and documents with an empty text are left out (NanoBEIR's evaluator). */
  dropEmpty: boolean;
}
const BEIR_RULES: BeirTextRules = { titles: true, dropEmpty: false };

/** Texts by id from `_id` / `text` (/ `title`) rows; ids must be unique. */
export function textsOf(rows: Row[], rules: BeirTextRules, withTitle: boolean): Texts {
  const ids: string[] = [];
  const texts: string[] = [];
  const seen = new Map<string, string>();
  for (const { where, row } of rows) {
    const id = field(row, '_id', where);
    const text = field(row, 'text', where);
    const title = withTitle && rules.titles ? field(row, 'title', where, true) : '';
    const first = seen.get(id);
    if (first !== undefined) throw new UserError(`${where}: duplicate id "${id}" (first at ${first})`, 'ERR_DUPLICATE_ID');
    seen.set(id, where);
    // The BEIR / MTEB convention for a document's text.
    const full = title ? `${title} ${text}`.trim() : text;
    if (rules.dropEmpty && full.length === 0) continue;
    ids.push(id);
    texts.push(full);
  }
  return { ids, texts };
}

const jsonlRows = (path: string, what: string): Row[] => readJsonl(path, what).map(({ line, row }) => ({ where: `${path}:${line}`, row }));

/** A qrels TSV (query-id, corpus-id, score; an optional header) as rows. */
export function tsvQrelsRows(path: string): Row[] {
  const rows: Row[] = [];
  readText(path, 'qrels')
    .split('\n')
    .forEach((raw, i) => {
      const text = raw.replace(/\r$/, '');
      if (text.trim() === '') return;
      const cols = text.split('\t');
      const where = `${path}:${i + 1}`;
      if (i === 0 && !/^-?\d+(\.\d+)?$/.test((cols[2] ?? '').trim())) return; // header row
      if (cols.length < 3) throw new UserError(`${where}: expected 3 tab-separated columns (query-id, corpus-id, score), found ${cols.length}`, 'ERR_QRELS');
      const [qid, did, score] = cols.map((c) => c.trim());
      rows.push({ where, row: { 'query-id': qid, 'corpus-id': did, score } });
    });
  return rows;
}

/**
 * Judgments from qrels rows (`query-id`, `corpus-id`, `score`; a missing score column means 1, as
 * NanoBEIR's qrels have none): relevant sets (score > 0) and every row's grade, for queries in
 * `queryIds`. `file` names the source in warnings.
 */
export function qrelsOf(
  rows: Row[],
  queryIds: Set<string>,
  corpusIds: Set<string>,
  file: string,
  names = { queries: 'the queries', corpus: 'the corpus' },
): { qrels: Map<string, Set<string>>; grades: Map<string, Map<string, number>>; warnings: string[] } {
  const qrels = new Map<string, Set<string>>();
  const grades = new Map<string, Map<string, number>>();
  let unknownQueries = 0;
  let unknownDocs = 0;
  for (const { where, row } of rows) {
    const qid = field(row, 'query-id', where);
    const did = field(row, 'corpus-id', where);
    const raw = row.score;
    const score = raw === undefined || raw === null ? 1 : typeof raw === 'bigint' ? Number(raw) : Number(raw);
    if ((typeof raw === 'string' && raw.trim() === '') || !Number.isFinite(score))
      throw new UserError(`${where}: score "${String(raw)}" is not a number`, 'ERR_QRELS');
    if (!queryIds.has(qid)) {
      unknownQueries++;
      continue;
    }
    if (!corpusIds.has(did)) unknownDocs++;
    let judged = grades.get(qid);
    if (!judged) grades.set(qid, (judged = new Map()));
    judged.set(did, score);
    if (score <= 0) continue; // judged, not relevant
    let set = qrels.get(qid);
    if (!set) qrels.set(qid, (set = new Set()));
    set.add(did);
  }
  const warnings: string[] = [];
  if (unknownQueries) warnings.push(`${file}: ${unknownQueries} qrels rows name a query id not in ${names.queries} (ignored)`);
  if (unknownDocs)
    warnings.push(`${file}: ${unknownDocs} qrels rows name a document id not in ${names.corpus} (still counted as relevant, as sentence-transformers does)`);
  return { qrels, grades, warnings };
}

/** A BEIR-shaped dataset from its three tables' rows. */
export function beirDataset(
  parts: { corpus: Row[]; queries: Row[]; qrels: Row[] },
  where: { name: string; source: string; split: string; corpus: string; queries: string; qrels: string },
  rules: BeirTextRules = BEIR_RULES,
): Dataset {
  const corpus = textsOf(parts.corpus, rules, true);
  const queries = textsOf(parts.queries, rules, false);
  if (corpus.ids.length === 0) throw new UserError(`${where.corpus}: the corpus is empty`, 'ERR_EMPTY');
  const names = { queries: basename(where.queries), corpus: basename(where.corpus) };
  const { qrels, grades, warnings } = qrelsOf(parts.qrels, new Set(queries.ids), new Set(corpus.ids), where.qrels, names);
  if (qrels.size === 0) throw new UserError(`${where.qrels}: no query in ${names.queries} has a relevant document (score > 0)`, 'ERR_EMPTY');
  return { name: where.name, source: where.source, split: where.split, queries, corpus, qrels, grades, warnings };
}

function splitsIn(dir: string): string {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.tsv'))
      .map((f) => f.slice(0, -4))
      .join(', ');
  } catch {
    return '';
  }
}

export function loadBeir(folder: string, split = 'test'): Dataset {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(split) || split.includes('..'))
    throw invalidParameter('split', 'a split name such as test, dev or train (letters, digits, ".", "_", "-")', split);
  const dir = resolve(folder);
  if (!existsSync(dir)) throw new UserError(`${folder}: dataset not found`, 'ERR_NOT_FOUND');
  if (!statSync(dir).isDirectory()) throw new UserError(`${folder}: expected a BEIR folder (corpus.jsonl, queries.jsonl, qrels/)`, 'ERR_FORMAT');
  for (const f of ['corpus.jsonl', 'queries.jsonl'])
    if (!existsSync(join(dir, f)))
      throw new UserError(`${join(folder, f)}: not found (a BEIR folder has corpus.jsonl, queries.jsonl and qrels/<split>.tsv)`, 'ERR_NOT_FOUND');
  const qrelsPath = join(dir, 'qrels', `${split}.tsv`);
  if (!existsSync(qrelsPath))
    throw new UserError(
      `${join(folder, 'qrels', `${split}.tsv`)}: not found (is the split right? qrels/ has ${splitsIn(join(dir, 'qrels')) || 'no .tsv file'})`,
      'ERR_NOT_FOUND',
      'split',
    );
  return beirDataset(
    { corpus: jsonlRows(join(dir, 'corpus.jsonl'), 'corpus'), queries: jsonlRows(join(dir, 'queries.jsonl'), 'queries'), qrels: tsvQrelsRows(qrelsPath) },
    { name: basename(dir), source: dir, split, corpus: join(folder, 'corpus.jsonl'), queries: join(folder, 'queries.jsonl'), qrels: qrelsPath },
  );
}
