// A minimal ONNX writer: protobuf by hand for the few messages a model file needs. It writes the
// encoder graphs built from safetensors checkpoints (onnx/transformer.ts), which real runs load,
// and the demo's, the tests' and the benchmarks' models, without Python or a model hub.
const varint = (n: number | bigint): Buffer => {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return Buffer.from(out);
};
const key = (field: number, wire: number) => varint((field << 3) | wire);
export const int = (field: number, v: number | bigint) => Buffer.concat([key(field, 0), varint(v)]);
export const bytes = (field: number, b: Uint8Array) => Buffer.concat([key(field, 2), varint(b.length), b]);
export const str = (field: number, s: string) => bytes(field, Buffer.from(s, 'utf8'));
export const msg = (field: number, parts: Buffer[]) => bytes(field, Buffer.concat(parts));
const floatField = (field: number, v: number) => {
  const b = Buffer.alloc(5);
  b[0] = (field << 3) | 5;
  b.writeFloatLE(v, 1);
  return b;
};

export const FLOAT = 1;
export const INT64 = 7;

export type Attr = Buffer;
export const intAttr = (name: string, v: number) => msg(5, [str(1, name), int(3, v), int(20, 2)]);
export const intsAttr = (name: string, v: number[]) => msg(5, [str(1, name), ...v.map((x) => int(8, x)), int(20, 7)]);
export const floatAttr = (name: string, v: number) => msg(5, [str(1, name), floatField(2, v), int(20, 1)]);

/** ValueInfoProto.type: a tensor of `type` with fixed (number) or named (string) dims. */
const typeProto = (type: number, dims: Array<number | string>) =>
  msg(2, [
    msg(1, [
      int(1, type),
      msg(
        2,
        dims.map((d) => msg(1, [typeof d === 'number' ? int(1, d) : str(2, d)])),
      ),
    ]),
  ]);

export class Graph {
  private nodes: Buffer[] = [];
  private inits: Array<{ name: string; dims: number[]; type: number; bytes: Uint8Array }> = [];
  private inputs: Buffer[] = [];
  private outputs: Buffer[] = [];
  private count = 0;

  /** Adds a node; returns its (first) output name. */
  op(type: string, inputs: string[], attrs: Attr[] = [], outputName?: string): string {
    const out = outputName ?? `${type.toLowerCase()}_${this.count++}`;
    this.nodes.push(msg(1, [...inputs.map((i) => str(1, i)), str(2, out), str(4, type), ...attrs]));
    return out;
  }

  tensor(name: string, dims: number[], data: Float32Array | BigInt64Array): string {
    const type = data instanceof Float32Array ? FLOAT : INT64;
    this.inits.push({ name, dims, type, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  /** Bytes of the initializers (the weights). */
  get weightBytes(): number {
    return this.inits.reduce((n, t) => n + t.bytes.length, 0);
  }

  input(name: string, type: number, dims: Array<number | string>): string {
    this.inputs.push(msg(11, [str(1, name), typeProto(type, dims)]));
    return name;
  }

  output(name: string, type: number, dims: Array<number | string>): void {
    this.outputs.push(msg(12, [str(1, name), typeProto(type, dims)]));
  }

  /**
   * The serialised ModelProto (IR 8, default opset `opset`). With `externalData` (a file name
   * beside the model), initializers larger than 1 KiB are left out of the protobuf (which cannot
   * exceed 2 GiB) and returned as `data`, to be written to that file: ONNX's external data.
   */
  model(opset?: number): Buffer;
  model(opset: number, externalData: string): { model: Buffer; data: Buffer[] };
  model(opset = 17, externalData?: string): Buffer | { model: Buffer; data: Buffer[] } {
    const data: Buffer[] = [];
    let offset = 0;
    const inits = this.inits.map((t) => {
      const head = [...t.dims.map((d) => int(1, d)), int(2, t.type), str(8, t.name)];
      if (!externalData || t.bytes.length <= 1024) return msg(5, [...head, bytes(9, t.bytes)]);
      const pad = (4096 - (offset % 4096)) % 4096; // page-aligned, so onnxruntime may map it
      if (pad) data.push(Buffer.alloc(pad));
      offset += pad;
      const entry = (key: string, value: string) => msg(13, [str(1, key), str(2, value)]);
      const proto = msg(5, [...head, entry('location', externalData), entry('offset', String(offset)), entry('length', String(t.bytes.length)), int(14, 1)]);
      data.push(Buffer.from(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength));
      offset += t.bytes.length;
      return proto;
    });
    const graph = msg(7, [...this.nodes, str(2, 'emb-bench'), ...inits, ...this.inputs, ...this.outputs]);
    const model = Buffer.concat([int(1, 8), str(2, 'emb-bench'), graph, msg(8, [str(1, ''), int(2, opset)])]);
    return externalData ? { model, data } : model;
  }
}
