// Pairs files as ZenML and Hugging Face datasets keep them: one row per (query, document) pair,
// in JSONL, a JSON array, CSV or Parquet. ZenML's defaults: queries from `anchor`, corpus from
// `positive`, both keyed by `id`; a query's relevant document is the corpus row with its id.
import { basename, extname, resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { Dataset, Texts } from './dataset.js';
import { field, parseJson, readBytes, readJsonl, readText } from './read.js';

export type PairsFormat = 'jsonl' | 'json' | 'csv' | 'parquet';

export interface PairsFields {
  queryField: string;
  docField: string;
  idField: string;
}

export const ZENML_FIELDS: PairsFields = { queryField: 'anchor', docField: 'positive', idField: 'id' };

type Row = { where: string; row: Record<string, unknown> };

export function detectPairsFormat(path: string): PairsFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet') return 'parquet';
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.json') return readText(path, 'dataset').trimStart().startsWith('[') ? 'json' : 'jsonl';
  throw new UserError(`${path}: cannot tell the format from the extension (name the format: jsonl, json, csv or parquet, or give a BEIR folder)`, 'ERR_FORMAT');
}

/** RFC 4180 CSV with the delimiter sniffed from the header line (",", ";", tab or "|"). */
export function parseCsv(text: string, path: string): Row[] {
  const header = text.split('\n', 1)[0];
  const delimiter = [',', '\t', ';', '|'].map((d) => [d, header.split(d).length] as const).sort((a, b) => b[1] - a[1])[0][0];
  const records: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === delimiter) cells.push(cell), (cell = '');
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      if (cells.length > 1 || cells[0] !== '') records.push({ line: start, cells });
      cells = [];
      cell = '';
      start = ++line;
    } else cell += ch;
  }
  if (quoted) throw new UserError(`${path}:${start}: unterminated quoted field`, 'ERR_CSV');
  if (cell !== '' || cells.length) records.push({ line: start, cells: [...cells, cell] });
  if (records.length === 0) return [];
  const names = records[0].cells.map((c) => c.trim());
  return records.slice(1).map(({ line: l, cells: c }) => {
    if (c.length !== names.length)
      throw new UserError(
        `${path}:${l}: expected ${names.length} fields (delimiter "${delimiter === '\t' ? '\\t' : delimiter}"), found ${c.length}`,
        'ERR_CSV',
      );
    return { where: `${path}:${l}`, row: Object.fromEntries(names.map((n, j) => [n, c[j]])) };
  });
}

async function readParquet(path: string): Promise<Row[]> {
  const bytes = readBytes(path, 'dataset');
  const { parquetReadObjects } = await import('hyparquet');
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file: buffer });
  } catch (e) {
    throw new UserError(`${path}: not a readable Parquet file (${(e as Error).message})`, 'ERR_PARQUET');
  }
  return rows.map((row, i) => ({ where: `${path}: row ${i + 1}`, row }));
}

export async function readPairRows(path: string, format: PairsFormat): Promise<Row[]> {
  if (format === 'parquet') return readParquet(path);
  if (format === 'csv') return parseCsv(readText(path, 'dataset'), path);
  if (format === 'jsonl') return readJsonl(path, 'dataset').map(({ line, row }) => ({ where: `${path}:${line}`, row }));
  let parsed: unknown;
  try {
    parsed = parseJson(readText(path, 'dataset'));
  } catch (e) {
    throw new UserError(`${path}: malformed JSON (${(e as Error).message})`, 'ERR_JSON');
  }
  if (!Array.isArray(parsed)) throw new UserError(`${path}: expected a JSON array of objects`, 'ERR_JSON');
  return parsed.map((row, i) => {
    if (row === null || typeof row !== 'object') throw new UserError(`${path}: item ${i} is not an object`, 'ERR_JSON');
    return { where: `${path}: item ${i}`, row: row as Record<string, unknown> };
  });
}

function collect(rows: Row[], textField: string, idField: string, what: string): Texts {
  const ids: string[] = [];
  const texts: string[] = [];
  const first = new Map<string, string>();
  for (const { where, row } of rows) {
    const id = field(row, idField, where);
    const text = field(row, textField, where);
    const seen = first.get(id);
    if (seen !== undefined) throw new UserError(`${where}: duplicate ${what} id "${id}" (first at ${seen})`, 'ERR_DUPLICATE_ID');
    first.set(id, where);
    ids.push(id);
    texts.push(text);
  }
  return { ids, texts };
}

/**
 * A pairs dataset from one file, or from several files read as one (the shards of a split).
 * `name` and `source` default to the (first) file's.
 */
export async function loadPairs(
  path: string | string[],
  { format, fields = ZENML_FIELDS, corpus, name, source }: { format?: PairsFormat; fields?: PairsFields; corpus?: string; name?: string; source?: string } = {},
): Promise<Dataset> {
  const paths = Array.isArray(path) ? path : [path];
  const rows: Row[] = [];
  for (const p of paths) rows.push(...(await readPairRows(p, format ?? detectPairsFormat(p))));
  if (rows.length === 0) throw new UserError(`${paths.join(', ')}: no rows`, 'ERR_EMPTY');
  const queries = collect(rows, fields.queryField, fields.idField, 'query');
  let docs = collect(rows, fields.docField, fields.idField, 'document');
  if (corpus) {
    // The corpus file may hold more documents (ZenML: train + test positives); keep the test
    // positives it lacks so every query's relevant document is present.
    const extra = collect(await readPairRows(corpus, format ?? detectPairsFormat(corpus)), fields.docField, fields.idField, 'document');
    const have = new Set(extra.ids);
    docs = {
      ids: [...extra.ids, ...docs.ids.filter((id) => !have.has(id))],
      texts: [...extra.texts, ...docs.texts.filter((_, i) => !have.has(docs.ids[i]))],
    };
  }
  const qrels = new Map(queries.ids.map((id) => [id, new Set([id])]));
  return { name: name ?? basename(paths[0]), source: source ?? resolve(paths[0]), queries, corpus: docs, qrels, warnings: [] };
}
