// safetensors files as transformers writes them: an 8-byte little-endian header length, a JSON
// header (name -> dtype, shape, data_offsets), then the raw tensors. F32, F16 and BF16 are
// read and widened to float32 (other dtypes, buffers not weights, are left out); a sharded
// checkpoint is read through its index json.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../errors.js';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function widen(dtype: string, bytes: Buffer): Float32Array {
  const n = bytes.length / BYTES[dtype];
  const out = new Float32Array(n);
  if (dtype === 'F32') {
    out.set(new Float32Array(bytes.buffer, bytes.byteOffset, n)); // little-endian hosts (x86-64, arm64)
  } else if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u32[i] = bytes.readUInt16LE(2 * i) << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = f16ToF32(bytes.readUInt16LE(2 * i));
  }
  return out;
}

/**
 * Every tensor's bytes, in offset order, must follow the previous one's without a gap or an
 * overlap and end at the file's end, as Python's safetensors requires: two tensors sharing
 * bytes are a damaged or forged file, not a model.
 */
function checkLayout(header: Record<string, { data_offsets?: unknown }>, dataBytes: number, bad: (why: string) => Error): void {
  const spans: Array<{ name: string; from: number; to: number }> = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const offsets = info?.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[1] < offsets[0])
      throw bad(`tensor ${name} has no valid data_offsets`);
    spans.push({ name, from: offsets[0], to: offsets[1] });
  }
  spans.sort((a, b) => a.from - b.from || a.to - b.to);
  let end = 0;
  for (const s of spans) {
    if (s.from !== end) throw bad(`tensor ${s.name} starts at byte ${s.from}, where ${end} was expected (tensors overlap or leave a gap)`);
    end = s.to;
  }
  if (end !== dataBytes) throw bad(`the tensors end at byte ${end} of ${dataBytes}`);
}

/** Every tensor of one safetensors file (those `wanted` accepts), widened to float32. */
export function readSafetensors(path: string, wanted: (name: string) => boolean = () => true): Map<string, Tensor> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const bad = (why: string) => new UserError(`${path}: not a readable safetensors file (${why})`, 'ERR_MODEL_CONFIG');
    if (size < 8) throw bad('too short');
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const headerLength = Number(lenBuf.readBigUInt64LE(0));
    if (headerLength < 2 || headerLength > Math.min(size - 8, 100 << 20)) throw bad(`header length ${headerLength}`);
    const headerBuf = Buffer.alloc(headerLength);
    readSync(fd, headerBuf, 0, headerLength, 8);
    let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    try {
      header = JSON.parse(headerBuf.toString('utf8'));
    } catch {
      throw bad('the header is not JSON');
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('the header is not a JSON object of tensors');
    const base = 8 + headerLength;
    checkLayout(header, size - base, bad);
    const tensors = new Map<string, Tensor>();
    for (const [name, info] of Object.entries(header)) {
      if (name === '__metadata__' || !wanted(name)) continue;
      const { dtype, shape, data_offsets: offsets } = info ?? {};
      // Buffers such as an I64 embeddings.position_ids are not weights: left out (the graph
      // builder names any tensor it needs and did not get).
      if (!(dtype in BYTES)) continue;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0) || !Array.isArray(offsets))
        throw bad(`tensor ${name} has no valid shape or offsets`);
      const count = shape.reduce((a, b) => a * b, 1);
      const [from, to] = offsets;
      if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && to - from === count * BYTES[dtype] && base + to <= size))
        throw bad(`tensor ${name}: offsets ${from}..${to} do not hold ${shape.join('x')} ${dtype} inside the file`);
      const bytes = Buffer.alloc(to - from); // unpooled: offset 0, so float32-aligned
      readSync(fd, bytes, 0, bytes.length, base + from);
      tensors.set(name, { shape, data: widen(dtype, bytes) });
    }
    return tensors;
  } finally {
    closeSync(fd);
  }
}

/** The safetensors files of a model folder: model.safetensors, or the shards its index names. */
export function safetensorsFiles(dir: string): string[] | null {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return [single];
  const index = join(dir, 'model.safetensors.index.json');
  if (!existsSync(index)) return null;
  let map: Record<string, string>;
  try {
    map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
  } catch {
    throw new UserError(`${index}: not a valid safetensors index (expected {"weight_map": {...}})`, 'ERR_MODEL_CONFIG');
  }
  if (!map || typeof map !== 'object') throw new UserError(`${index}: has no weight_map`, 'ERR_MODEL_CONFIG');
  const files = [...new Set(Object.values(map))].map((f) => join(dirname(index), f));
  const missing = files.find((f) => !existsSync(f));
  if (missing) throw new UserError(`${index}: names ${missing}, which is not there`, 'ERR_MODEL_CONFIG');
  return files;
}

/** The float tensors of a (possibly sharded) checkpoint, but its pooler head (sentence embeddings do not use it). */
export function readCheckpoint(files: string[]): Map<string, Tensor> {
  const all = new Map<string, Tensor>();
  for (const f of files) for (const [k, v] of readSafetensors(f, (name) => !/(^|\.)pooler\./.test(name))) all.set(k, v);
  return all;
}
