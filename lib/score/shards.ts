// Sharded runs: shard I of N scores every query against the I-th contiguous slice of the
// corpus and keeps each query's top-k per dim; merging the N partial lists with the engine's
// own order (score descending, then corpus row ascending) gives the one-host result exactly,
// since a pair's score does not depend on which rows share its slice. A partial is one file:
// a JSON header (what run it belongs to, which shard, sizes), the arrays, and a sha256 of both;
// merge refuses a set that is incomplete, mixed or damaged, and says which (for a mixed set,
// the first setting that differs).
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { invalidParameter, UserError } from '../errors.js';
import type { TopKResult } from './types.js';

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

/** Rows [start, end) of slice `index` of `count` over `total` rows (contiguous, sizes differ by at most one). */
export function shardRange(total: number, s: Shard): { start: number; end: number } {
  return { start: Math.floor((total * s.index) / s.count), end: Math.floor((total * (s.index + 1)) / s.count) };
}

/** `I/N` with 0 <= I < N. */
export function parseShard(text: string, param = 'shard'): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw invalidParameter(param, 'I/N with 0 <= I < N, e.g. 0/4', text);
  return { index: Number(m[1]), count: Number(m[2]) };
}

const MAGIC = 'EMBPART2';
const DIGEST = 32;

export interface PartialHeader<Run = Record<string, unknown>, Extra = Record<string, unknown>> {
  /** Every setting that changes a number: it must agree across the shards of one run. */
  run: Run;
  shard: Shard;
  /** The corpus rows this shard scored. */
  corpus: { start: number; end: number; total: number };
  nq: number;
  k: number;
  dims: number[];
  /** Roles in file order (e.g. base, tuned), each with dims.length (indices, scores) arrays. */
  roles: string[];
  /** What the merge needs back and may differ by shard (timings, the engine that ran...). */
  extra: Extra;
}

export interface Partial<Run = Record<string, unknown>, Extra = Record<string, unknown>> {
  header: PartialHeader<Run, Extra>;
  /** role -> the shard's top-k, with global corpus indices. */
  topk: Record<string, TopKResult>;
}

/**
 * Writes one shard's partial top-k lists (per role) to `path`, atomically: magic, header length,
 * JSON header, the arrays, and a sha256 of all that, so a damaged header is caught like a
 * damaged array.
 */
export function writePartial<Run, Extra>(
  path: string,
  p: Omit<PartialHeader<Run, Extra>, 'roles' | 'nq' | 'k' | 'dims'>,
  topk: Record<string, TopKResult>,
): void {
  const roles = Object.keys(topk);
  const first = topk[roles[0]];
  const arrays: Uint8Array[] = [];
  for (const r of roles)
    for (let o = 0; o < first.dims.length; o++) {
      const t = topk[r];
      arrays.push(new Uint8Array(t.indices[o].buffer, t.indices[o].byteOffset, t.indices[o].byteLength));
      arrays.push(new Uint8Array(t.scores[o].buffer, t.scores[o].byteOffset, t.scores[o].byteLength));
    }
  const header: PartialHeader<Run, Extra> = { ...p, roles, nq: first.nq, k: first.k, dims: first.dims };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const body = Buffer.concat([Buffer.from(MAGIC), len, json, ...arrays]);
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, Buffer.concat([body, createHash('sha256').update(body).digest()]));
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new UserError(`${path}: cannot write the shard's results (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'ERR_OUT');
  }
}

const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/** What a header must hold for the arrays to be read (after its checksum matched). */
function headerProblem(h: PartialHeader<unknown, unknown>): string | null {
  if (typeof h !== 'object' || h === null) return 'the header is not an object';
  if (typeof h.run !== 'object' || h.run === null) return 'no run key';
  if (!h.shard || !isCount(h.shard.index) || !isCount(h.shard.count) || h.shard.index >= h.shard.count) return 'no valid shard';
  if (!h.corpus || !isCount(h.corpus.start) || !isCount(h.corpus.end) || !isCount(h.corpus.total)) return 'no valid corpus range';
  if (!isCount(h.nq) || !isCount(h.k)) return 'no valid sizes';
  if (!Array.isArray(h.dims) || !h.dims.every((d) => Number.isInteger(d) && d > 0)) return 'no valid dims';
  if (!Array.isArray(h.roles) || h.roles.length === 0 || !h.roles.every((r) => typeof r === 'string')) return 'no valid roles';
  if (typeof h.extra !== 'object' || h.extra === null) return 'no extra';
  return null;
}

export function readPartial<Run = Record<string, unknown>, Extra = Record<string, unknown>>(path: string): Partial<Run, Extra> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'ERR_NOT_FOUND');
  }
  const bad = (why: string) => new UserError(`${path}: not a whole emb-bench shard result (${why})`, 'ERR_INPUT');
  if (bytes.length >= 8 && bytes.toString('latin1', 0, 8) === 'EMBPART1')
    throw new UserError(`${path}: a shard result in an older format (EMBPART1), whose header no checksum covers; run the shard again`, 'ERR_INPUT');
  if (bytes.length < 12 + DIGEST || bytes.toString('latin1', 0, 8) !== MAGIC) throw bad('no header');
  const content = bytes.subarray(0, bytes.length - DIGEST);
  if (
    !createHash('sha256')
      .update(content)
      .digest()
      .equals(bytes.subarray(bytes.length - DIGEST))
  )
    throw bad('its checksum does not match');
  const len = content.readUInt32LE(8);
  if (12 + len > content.length) throw bad('a truncated header');
  let header: PartialHeader<Run, Extra>;
  try {
    header = JSON.parse(content.toString('utf8', 12, 12 + len));
  } catch {
    throw bad('a damaged header');
  }
  const problem = headerProblem(header as PartialHeader<unknown, unknown>);
  if (problem) throw bad(problem);
  const per = header.nq * header.k * 4;
  const expected = 12 + len + header.roles.length * header.dims.length * 2 * per;
  if (content.length !== expected) throw bad(`${bytes.length} bytes, expected ${expected + DIGEST}`);
  const body = content.subarray(12 + len);
  const topk: Record<string, TopKResult> = {};
  let at = 0;
  const take = () => {
    const copy = new Uint8Array(per);
    copy.set(body.subarray(at, at + per));
    at += per;
    return copy.buffer;
  };
  const engine = (header.extra as { engine?: unknown }).engine;
  for (const role of header.roles) {
    const indices: Int32Array[] = [];
    const scores: Float32Array[] = [];
    for (let o = 0; o < header.dims.length; o++) {
      indices.push(new Int32Array(take()));
      scores.push(new Float32Array(take()));
    }
    topk[role] = { dims: header.dims, k: header.k, nq: header.nq, indices, scores, engine: typeof engine === 'string' ? engine : 'unknown' };
  }
  return { header, topk };
}

/** The first setting (a dotted path) where `a` and `b` differ, with both values; null when equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): { path: string; a: unknown; b: unknown } | null {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (isObject(a) && isObject(b) && Array.isArray(a) === Array.isArray(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[key], b[key], path ? `${path}.${key}` : key);
      if (d) return d;
    }
    return null;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? null : { path, a, b };
}

/**
 * Checks that `parts` are every shard of one run, whole and consistent, then merges each role's
 * lists into the top-`k` of the whole corpus, in the engine's order.
 * @throws UserError naming the missing, duplicated or mismatched shards.
 */
export function mergePartials(parts: Array<{ path: string; partial: Partial<unknown, unknown> }>, k: number): Record<string, TopKResult> {
  if (parts.length === 0) throw new UserError('merge: no shard results given', 'ERR_INPUT');
  const ref = parts[0].partial.header;
  for (const { path, partial } of parts) {
    const h = partial.header;
    const key = (x: PartialHeader<unknown, unknown>) => ({
      run: x.run,
      shard_count: x.shard.count,
      queries: x.nq,
      dims: x.dims,
      corpus_rows: x.corpus.total,
      roles: x.roles,
    });
    const d = firstDifference(key(ref), key(h));
    if (d)
      throw new UserError(
        `${path}: shard ${h.shard.index}/${h.shard.count} belongs to another run than ${parts[0].path}: ${d.path} is ${JSON.stringify(d.b) ?? 'unset'} there and ${JSON.stringify(d.a) ?? 'unset'} in ${parts[0].path}`,
        'ERR_INPUT',
      );
  }
  const count = ref.shard.count;
  const seen = new Map<number, string>();
  for (const { path, partial } of parts) {
    const i = partial.header.shard.index;
    if (seen.has(i)) throw new UserError(`merge: shard ${i}/${count} is given twice (${seen.get(i)} and ${path})`, 'ERR_INPUT');
    seen.set(i, path);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length)
    throw new UserError(`merge: ${missing.length} of ${count} shards are missing: ${missing.map((i) => `${i}/${count}`).join(', ')}`, 'ERR_INPUT');
  const ordered = [...parts].sort((a, b) => a.partial.header.shard.index - b.partial.header.shard.index).map((p) => p.partial);
  const total = ref.corpus.total;
  const kEff = Math.min(k, total);
  const out: Record<string, TopKResult> = {};
  for (const role of ref.roles) {
    const indices = ref.dims.map(() => new Int32Array(ref.nq * kEff));
    const scores = ref.dims.map(() => new Float32Array(ref.nq * kEff));
    for (let o = 0; o < ref.dims.length; o++) {
      for (let q = 0; q < ref.nq; q++) {
        const cands: Array<{ s: number; i: number }> = [];
        for (const p of ordered) {
          const t = p.topk[role];
          for (let j = 0; j < t.k; j++) cands.push({ s: t.scores[o][q * t.k + j], i: t.indices[o][q * t.k + j] });
        }
        cands.sort((a, b) => (a.s !== b.s ? b.s - a.s : a.i - b.i));
        for (let j = 0; j < kEff; j++) {
          indices[o][q * kEff + j] = cands[j].i;
          scores[o][q * kEff + j] = cands[j].s;
        }
      }
    }
    out[role] = { dims: ref.dims, k: kEff, nq: ref.nq, indices, scores, engine: ordered[0].topk[role].engine };
  }
  return out;
}
