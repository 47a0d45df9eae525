// Reading user files (every problem becomes a UserError that names the file and line), and
// writing files of any size.
import { closeSync, openSync, readFileSync, statSync, type Stats, writeSync } from 'node:fs';
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

/**
 * JSON.parse, except that integers too large for a double (16 digits or more) become strings
 * holding their source text: two ids such as 12345678901234567001 and ...002 must not collide.
 */
export function parseJson(text: string): unknown {
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  let out = '';
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39) j++;
      const next = text[j];
      const digits = j - i - (c === 0x2d ? 1 : 0);
      if (digits >= 16 && next !== '.' && next !== 'e' && next !== 'E' && !Number.isSafeInteger(Number(text.slice(i, j)))) {
        out += text.slice(from, i) + '"' + text.slice(i, j) + '"';
        from = j;
      }
      i = j - 1;
    }
  }
  return JSON.parse(out + text.slice(from));
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
        row = parseJson(text);
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

/**
 * Writes the parts to `path`, one after the other, a gigabyte at a time: writeFileSync refuses a
 * buffer over 2 GiB, and 1,000,000 embeddings of 768 floats are 3 GB.
 */
export function writeParts(path: string, parts: Array<string | Uint8Array>, chunk = 1 << 30): void {
  const fd = openSync(path, 'w');
  try {
    for (const part of parts) {
      const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, Math.min(bytes.length - at, chunk));
    }
  } finally {
    closeSync(fd);
  }
}
