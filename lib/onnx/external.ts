// The external-data files an ONNX graph names: every TensorProto whose weights live outside the
// protobuf (external_data entry "location"), wherever the graph holds tensors (initializers,
// sparse initializers, node attributes, subgraphs, functions). A model's identity hashes them,
// since two exports with the same graph and different weights differ only there.

/** Field numbers of onnx.proto3 that lead to a TensorProto. */
const MODEL_GRAPH = 7;
const MODEL_FUNCTIONS = 25;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_SPARSE_INITIALIZER = 15;
const FUNCTION_NODE = 7;
const NODE_ATTRIBUTE = 5;
const ATTR_TENSOR = 5;
const ATTR_GRAPH = 6;
const ATTR_TENSORS = 10;
const ATTR_GRAPHS = 11;
const ATTR_SPARSE_TENSOR = 22;
const ATTR_SPARSE_TENSORS = 23;
const SPARSE_VALUES = 1;
const SPARSE_INDICES = 2;
const TENSOR_EXTERNAL_DATA = 13;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;

type Kind = 'model' | 'graph' | 'function' | 'node' | 'attribute' | 'sparse' | 'tensor' | 'entry';

/** Which length-delimited fields of a message are messages to descend into, and of what kind. */
const CHILDREN: Record<Kind, Record<number, Kind>> = {
  model: { [MODEL_GRAPH]: 'graph', [MODEL_FUNCTIONS]: 'function' },
  graph: { [GRAPH_NODE]: 'node', [GRAPH_INITIALIZER]: 'tensor', [GRAPH_SPARSE_INITIALIZER]: 'sparse' },
  function: { [FUNCTION_NODE]: 'node' },
  node: { [NODE_ATTRIBUTE]: 'attribute' },
  attribute: {
    [ATTR_TENSOR]: 'tensor',
    [ATTR_GRAPH]: 'graph',
    [ATTR_TENSORS]: 'tensor',
    [ATTR_GRAPHS]: 'graph',
    [ATTR_SPARSE_TENSOR]: 'sparse',
    [ATTR_SPARSE_TENSORS]: 'sparse',
  },
  sparse: { [SPARSE_VALUES]: 'tensor', [SPARSE_INDICES]: 'tensor' },
  tensor: { [TENSOR_EXTERNAL_DATA]: 'entry' },
  entry: {},
};

class Malformed extends Error {}

function varint(b: Uint8Array, at: { i: number }, end: number): number {
  let v = 0;
  let mul = 1;
  for (let n = 0; n < 10; n++) {
    if (at.i >= end) throw new Malformed();
    const byte = b[at.i++];
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) return v;
    mul *= 128;
  }
  throw new Malformed();
}

/**
 * The external-data locations `onnx` (a serialised ModelProto) names, each once, as written in
 * the graph (relative to the model file's folder).
 * @throws Error when the bytes are not a well-formed protobuf.
 */
export function externalDataLocations(onnx: Uint8Array): string[] {
  const found = new Set<string>();
  const decoder = new TextDecoder();
  const walk = (kind: Kind, start: number, end: number, depth: number): void => {
    if (depth > 64) throw new Malformed();
    const at = { i: start };
    let key: string | undefined;
    let value: string | undefined;
    while (at.i < end) {
      const tag = varint(onnx, at, end);
      const field = Math.floor(tag / 8);
      switch (tag & 7) {
        case 0:
          varint(onnx, at, end);
          break;
        case 1:
          at.i += 8;
          break;
        case 5:
          at.i += 4;
          break;
        case 2: {
          const len = varint(onnx, at, end);
          if (at.i + len > end) throw new Malformed();
          const child = CHILDREN[kind][field];
          if (child) walk(child, at.i, at.i + len, depth + 1);
          else if (kind === 'entry' && field === ENTRY_KEY) key = decoder.decode(onnx.subarray(at.i, at.i + len));
          else if (kind === 'entry' && field === ENTRY_VALUE) value = decoder.decode(onnx.subarray(at.i, at.i + len));
          at.i += len;
          break;
        }
        default:
          throw new Malformed();
      }
      if (at.i > end) throw new Malformed();
    }
    if (kind === 'entry' && key === 'location' && value !== undefined) found.add(value);
  };
  try {
    walk('model', 0, onnx.length, 0);
  } catch (e) {
    if (e instanceof Malformed) throw new Error('not a well-formed ONNX protobuf');
    throw e;
  }
  return [...found];
}
