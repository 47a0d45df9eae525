// auto precision's rule beside what it chooses between: fp32, the bf16 two-stage engine and auto
// on the same requests (random Gaussian data, D 768, dims 768/512/256/128/64, 2 threads), around
// the rule's edges (native/cpu/tuning.h: nq x nc >= 2.5e7, k + k/2 + 16 <= nc / 250, past k 32
// from 1,000 queries). Interleaved, median of 3 after a warm-up. Needs the addon; bf16 is the
// AVX512_BF16 kernel where the CPU has one, else the portable first stage (then auto is fp32).
import { gaussianArray } from '../dist/lib/random.js';
import { loadNative } from '../dist/lib/score/native.js';
import { machine } from './score.js';

const D = 768;
const DIMS = Int32Array.from([768, 512, 256, 128, 64]);
const CASES = [
  // [nq, nc, k]
  [300, 50000, 100],
  [500, 50000, 100],
  [1000, 50000, 100],
  [2000, 50000, 100],
  [1000, 50000, 64],
  [500, 50000, 10],
  [500, 100000, 100],
  [500, 20000, 32],
  [1000, 10000, 32],
  [500, 10000, 10],
];

export async function autoBench() {
  const { addon, reason } = loadNative();
  if (!addon) throw new Error(`the addon did not load: ${reason}`);
  const maxQ = Math.max(...CASES.map((c) => c[0]));
  const maxC = Math.max(...CASES.map((c) => c[1]));
  const queries = gaussianArray(maxQ * D, 1);
  const corpus = gaussianArray(maxC * D, 2);
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const rows = [];
  for (const [nq, nc, k] of CASES) {
    const base = { queries: queries.subarray(0, nq * D), corpus: corpus.subarray(0, nc * D), dim: D, dims: DIMS, k, device: 'cpu', threads: 2 };
    const ms = { fp32: [], bf16: [], auto: [] };
    let engine = '';
    for (let rep = -1; rep < 3; rep++)
      for (const precision of ['fp32', 'bf16', 'auto']) {
        const t0 = performance.now();
        const out = await addon.score({ ...base, precision });
        if (rep >= 0) ms[precision].push(performance.now() - t0);
        if (precision === 'auto') engine = out.stats.engine;
      }
    const row = { nq, nc, k, fp32_ms: median(ms.fp32), bf16_ms: median(ms.bf16), auto_ms: median(ms.auto), auto_engine: engine };
    rows.push(row);
    console.log(
      `nq ${nq} nc ${nc} k ${k}: fp32 ${row.fp32_ms.toFixed(0)} ms | bf16 ${row.bf16_ms.toFixed(0)} ms (${(row.bf16_ms / row.fp32_ms).toFixed(2)}x fp32) | auto ${row.auto_ms.toFixed(0)} ms (${engine})`,
    );
  }
  return { benchmark: 'auto', date: new Date().toISOString(), machine: machine(), bf16_kernel: addon.info().bf16Kernel, D, dims: [...DIMS], rows };
}
