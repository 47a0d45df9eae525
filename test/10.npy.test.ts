import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { npyBytes, npyParts, parseNpy, readNpy, writeNpy } from '../lib/data/npy.js';
import { writeParts } from '../lib/data/read.js';
import { UserError } from '../lib/errors.js';

function npyWith(descr: string, shape: string, body: Buffer): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

describe('npy', () => {
  it('round-trips a float32 matrix through a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'emb-npy-'));
    const m = { data: Float32Array.from([1, -2.5, 3, 4e-8, 5, 6]), rows: 2, cols: 3 };
    writeNpy(join(dir, 'm.npy'), m);
    const back = readNpy(join(dir, 'm.npy'));
    expect([back.rows, back.cols]).toEqual([2, 3]);
    expect(Array.from(back.data)).toEqual(Array.from(m.data));
  });

  it('reads big-endian float32 and float64 as float32', () => {
    const be = Buffer.alloc(8);
    be.writeFloatBE(1.5, 0);
    be.writeFloatBE(-2, 4);
    expect(Array.from(parseNpy(npyWith('>f4', '(1, 2)', be), 'x.npy').data)).toEqual([1.5, -2]);
    const f8 = Buffer.alloc(16);
    f8.writeDoubleLE(0.25, 0);
    f8.writeDoubleLE(7, 8);
    expect(Array.from(parseNpy(npyWith('<f8', '(2, 1)', f8), 'x.npy').data)).toEqual([0.25, 7]);
  });

  it.each([
    ['an int dtype', npyWith('<i4', '(1, 2)', Buffer.alloc(8)), /dtype '<i4'/],
    ['a 1-D shape', npyWith('<f4', '(2,)', Buffer.alloc(8)), /2-D/],
    ['a negative shape', npyWith('<f4', '(-1, 2)', Buffer.alloc(8)), /2-D/],
    ['a truncated body', npyWith('<f4', '(2, 2)', Buffer.alloc(12)), /truncated.*16 data bytes, file has 12/],
    ['a file that is not npy', Buffer.from('hello world'), /not a \.npy file/],
    ['a version 2 file cut inside its header length', Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 118, 0]), /truncated \.npy header/],
  ])('rejects %s with a UserError naming the file', (_, bytes, message) => {
    expect(() => parseNpy(bytes, 'emb.npy')).toThrow(UserError);
    expect(() => parseNpy(bytes, 'emb.npy')).toThrow(message);
    expect(() => parseNpy(bytes, 'emb.npy')).toThrow(/^emb\.npy: /);
  });

  it('names the row of a NaN value', () => {
    const body = Buffer.from(new Float32Array([0, 1, 2, NaN]).buffer);
    expect(() => parseNpy(npyWith('<f4', '(2, 2)', body), 'q.npy')).toThrow(/q\.npy: row 1 has a non-finite value/);
  });

  it('writes a header numpy accepts: 64-byte aligned, version 1.0', () => {
    const bytes = npyBytes({ data: new Float32Array(6), rows: 3, cols: 2 });
    const headerLen = bytes.readUInt16LE(8);
    expect((10 + headerLen) % 64).toBe(0);
    expect(bytes.length).toBe(10 + headerLen + 24);
    writeFileSync(join(tmpdir(), 'unused.npy'), bytes);
  });
});

describe('writeParts: files past 2 GiB, written a chunk at a time', () => {
  it('writes every part in order, whatever the chunk size', () => {
    const dir = mkdtempSync(join(tmpdir(), 'emb-parts-'));
    const a = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
    const parts = [a, 'npy header\n', new Uint8Array(0), a.subarray(3, 40)];
    const want = Buffer.concat([Buffer.from(a), Buffer.from('npy header\n'), Buffer.from(a.subarray(3, 40))]);
    for (const chunk of [1, 7, 999, 1 << 30]) {
      writeParts(join(dir, 'f'), parts, chunk);
      expect(readFileSync(join(dir, 'f')).equals(want), `chunk ${chunk}`).toBe(true);
    }
    const m = { data: Float32Array.from([1, 2, 3, 4, 5, 6]), rows: 3, cols: 2 };
    expect(Buffer.concat(npyParts(m)).equals(npyBytes(m))).toBe(true);
  });
});
