// NumPy .npy files (format versions 1-3): 2-D float32 (either byte order) or float64, C order.
import { UserError } from '../errors.js';
import type { Matrix } from './matrix.js';
import { fileSize, writeParts } from './read.js';
import { closeSync, openSync, readSync, renameSync, rmSync } from 'node:fs';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

interface NpyHeader {
  rows: number;
  cols: number;
  descr: string;
  dataStart: number;
}

function parseHeader(bytes: Buffer, path: string): NpyHeader {
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) throw new UserError(`${path}: not a .npy file (missing the \\x93NUMPY header)`, 'ERR_NPY');
  const major = bytes[6];
  if (major < 1 || major > 3) throw new UserError(`${path}: unsupported .npy format version ${major}`, 'ERR_NPY');
  const headerLenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + headerLenBytes) throw new UserError(`${path}: truncated .npy header`, 'ERR_NPY');
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const dataStart = 8 + headerLenBytes + headerLen;
  if (bytes.length < dataStart) throw new UserError(`${path}: truncated .npy header`, 'ERR_NPY');
  const header = bytes.subarray(8 + headerLenBytes, dataStart).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new UserError(`${path}: malformed .npy header: ${header.trim()}`, 'ERR_NPY');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.length !== 2 || !shape.every((n) => Number.isSafeInteger(n) && n >= 0))
    throw new UserError(`${path}: expected a 2-D array (rows x width), got shape (${shapeText})`, 'ERR_NPY');
  if (fortran === 'True') throw new UserError(`${path}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray`, 'ERR_NPY');
  if (!['<f4', '>f4', '<f8', '>f8', '=f4', '=f8'].includes(descr))
    throw new UserError(`${path}: dtype '${descr}' is not supported; expected float32 ('<f4') or float64`, 'ERR_NPY_DTYPE');
  return { rows: shape[0], cols: shape[1], descr, dataStart };
}

function dataBytes(h: NpyHeader): number {
  return h.rows * h.cols * (h.descr.endsWith('4') ? 4 : 8);
}

/** Converts raw .npy data to float32 (in place when it already is little-endian float32). */
function toFloat32(h: NpyHeader, raw: Uint8Array, path: string): Float32Array {
  const n = h.rows * h.cols;
  let data: Float32Array;
  const little = h.descr[0] !== '>';
  if (h.descr.endsWith('4') && little && raw.byteOffset % 4 === 0) data = new Float32Array(raw.buffer, raw.byteOffset, n);
  else {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    data = new Float32Array(n);
    if (h.descr.endsWith('4')) for (let i = 0; i < n; i++) data[i] = view.getFloat32(i * 4, little);
    else for (let i = 0; i < n; i++) data[i] = view.getFloat64(i * 8, little);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(data[i]))
      throw new UserError(`${path}: row ${Math.floor(i / h.cols)} has a non-finite value (${data[i]}) at column ${i % h.cols}`, 'ERR_NPY_VALUE');
  }
  return data;
}

export function parseNpy(bytes: Buffer, path: string): Matrix {
  const h = parseHeader(bytes, path);
  const expected = dataBytes(h);
  const available = bytes.length - h.dataStart;
  if (available < expected)
    throw new UserError(`${path}: truncated: shape (${h.rows}, ${h.cols}) needs ${expected} data bytes, file has ${available}`, 'ERR_NPY');
  return { data: toFloat32(h, bytes.subarray(h.dataStart, h.dataStart + expected), path), rows: h.rows, cols: h.cols };
}

/** Reads the data straight into the matrix's own memory: peak memory is the embeddings' size. */
export function readNpy(path: string): Matrix {
  const size = fileSize(path, 'embeddings (.npy)');
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(size, 65536 + 12));
    readSync(fd, head, 0, head.length, 0);
    const h = parseHeader(head, path);
    const expected = dataBytes(h);
    if (size - h.dataStart < expected)
      throw new UserError(`${path}: truncated: shape (${h.rows}, ${h.cols}) needs ${expected} data bytes, file has ${size - h.dataStart}`, 'ERR_NPY');
    const raw = new Uint8Array(expected);
    for (let done = 0; done < expected; ) {
      const n = readSync(fd, raw, done, Math.min(expected - done, 1 << 30), h.dataStart + done);
      if (n === 0) throw new UserError(`${path}: truncated while reading`, 'ERR_NPY');
      done += n;
    }
    return { data: toFloat32(h, raw, path), rows: h.rows, cols: h.cols };
  } finally {
    closeSync(fd);
  }
}

/** A float32 .npy file as its header and a view of the data (no copy). */
export function npyParts(m: Matrix): Uint8Array[] {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${m.rows}, ${m.cols}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  MAGIC.copy(head, 0);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return [head, Buffer.from(header, 'latin1'), new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength)];
}

export function npyBytes(m: Matrix): Buffer {
  return Buffer.concat(npyParts(m));
}

/** Writes `m` as a float32 .npy file (to a temporary name, then renamed into place). */
export function writeNpy(path: string, m: Matrix): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeParts(tmp, npyParts(m));
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new UserError(`${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'ERR_OUT');
  }
}
