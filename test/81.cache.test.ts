// The embedding cache (lib/encode/cache.ts) under damage and write failures: a torn, garbled or
// foreign record is skipped and encoded again, never read as a wrong vector; a cache that cannot
// be read or written is a warning.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddingCache } from '../lib/encode/cache.js';
import { Encoder } from '../lib/encode/encoder.js';
import { encodeWith, model, segments, texts, tmp } from './helpers/reliability.js';

describe('embedding cache under damage', () => {
  const m = model({ width: 24 });
  const input = texts(30);
  const record = 16 + 4 * 24 + 4;

  it('a clean rerun does no inference and returns the same bits', async () => {
    const cache = tmp();
    const first = await encodeWith(m, input, cache);
    const second = await encodeWith(m, input, cache);
    expect(second.inferred).toBe(0);
    expect(Array.from(second.data)).toEqual(Array.from(first.data));
  });

  it('truncated at every record boundary and mid-record: never a wrong vector, the rest re-encoded', async () => {
    const clean = (await encodeWith(m, input, null)).data;
    for (const cut of [0, 1, 15, 16, 16 + record - 1, 16 + record, 16 + 7 * record + 18, 16 + 29 * record + 3]) {
      const cache = tmp();
      await encodeWith(m, input, cache);
      const [seg] = segments(cache);
      truncateSync(seg, Math.min(cut, statSync(seg).size));
      const warnings: string[] = [];
      const again = await encodeWith(m, input, cache, warnings);
      expect(Array.from(again.data), `cut at ${cut}`).toEqual(Array.from(clean));
      const whole = cut < 16 ? 0 : Math.floor((cut - 16) / record);
      expect(again.inferred, `cut at ${cut}`).toBe(30 - whole);
      // and a third run finds everything whole
      expect((await encodeWith(m, input, cache)).inferred).toBe(0);
    }
  });

  it('a damaged record is told once, though the documents and the queries both read the cache', async () => {
    const cache = tmp();
    await encodeWith(m, input, cache);
    const [seg] = segments(cache);
    const bytes = readFileSync(seg);
    bytes[16 + 20] ^= 1;
    writeFileSync(seg, bytes);
    const warnings: string[] = [];
    const enc = await Encoder.load(m, { cacheDir: cache, onWarning: (w) => warnings.push(w) });
    try {
      await enc.encode(input, { kind: 'document' });
      await enc.encode(input, { kind: 'query' });
    } finally {
      await enc.close();
    }
    expect(warnings).toEqual([expect.stringMatching(/1 damaged record\(s\) skipped/)]);
  });

  it('a garbled byte anywhere in a record: that record is skipped with a warning naming the file', async () => {
    const clean = (await encodeWith(m, input, null)).data;
    for (const offset of [16, 16 + 5, 16 + 18, 16 + record - 1, 16 + 12 * record + 40]) {
      const cache = tmp();
      await encodeWith(m, input, cache);
      const [seg] = segments(cache);
      const bytes = readFileSync(seg);
      bytes[offset] ^= 0x40;
      writeFileSync(seg, bytes);
      const warnings: string[] = [];
      const again = await encodeWith(m, input, cache, warnings);
      expect(Array.from(again.data), `byte ${offset}`).toEqual(Array.from(clean));
      expect(again.inferred).toBe(1);
      expect(warnings.join('\n')).toContain(seg);
    }
  });

  it.each([0, 50, 200])('a header whose width field says %i: the file is dropped with a warning, never an error about dims', async (width) => {
    const cache = tmp();
    await encodeWith(m, input, cache);
    const [seg] = segments(cache);
    const bytes = readFileSync(seg);
    bytes.writeUInt32LE(width, 8);
    writeFileSync(seg, bytes);
    const warnings: string[] = [];
    const again = await encodeWith(m, input, cache, warnings);
    expect(again.inferred).toBe(30);
    expect(warnings.join('\n')).toMatch(/bad header/);
    expect(existsSync(seg)).toBe(false);
  });

  it('a NaN written into a cached row (checksum fixed up) is not served', async () => {
    const cache = tmp();
    const clean = (await encodeWith(m, input, cache)).data;
    const [seg] = segments(cache);
    const bytes = readFileSync(seg);
    bytes.writeFloatLE(Number.NaN, 16 + 16);
    const { crc32 } = await import('node:zlib');
    bytes.writeUInt32LE(crc32(bytes.subarray(16, 16 + record - 4)), 16 + record - 4);
    writeFileSync(seg, bytes);
    const again = await encodeWith(m, input, cache);
    expect(Array.from(again.data)).toEqual(Array.from(clean));
    expect(again.inferred).toBe(1);
  });

  it('a cache folder that cannot be written: one warning naming it, the run goes on and its numbers are right', async () => {
    const blocker = join(tmp(), 'file');
    writeFileSync(blocker, 'not a folder');
    const warnings: string[] = [];
    const clean = (await encodeWith(m, input, null)).data;
    const got = await encodeWith(m, input, join(blocker, 'cache'), warnings);
    expect(Array.from(got.data)).toEqual(Array.from(clean));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/embedding cache .*file.*: cannot (read|write) .*going on without/);
  });

  // A real full disk: a 16 KiB tmpfs, where this machine lets the tests mount one (root, not in
  // every container). The run goes on, warns once, and its embeddings are the clean run's.
  const tmpfs = (() => {
    const dir = tmp('emb-tmpfs-');
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', dir]);
    return r.status === 0 ? dir : null;
  })();
  afterAll(() => {
    if (tmpfs) spawnSync('umount', [tmpfs]);
  });
  it.skipIf(!tmpfs)('a cache on a full disk (ENOSPC mid-record): one warning, the right numbers, and a rerun reads only whole records', async () => {
    const many = texts(400, 7);
    const clean = (await encodeWith(m, many, null)).data;
    const warnings: string[] = [];
    const got = await encodeWith(m, many, tmpfs!, warnings);
    expect(Array.from(got.data)).toEqual(Array.from(clean));
    expect(warnings.join('\n')).toMatch(/ENOSPC/);
    const again = await encodeWith(m, many, tmpfs!, []);
    expect(Array.from(again.data)).toEqual(Array.from(clean));
    expect(again.inferred).toBeGreaterThan(0);
    expect(again.inferred).toBeLessThan(400);
  });

  it('concurrent writers never interleave, and compaction keeps one copy of each record', async () => {
    const cache = tmp();
    const key = { model: 'x' };
    const writers = [0, 1, 2].map(() => EmbeddingCache.forKey(cache, key));
    const rows = (seed: number) => Float32Array.from({ length: 3 * 4 }, (_, i) => seed + i);
    writers.forEach((w, i) => w.add(['aa'.repeat(16), 'bb'.repeat(16), `c${i}`.repeat(16)], rows(i), 4));
    writers.forEach((w) => w.close());
    const reader = EmbeddingCache.forKey(cache, key);
    expect(reader.lookup(['c0'.repeat(16), 'c1'.repeat(16), 'c2'.repeat(16)]).rows.every((r) => r !== undefined)).toBe(true);
    const r = reader.compact();
    expect(r).toMatchObject({ before: 3, after: 1, records: 5 });
    expect(reader.lookup(['c2'.repeat(16)]).rows[0]).toEqual(Float32Array.from([10, 11, 12, 13]));
  });

  it('a cache folder that is a symlink loop: a warning, not a crash', async () => {
    const dir = tmp();
    spawnSync('ln', ['-s', join(dir, 'loop'), join(dir, 'loop')]);
    const warnings: string[] = [];
    const got = await encodeWith(m, input.slice(0, 3), join(dir, 'loop'), warnings);
    expect(got.inferred).toBe(3);
    expect(warnings.join('\n')).toMatch(/ELOOP/);
  });
});
