// Reading user files: every problem becomes a UserError that names the file and line.
import { readFileSync, statSync, type Stats } from 'node:fs';
import { UserError } from '../errors.js';

/** Size of a user's file; a missing path or a folder is a UserError naming it. */
export function fileSize(path: string, what: string): number {
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch {
    throw new UserError(`${path}: ${what} not found`, 'ERR_NOT_FOUND');
  }
  if (!stat.isFile()) throw new UserError(`${path}: expected a file (${what}), found a folder`, 'ERR_NOT_FOUND');
  return stat.size;
}

export function readBytes(path: string, what: string): Buffer {
  fileSize(path, what);
  return readFileSync(path);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function readText(path: string, what: string): string {
  const bytes = readBytes(path, what);
  try {
    return utf8.decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    const bad = firstInvalidUtf8Line(bytes);
    throw new UserError(`${path}:${bad}: not valid UTF-8 (${what} must be UTF-8 text)`, 'ERR_ENCODING');
  }
}

function firstInvalidUtf8Line(bytes: Buffer): number {
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      try {
        utf8.decode(bytes.subarray(start, i));
      } catch {
        return line;
      }
      line++;
      start = i + 1;
    }
  }
  return line;
}

/** Non-empty lines of a JSON Lines file, each parsed to an object, with its line number. */
export function readJsonl(path: string, what: string): Array<{ line: number; row: Record<string, unknown> }> {
  const rows: Array<{ line: number; row: Record<string, unknown> }> = [];
  readText(path, what)
    .split('\n')
    .forEach((text, i) => {
      if (text.trim() === '') return;
      let row: unknown;
      try {
        row = JSON.parse(text);
      } catch (e) {
        throw new UserError(`${path}:${i + 1}: malformed JSON (${(e as Error).message})`, 'ERR_JSON');
      }
      if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new UserError(`${path}:${i + 1}: expected a JSON object per line`, 'ERR_JSON');
      rows.push({ line: i + 1, row: row as Record<string, unknown> });
    });
  return rows;
}

/** A string (or number) field of a row, as a string; names file, line and field when missing. */
export function field(row: Record<string, unknown>, name: string, where: string, optional = false): string {
  const v = row[name];
  if (typeof v === 'string') return v;
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'bigint') return String(v); // Parquet INT64 reads as bigint
  if ((v === undefined || v === null) && optional) return '';
  const got = v === null ? 'null' : typeof v === 'object' ? JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? String(x) : x)) : String(v);
  throw new UserError(`${where}: field "${name}" ${v === undefined ? 'is missing' : `must be a string, got ${got}`}`, 'ERR_FIELD');
}
