// Embedding cache: one append-only file per (model files, prompt, length, pooling) key, holding
// [16-byte text hash][width x float32] records. Finished batches are appended as they finish,
// so an interrupted run keeps them and the rerun encodes only what is missing.
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MAGIC = 'EMBC';
const HASH_BYTES = 16;

export function textHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, HASH_BYTES * 2);
}

export class EmbeddingCache {
  private rows = new Map<string, Float32Array>();
  private readonly file: string;
  private width = 0;

  constructor(dir: string, key: object) {
    const name = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 32);
    this.file = join(dir, `${name}.bin`);
    if (existsSync(this.file)) this.load();
  }

  private load(): void {
    const bytes = readFileSync(this.file);
    if (bytes.length < 8 || bytes.toString('latin1', 0, 4) !== MAGIC) return; // unreadable: start afresh
    this.width = bytes.readUInt32LE(4);
    const record = HASH_BYTES + 4 * this.width;
    // A torn last record (crash mid-append) is ignored.
    for (let off = 8; off + record <= bytes.length; off += record) {
      const hash = bytes.toString('hex', off, off + HASH_BYTES);
      const row = new Float32Array(this.width);
      for (let j = 0; j < this.width; j++) row[j] = bytes.readFloatLE(off + HASH_BYTES + 4 * j);
      this.rows.set(hash, row);
    }
  }

  get(hash: string): Float32Array | undefined {
    return this.rows.get(hash);
  }

  get size(): number {
    return this.rows.size;
  }

  add(hashes: string[], data: Float32Array, width: number): void {
    if (this.width === 0) {
      this.width = width;
      mkdirSync(join(this.file, '..'), { recursive: true });
      const head = Buffer.alloc(8);
      head.write(MAGIC, 0, 'latin1');
      head.writeUInt32LE(width, 4);
      writeFileSync(this.file, head);
    }
    if (width !== this.width) return;
    const record = HASH_BYTES + 4 * width;
    const buf = Buffer.alloc(record * hashes.length);
    hashes.forEach((h, i) => {
      buf.write(h, i * record, 'hex');
      const row = data.slice(i * width, (i + 1) * width);
      Buffer.from(row.buffer).copy(buf, i * record + HASH_BYTES);
      this.rows.set(h, row);
    });
    appendFileSync(this.file, buf);
  }
}
