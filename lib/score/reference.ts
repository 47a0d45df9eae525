// The engine in plain TypeScript: the fallback when the addon cannot load, and the reference
// that tests hold the native engine to. Same contract as native/engine.h: cosine of the first
// d components (0 for a zero prefix), best first, equal scores in corpus order.
import type { TopKResult } from './types.js';

// Bounded heap whose root is the worst kept hit.
class BoundedHeap {
  readonly scores: Float64Array;
  readonly ids: Int32Array;
  size = 0;
  constructor(readonly k: number) {
    this.scores = new Float64Array(k);
    this.ids = new Int32Array(k);
  }
  private better(s: number, i: number, ts: number, ti: number): boolean {
    return s > ts || (s === ts && i < ti);
  }
  offer(s: number, id: number): void {
    const { scores, ids, k } = this;
    let pos: number;
    if (this.size < k) {
      pos = this.size++;
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        if (!this.better(scores[parent], ids[parent], s, id)) break;
        scores[pos] = scores[parent];
        ids[pos] = ids[parent];
        pos = parent;
      }
    } else {
      if (!this.better(s, id, scores[0], ids[0])) return;
      pos = 0;
      for (;;) {
        let child = 2 * pos + 1;
        if (child >= k) break;
        if (child + 1 < k && this.better(scores[child], ids[child], scores[child + 1], ids[child + 1])) child++;
        if (!this.better(s, id, scores[child], ids[child])) break;
        scores[pos] = scores[child];
        ids[pos] = ids[child];
        pos = child;
      }
    }
    scores[pos] = s;
    ids[pos] = id;
  }
  sorted(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let j = 0; j < this.size; j++) out.push([this.scores[j], this.ids[j]]);
    return out.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  }
}

function inversePrefixNorms(x: Float32Array, n: number, dim: number, bounds: number[]): Float64Array[] {
  const out = bounds.map(() => new Float64Array(n));
  for (let r = 0; r < n; r++) {
    let ss = 0;
    let k = 0;
    const base = r * dim;
    bounds.forEach((bound, b) => {
      for (; k < bound; k++) ss += x[base + k] * x[base + k];
      out[b][r] = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    });
  }
  return out;
}

export function scoreTopKReference(queries: Float32Array, corpus: Float32Array, dim: number, dims: number[], k: number): TopKResult {
  const nq = queries.length / dim;
  const nc = corpus.length / dim;
  const kEff = Math.min(k, nc);
  const bounds = [...dims].sort((a, b) => a - b);
  const invQ = inversePrefixNorms(queries, nq, dim, bounds);
  const invC = inversePrefixNorms(corpus, nc, dim, bounds);
  const indices = dims.map(() => new Int32Array(nq * kEff));
  const scores = dims.map(() => new Float32Array(nq * kEff));
  const boundOfDim = dims.map((d) => bounds.indexOf(d));
  for (let q = 0; q < nq; q++) {
    const heaps = bounds.map(() => new BoundedHeap(kEff));
    const qBase = q * dim;
    for (let c = 0; c < nc; c++) {
      const cBase = c * dim;
      let dot = 0;
      let j = 0;
      for (let b = 0; b < bounds.length; b++) {
        for (; j < bounds[b]; j++) dot += queries[qBase + j] * corpus[cBase + j];
        heaps[b].offer(dot * invQ[b][q] * invC[b][c], c);
      }
    }
    dims.forEach((_, o) => {
      heaps[boundOfDim[o]].sorted().forEach(([s, id], rank) => {
        scores[o][q * kEff + rank] = s;
        indices[o][q * kEff + rank] = id;
      });
    });
  }
  return { dims: [...dims], k: kEff, nq, indices, scores, engine: 'typescript' };
}
