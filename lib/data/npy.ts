// NumPy .npy files (format versions 1-3): 2-D float32 (either byte order) or float64, C order.
import { UserError } from '../errors.js';
import { writeAtomic } from '../files.js';
import type { Matrix } from './matrix.js';
import { readBytes } from './read.js';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

export function parseNpy(bytes: Buffer, path: string): Matrix {
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC))
    throw new UserError(`${path}: not a .npy file (missing the \\x93NUMPY header)`, 'ERR_NPY');
  const major = bytes[6];
  const headerLenBytes = major === 1 ? 2 : 4;
  if (major < 1 || major > 3) throw new UserError(`${path}: unsupported .npy format version ${major}`, 'ERR_NPY');
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const dataStart = 8 + headerLenBytes + headerLen;
  if (bytes.length < dataStart) throw new UserError(`${path}: truncated .npy header`, 'ERR_NPY');
  const header = bytes.subarray(8 + headerLenBytes, dataStart).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new UserError(`${path}: malformed .npy header: ${header.trim()}`, 'ERR_NPY');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.length !== 2 || !shape.every((n) => Number.isSafeInteger(n) && n >= 0))
    throw new UserError(`${path}: expected a 2-D array (rows x width), got shape (${shapeText})`, 'ERR_NPY');
  if (fortran === 'True') throw new UserError(`${path}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray`, 'ERR_NPY');
  const [rows, cols] = shape;
  const itemSize = descr.endsWith('4') ? 4 : 8;
  if (!['<f4', '>f4', '<f8', '>f8', '=f4', '=f8'].includes(descr))
    throw new UserError(`${path}: dtype '${descr}' is not supported; expected float32 ('<f4') or float64`, 'ERR_NPY_DTYPE');
  const expected = rows * cols * itemSize;
  const available = bytes.length - dataStart;
  if (available < expected)
    throw new UserError(`${path}: truncated: shape (${rows}, ${cols}) needs ${expected} data bytes, file has ${available}`, 'ERR_NPY');
  const raw = bytes.subarray(dataStart, dataStart + expected);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const little = descr[0] !== '>';
  const data = new Float32Array(rows * cols);
  if (itemSize === 4) for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(i * 4, little);
  else for (let i = 0; i < data.length; i++) data[i] = view.getFloat64(i * 8, little);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]))
      throw new UserError(`${path}: row ${Math.floor(i / cols)} has a non-finite value (${data[i]}) at column ${i % cols}`, 'ERR_NPY_VALUE');
  }
  return { data, rows, cols };
}

export function readNpy(path: string): Matrix {
  return parseNpy(readBytes(path, 'embeddings (.npy)'), path);
}

export function npyBytes(m: Matrix): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${m.rows}, ${m.cols}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  MAGIC.copy(head, 0);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

export function writeNpy(path: string, m: Matrix): void {
  writeAtomic(path, npyBytes(m));
}
