// BEIR folders: corpus.jsonl (_id, title, text), queries.jsonl (_id, text), qrels/<split>.tsv.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { invalidParameter, UserError } from '../errors.js';
import type { Dataset, Texts } from './dataset.js';
import { field, readJsonl, readText } from './read.js';

function readTexts(path: string, what: string, withTitle: boolean): Texts {
  const ids: string[] = [];
  const texts: string[] = [];
  const seen = new Map<string, number>();
  for (const { line, row } of readJsonl(path, what)) {
    const where = `${path}:${line}`;
    const id = field(row, '_id', where);
    const text = field(row, 'text', where);
    const title = withTitle ? field(row, 'title', where, true) : '';
    const first = seen.get(id);
    if (first !== undefined) throw new UserError(`${where}: duplicate id "${id}" (first on line ${first})`, 'ERR_DUPLICATE_ID');
    seen.set(id, line);
    ids.push(id);
    // The BEIR / MTEB convention for a document's text.
    texts.push(title ? `${title} ${text}`.trim() : text);
  }
  return { ids, texts };
}

export function readQrels(
  path: string,
  queryIds: Set<string>,
  corpusIds: Set<string>,
): { qrels: Map<string, Set<string>>; grades: Map<string, Map<string, number>>; warnings: string[] } {
  const qrels = new Map<string, Set<string>>();
  const grades = new Map<string, Map<string, number>>();
  let unknownQueries = 0;
  let unknownDocs = 0;
  const lines = readText(path, 'qrels').split('\n');
  lines.forEach((raw, i) => {
    const text = raw.replace(/\r$/, '');
    if (text.trim() === '') return;
    const cols = text.split('\t');
    const where = `${path}:${i + 1}`;
    if (i === 0 && !/^-?\d+(\.\d+)?$/.test((cols[2] ?? '').trim())) return; // header row
    if (cols.length < 3) throw new UserError(`${where}: expected 3 tab-separated columns (query-id, corpus-id, score), found ${cols.length}`, 'ERR_QRELS');
    const [qid, did, scoreText] = cols.map((c) => c.trim());
    const score = Number(scoreText);
    if (scoreText === '' || !Number.isFinite(score)) throw new UserError(`${where}: score "${scoreText}" is not a number`, 'ERR_QRELS');
    if (!queryIds.has(qid)) {
      unknownQueries++;
      return;
    }
    if (!corpusIds.has(did)) unknownDocs++;
    let judged = grades.get(qid);
    if (!judged) grades.set(qid, (judged = new Map()));
    judged.set(did, score);
    if (score <= 0) return; // judged, not relevant
    let set = qrels.get(qid);
    if (!set) qrels.set(qid, (set = new Set()));
    set.add(did);
  });
  const warnings: string[] = [];
  if (unknownQueries) warnings.push(`${path}: ${unknownQueries} qrels rows name a query id not in queries.jsonl (ignored)`);
  if (unknownDocs)
    warnings.push(`${path}: ${unknownDocs} qrels rows name a document id not in corpus.jsonl (still counted as relevant, as sentence-transformers does)`);
  return { qrels, grades, warnings };
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
  const corpus = readTexts(join(dir, 'corpus.jsonl'), 'corpus', true);
  const queries = readTexts(join(dir, 'queries.jsonl'), 'queries', false);
  if (corpus.ids.length === 0) throw new UserError(`${join(folder, 'corpus.jsonl')}: the corpus is empty`, 'ERR_EMPTY');
  const { qrels, grades, warnings } = readQrels(qrelsPath, new Set(queries.ids), new Set(corpus.ids));
  if (qrels.size === 0) throw new UserError(`${qrelsPath}: no query in queries.jsonl has a relevant document (score > 0)`, 'ERR_EMPTY');
  return { name: basename(dir), source: dir, split, queries, corpus, qrels, grades, warnings };
}
