// Sharded runs: shard I of N scores every query against the I-th contiguous slice of the
// corpus and keeps each query's top-k per dim; merging the N partial lists with the engine's
// own order (score descending, then corpus row ascending) gives the one-host result exactly,
// since a pair's score does not depend on which rows share its slice. A partial is one file:
// a JSON header (what run it belongs to, which shard, sizes, a sha256 of the arrays) and the
// arrays; merge refuses a set that is incomplete, mixed or damaged, and says which.
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

/**
 * The shard the scheduler's environment names, if any: Slurm job arrays (SLURM_ARRAY_TASK_ID of
 * SLURM_ARRAY_TASK_COUNT; arrays should start at 0) or Kubernetes Indexed Jobs
 * (JOB_COMPLETION_INDEX, with the count in EMB_BENCH_SHARD_COUNT: Kubernetes does not pass
 * the job's completions to the pod, so the manifest sets it from the same value).
 */
export function shardFromEnv(env: NodeJS.ProcessEnv = process.env): Shard | null {
  const pick = (index: string | undefined, count: string | undefined, names: string) => {
    if (index === undefined) return null;
    if (count === undefined) throw invalidParameter('shard', `${names.split(' ')[1]} alongside ${names.split(' ')[0]}`, 'unset', 'ERR_OPTION');
    return parseShard(`${index}/${count}`, names.split(' ')[0]);
  };
  return (
    pick(env.SLURM_ARRAY_TASK_ID, env.SLURM_ARRAY_TASK_COUNT, 'SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT') ??
    pick(env.JOB_COMPLETION_INDEX, env.EMB_BENCH_SHARD_COUNT, 'JOB_COMPLETION_INDEX EMB_BENCH_SHARD_COUNT')
  );
}

const MAGIC = 'EMBPART1';

export interface PartialHeader {
  /** Everything that must agree across the shards of one run (models, data, dims, k, count). */
  run: Record<string, unknown>;
  shard: Shard;
  /** The corpus rows this shard scored. */
  corpus: { start: number; end: number; total: number };
  nq: number;
  k: number;
  dims: number[];
  /** Roles in file order (e.g. base, tuned), each with dims.length (indices, scores) arrays. */
  roles: string[];
  /** Anything the merge needs back (model identities, engine...). */
  extra: Record<string, unknown>;
  sha256: string;
}

export interface Partial {
  header: PartialHeader;
  /** role -> the shard's top-k, with global corpus indices. */
  topk: Record<string, TopKResult>;
}

/** Writes one shard's partial top-k lists (per role) to `path`, atomically. */
export function writePartial(path: string, p: Omit<PartialHeader, 'sha256' | 'roles' | 'nq' | 'k' | 'dims'>, topk: Record<string, TopKResult>): void {
  const roles = Object.keys(topk);
  const first = topk[roles[0]];
  const arrays: Uint8Array[] = [];
  for (const r of roles)
    for (let o = 0; o < first.dims.length; o++) {
      const t = topk[r];
      arrays.push(new Uint8Array(t.indices[o].buffer, t.indices[o].byteOffset, t.indices[o].byteLength));
      arrays.push(new Uint8Array(t.scores[o].buffer, t.scores[o].byteOffset, t.scores[o].byteLength));
    }
  const hash = createHash('sha256');
  for (const a of arrays) hash.update(a);
  const header: PartialHeader = { ...p, roles, nq: first.nq, k: first.k, dims: first.dims, sha256: hash.digest('hex') };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(MAGIC), len, json, ...arrays]));
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new UserError(`${path}: cannot write the shard's results (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'ERR_OUT');
  }
}

export function readPartial(path: string): Partial {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'ERR_NOT_FOUND');
  }
  const bad = (why: string) => new UserError(`${path}: not a whole emb-bench shard result (${why})`, 'ERR_INPUT');
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== MAGIC) throw bad('no header');
  const len = bytes.readUInt32LE(8);
  let header: PartialHeader;
  try {
    header = JSON.parse(bytes.toString('utf8', 12, 12 + len));
  } catch {
    throw bad('a damaged header');
  }
  const per = header.nq * header.k * 4;
  const expected = 12 + len + header.roles.length * header.dims.length * 2 * per;
  if (bytes.length !== expected) throw bad(`${bytes.length} bytes, expected ${expected}`);
  const body = bytes.subarray(12 + len);
  if (createHash('sha256').update(body).digest('hex') !== header.sha256) throw bad('its checksum does not match');
  const topk: Record<string, TopKResult> = {};
  let at = 0;
  const take = () => {
    const copy = new Uint8Array(per);
    copy.set(body.subarray(at, at + per));
    at += per;
    return copy.buffer;
  };
  for (const role of header.roles) {
    const indices: Int32Array[] = [];
    const scores: Float32Array[] = [];
    for (let o = 0; o < header.dims.length; o++) {
      indices.push(new Int32Array(take()));
      scores.push(new Float32Array(take()));
    }
    topk[role] = { dims: header.dims, k: header.k, nq: header.nq, indices, scores, engine: String(header.extra.engine ?? 'unknown') };
  }
  return { header, topk };
}

/**
 * Checks that `parts` are every shard of one run, whole and consistent, then merges each role's
 * lists into the top-`k` of the whole corpus, in the engine's order.
 * @throws UserError naming the missing, duplicated or mismatched shards.
 */
export function mergePartials(parts: Array<{ path: string; partial: Partial }>, k: number): Record<string, TopKResult> {
  if (parts.length === 0) throw new UserError('merge: no shard results given', 'ERR_INPUT');
  const ref = parts[0].partial.header;
  const key = JSON.stringify(ref.run);
  for (const { path, partial } of parts) {
    const h = partial.header;
    if (
      JSON.stringify(h.run) !== key ||
      h.shard.count !== ref.shard.count ||
      h.nq !== ref.nq ||
      JSON.stringify(h.dims) !== JSON.stringify(ref.dims) ||
      h.corpus.total !== ref.corpus.total
    )
      throw new UserError(
        `${path}: shard ${h.shard.index}/${h.shard.count} belongs to another run than ${parts[0].path} (models, data, dims or shard count differ)`,
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
