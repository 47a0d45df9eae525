// Embedding cache. One folder per key (model files' sha256, prompt, max_seq_length, pooling...),
// holding segment files: a 16-byte header [magic "EMBS", version, width, crc32 of those] then records
// [16-byte text hash][width x float32][crc32 of both]. Each writer appends to a segment of
// its own (`<host>-<pid>-<random>.part`, renamed `.seg` when it closes), so concurrent runs,
// on one host or many sharing a folder, never interleave bytes. A reader takes a record only
// when it is whole, its checksum matches and its values are finite: a torn tail, a garbled
// byte or a foreign file is skipped with a warning, never read as a vector. The cache is an
// optimisation: when it cannot be read or written, the run goes on without it (and says so).
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { processAlive } from '../host.js';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

const MAGIC = 0x53424d45; // "EMBS" little-endian
const VERSION = 1;
const HEADER = 16;
const HASH_BYTES = 16;
/** Segments in one key folder before a writer compacts them into one. */
const COMPACT_AT = 8;

export function textHash(text: string): string {
  return createHash('sha256')
    .update(text)
    .digest('hex')
    .slice(0, HASH_BYTES * 2);
}

const recordBytes = (width: number) => HASH_BYTES + 4 * width + 4;

function header(width: number): Buffer {
  const b = Buffer.alloc(HEADER);
  b.writeUInt32LE(MAGIC, 0);
  b.writeUInt32LE(VERSION, 4);
  b.writeUInt32LE(width, 8);
  b.writeUInt32LE(crc32(b.subarray(0, 12)), 12);
  return b;
}

const errText = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

export interface CacheReadStats {
  files: number;
  records: number;
  skipped: number;
}

/**
 * Streams the valid records of one segment file to `onRecord`. Returns the number of bad
 * records, or null when the file is not a segment of `width` (bad magic, version or width).
 */
function readSegment(path: string, width: number | null, onRecord: (hash: string, row: Float32Array) => void): { width: number; bad: number } | null {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(HEADER);
    if (readSync(fd, head, 0, HEADER, 0) < HEADER) return null;
    const w = head.readUInt32LE(8);
    const headerOk = head.readUInt32LE(0) === MAGIC && head.readUInt32LE(4) === VERSION && head.readUInt32LE(12) === crc32(head.subarray(0, 12));
    if (!headerOk || w === 0 || w > 1 << 20 || (width !== null && w !== width)) return null;
    const record = recordBytes(w);
    const size = fstatSync(fd).size;
    const perChunk = Math.max(1, Math.floor((4 << 20) / record));
    const buf = Buffer.alloc(perChunk * record);
    let bad = (size - HEADER) % record === 0 ? 0 : 1; // a torn tail
    for (let off = HEADER; off + record <= size; ) {
      const want = Math.min(perChunk, Math.floor((size - off) / record)) * record;
      const got = readSync(fd, buf, 0, want, off);
      const whole = Math.floor(got / record);
      if (whole === 0) break;
      for (let r = 0; r < whole; r++) {
        const at = r * record;
        const body = buf.subarray(at, at + record - 4);
        if (crc32(body) !== buf.readUInt32LE(at + record - 4)) {
          bad++;
          continue;
        }
        const row = new Float32Array(w);
        Buffer.from(row.buffer).set(buf.subarray(at + HASH_BYTES, at + HASH_BYTES + 4 * w));
        if (!row.every(Number.isFinite)) {
          bad++;
          continue;
        }
        onRecord(buf.toString('hex', at, at + HASH_BYTES), row);
      }
      off += whole * record;
    }
    return { width: w, bad };
  } finally {
    closeSync(fd);
  }
}

export class EmbeddingCache {
  private writer: { fd: number; part: string; width: number } | null = null;
  private disabled = false;
  private warned = new Set<string>();

  /** `folder` holds one key's segments. */
  constructor(
    readonly folder: string,
    private readonly onWarning: (message: string) => void = () => {},
  ) {}

  /** The cache of one key (model files, prompt, length, pooling...) under `dir`. */
  static forKey(dir: string, key: object, onWarning?: (message: string) => void): EmbeddingCache {
    const name = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 32);
    return new EmbeddingCache(join(dir, name), onWarning);
  }

  private warn(id: string, message: string): void {
    if (this.warned.has(id)) return;
    this.warned.add(id);
    this.onWarning(message);
  }

  private segments(): string[] {
    try {
      return readdirSync(this.folder)
        .filter((f) => f.endsWith('.seg') || f.endsWith('.part'))
        .sort()
        .map((f) => join(this.folder, f));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.disabled = true;
        this.warn('read', `embedding cache ${this.folder}: cannot read (${errText(e)}); going on without it`);
      }
      return [];
    }
  }

  /** The cached rows of `hashes` (undefined where absent), reading only what they need. */
  lookup(hashes: string[]): { rows: Array<Float32Array | undefined>; stats: CacheReadStats } {
    const wanted = new Map<string, number[]>();
    hashes.forEach((h, i) => wanted.set(h, [...(wanted.get(h) ?? []), i]));
    const rows: Array<Float32Array | undefined> = new Array(hashes.length);
    const stats: CacheReadStats = { files: 0, records: 0, skipped: 0 };
    let width: number | null = null;
    for (const path of this.segments()) {
      let seg: ReturnType<typeof readSegment>;
      try {
        seg = readSegment(path, width, (hash, row) => {
          stats.records++;
          for (const i of wanted.get(hash) ?? []) rows[i] = row;
        });
      } catch (e) {
        this.warn(path, `embedding cache ${path}: cannot read (${errText(e)}); skipped`);
        continue;
      }
      if (seg === null) {
        this.warn(path, `embedding cache ${path}: not a cache segment of this model (bad header); removed`);
        rmSync(path, { force: true });
        continue;
      }
      stats.files++;
      width = seg.width;
      if (seg.bad) {
        stats.skipped += seg.bad;
        this.warn(path, `embedding cache ${path}: ${seg.bad} damaged record(s) skipped (they will be encoded again)`);
      }
    }
    return { rows, stats };
  }

  /** Appends finished rows (`data` holds hashes.length rows of `width`). Never throws. */
  add(hashes: string[], data: Float32Array, width: number): void {
    if (this.disabled || hashes.length === 0) return;
    try {
      if (!this.writer) {
        mkdirSync(this.folder, { recursive: true });
        const part = join(this.folder, `${Date.now().toString(36)}-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}.part`);
        const fd = openSync(part, 'wx');
        this.writer = { fd, part, width };
        writeSync(fd, header(width));
      }
      if (width !== this.writer.width) return;
      const record = recordBytes(width);
      const buf = Buffer.alloc(record * hashes.length);
      for (let i = 0; i < hashes.length; i++) {
        const at = i * record;
        buf.write(hashes[i], at, 'hex');
        Buffer.from(data.buffer, data.byteOffset + i * width * 4, width * 4).copy(buf, at + HASH_BYTES);
        buf.writeUInt32LE(crc32(buf.subarray(at, at + record - 4)), at + record - 4);
      }
      // One write per batch; a short write (disk full) leaves a torn tail that readers skip.
      for (let off = 0; off < buf.length; ) off += writeSync(this.writer.fd, buf, off, buf.length - off);
    } catch (e) {
      this.disabled = true;
      this.warn('write', `embedding cache ${this.folder}: cannot write (${errText(e)}); going on without caching`);
    }
  }

  /** Finishes this writer's segment (renamed into place) and compacts the folder when it has many. */
  close(): void {
    if (this.writer) {
      const { fd, part } = this.writer;
      this.writer = null;
      try {
        closeSync(fd);
        renameSync(part, part.replace(/\.part$/, '.seg'));
      } catch (e) {
        this.warn('write', `embedding cache ${this.folder}: cannot finish a segment (${errText(e)})`);
      }
    }
    if (!this.disabled && this.segments().length > COMPACT_AT) this.compact();
  }

  /**
   * Rewrites the folder's finished segments (and parts left by dead processes of this host) as
   * one, without duplicates or damaged records: written to a part file, renamed, then the
   * inputs removed. Readers meanwhile see each record at least once.
   */
  compact(): { before: number; after: number; records: number } {
    const host = hostname();
    const inputs = this.segments().filter((p) => {
      if (p.endsWith('.seg')) return true;
      const m = /-([^-]+)-(\d+)-[0-9a-f]+\.part$/.exec(p);
      return m !== null && m[1] === host && !processAlive(Number(m[2]));
    });
    const seen = new Map<string, Float32Array>();
    let width: number | null = null;
    for (const path of inputs) {
      try {
        const seg = readSegment(path, width, (hash, row) => seen.set(hash, row));
        if (seg) width = seg.width;
      } catch {
        /* unreadable: left out of the compacted segment */
      }
    }
    if (width === null || inputs.length === 0) return { before: inputs.length, after: inputs.length, records: 0 };
    const part = join(this.folder, `${Date.now().toString(36)}-${host}-${process.pid}-${randomBytes(4).toString('hex')}.part`);
    try {
      const fd = openSync(part, 'wx');
      try {
        writeSync(fd, header(width));
        const record = recordBytes(width);
        const buf = Buffer.alloc(record);
        for (const [hash, row] of seen) {
          buf.write(hash, 0, 'hex');
          Buffer.from(row.buffer, row.byteOffset, row.byteLength).copy(buf, HASH_BYTES);
          buf.writeUInt32LE(crc32(buf.subarray(0, record - 4)), record - 4);
          writeSync(fd, buf);
        }
      } finally {
        closeSync(fd);
      }
      renameSync(part, part.replace(/\.part$/, '.seg'));
    } catch (e) {
      rmSync(part, { force: true });
      this.warn('write', `embedding cache ${this.folder}: cannot compact (${errText(e)})`);
      return { before: inputs.length, after: inputs.length, records: seen.size };
    }
    for (const path of inputs) rmSync(path, { force: true });
    return { before: inputs.length, after: 1, records: seen.size };
  }
}

/** Compacts every key folder under `dir`; what `emb-bench cache compact` runs. */
export function compactCacheDir(dir: string, onWarning?: (message: string) => void): { folders: number; before: number; after: number; records: number } {
  const total = { folders: 0, before: 0, after: 0, records: 0 };
  let names: string[] = [];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  for (const name of names) {
    const r = new EmbeddingCache(join(dir, name), onWarning).compact();
    total.folders++;
    total.before += r.before;
    total.after += r.after;
    total.records += r.records;
  }
  return total;
}
