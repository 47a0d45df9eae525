// The quantized first stage (int8 and ubinary, five Matryoshka dims in one pass) beside FAISS's
// exact search per dim (IndexFlatIP / IndexBinaryFlat, as semantic_search_faiss builds them; Debian's
// python3-faiss, bench/quantized_faiss.py) and beside emb-bench's own float32 pass, on the same
// random data in the same run. Sizes: 2,000 queries x 1,000,000 documents x 768 (EMB_BENCH_QUANT_NC
// and _NQ make it smaller), dims 768,512,256,128,64, k 100, no rescoring (the first stage alone).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeNpy } from '../dist/lib/data/npy.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineInfo, quantize, scoreQuantizedRows, scoreTopK } from '../dist/lib/score/index.js';
import { calibrationRanges } from '../dist/lib/score/quantized.js';
import { seededRandom } from '../dist/lib/random.js';
import { machine } from './score.js';

const NQ = Number(process.env.EMB_BENCH_QUANT_NQ ?? 2000);
const NC = Number(process.env.EMB_BENCH_QUANT_NC ?? 1_000_000);
const D = 768;
const DIMS = [768, 512, 256, 128, 64];
const K = 100;
const CHECK = 50;
const ROUNDS = 3;

/** A seeded standard-normal matrix (Box-Muller), written as .npy for FAISS's side and returned. */
function gaussian(rows, seed, path) {
  const u = seededRandom(seed);
  const data = new Float32Array(rows * D);
  for (let i = 0; i < data.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const t = 2 * Math.PI * u();
    data[i] = r * Math.cos(t);
    if (i + 1 < data.length) data[i + 1] = r * Math.sin(t);
  }
  const m = { data, rows, cols: D };
  writeNpy(path, m);
  return m;
}

const seconds = async (fn) => {
  const t0 = performance.now();
  const value = await fn();
  return { value, s: (performance.now() - t0) / 1000 };
};

export async function quantizedBench() {
  const dir = mkdtempSync(join(tmpdir(), 'emb-bench-quant-'));
  try {
    const info = engineInfo();
    console.log(`data: ${NQ} queries x ${NC} documents x ${D} (random Gaussian), dims ${DIMS}, k ${K}`);
    const queries = gaussian(NQ, 11, join(dir, 'q.npy'));
    const corpus = gaussian(NC, 12, join(dir, 'c.npy'));
    // Rounds of: the float32 pass as it runs by default (auto: the bf16 first stage with exact
    // rescoring where faster), then each quantized first stage; the ratios are paired within a
    // round (the machine is shared), the median round reported. fp32 once, beside them.
    const ranges = calibrationRanges(corpus, D);
    const quantized = {};
    const rows = [];
    for (const precision of ['ubinary', 'int8']) {
      const quant = await seconds(async () => ({ q: await quantize(queries, precision, D, ranges), c: await quantize(corpus, precision, D, ranges) }));
      quantized[precision] = { ...quant.value, quantize_s: quant.s };
    }
    const fp32 = await seconds(() => scoreTopK(queries, corpus, { dims: DIMS, k: K, arithmetic: 'fp32' }));
    console.log(`emb-bench float32, fp32 (${fp32.value.engine}): ${fp32.s.toFixed(2)} s`);
    const rounds = [];
    const qz = {};
    for (let round = 0; round < ROUNDS; round++) {
      const f32 = await seconds(() => scoreTopK(queries, corpus, { dims: DIMS, k: K }));
      const r = { float32_auto_s: f32.s, engine: f32.value.engine };
      for (const precision of ['ubinary', 'int8']) {
        const kind = precision === 'ubinary' ? 'hamming' : 'int8';
        const first = await seconds(() => scoreQuantizedRows(quantized[precision].q, quantized[precision].c, kind, D, DIMS, K, {}));
        qz[precision] = first.value;
        r[precision] = { s: first.s, kernel: first.value.kernel };
      }
      rounds.push(r);
      console.log(
        `round ${round + 1}: float32 auto (${r.engine}) ${r.float32_auto_s.toFixed(2)} s; ubinary ${r.ubinary.s.toFixed(2)} s (${(r.float32_auto_s / r.ubinary.s).toFixed(1)}x); int8 ${r.int8.s.toFixed(2)} s (${(r.float32_auto_s / r.int8.s).toFixed(1)}x)`,
      );
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const f32 = { s: median(rounds.map((r) => r.float32_auto_s)), value: { engine: rounds[0].engine } };
    for (const precision of ['ubinary', 'int8']) {
      const s1 = median(rounds.map((r) => r[precision].s));
      const paired = median(rounds.map((r) => r.float32_auto_s / r[precision].s));
      rows.push({
        precision,
        kernel: rounds[0][precision].kernel,
        quantize_s: quantized[precision].quantize_s,
        first_stage_s: s1,
        first_stage_rounds_s: rounds.map((r) => r[precision].s),
        float32_auto_over_first_stage_paired_median: paired,
        float32_fp32_over_first_stage: fp32.s / s1,
      });
      console.log(
        `emb-bench ${precision} (kernel ${rounds[0][precision].kernel}): first stage ${s1.toFixed(2)} s for all ${DIMS.length} dims (median of ${ROUNDS}): ${paired.toFixed(1)}x faster than float32 auto (paired median), ${(fp32.s / s1).toFixed(1)}x than fp32; quantizing queries and corpus ${quantized[precision].quantize_s.toFixed(2)} s`,
      );
    }
    const py = execFileSync(
      '/usr/bin/python3',
      [new URL('./quantized_faiss.py', import.meta.url).pathname, join(dir, 'q.npy'), join(dir, 'c.npy'), DIMS.join(','), String(K), String(CHECK), dir],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 24,
      },
    );
    const faiss = JSON.parse(py);
    for (const r of rows) {
      const per = faiss.runs.filter((f) => f.precision === r.precision);
      r.faiss_search_s = per.reduce((s, f) => s + f.search_s, 0);
      r.faiss_build_s = per.reduce((s, f) => s + f.build_s, 0);
      r.faiss_per_dim = per;
      r.faiss_over_first_stage = r.faiss_search_s / r.first_stage_s;
      // the first CHECK queries' lists: equal to FAISS's at every dim (both break ties as FAISS does)
      r.lists_equal_to_faiss = DIMS.map((d, o) => {
        const raw = readFileSync(join(dir, `faiss_${r.precision}_${d}.i32`));
        const f = new Int32Array(raw.buffer, raw.byteOffset, CHECK * K);
        const ours = qz[r.precision].indices[o];
        let same = 0;
        for (let q = 0; q < CHECK; q++) {
          let eq = true;
          for (let i = 0; i < K; i++) if (ours[q * K + i] !== f[q * K + i]) eq = false;
          same += eq ? 1 : 0;
        }
        return { dim: d, queries: CHECK, equal: same };
      });
      console.log(
        `FAISS ${r.precision} (${faiss.faiss}, ${faiss.threads} threads): search ${r.faiss_search_s.toFixed(2)} s over the ${DIMS.length} dims (+ build ${r.faiss_build_s.toFixed(2)} s): emb-bench ${r.faiss_over_first_stage.toFixed(1)}x faster; lists equal on ${r.lists_equal_to_faiss.map((x) => `${x.equal}/${x.queries}`).join(', ')}`,
      );
    }
    return {
      benchmark: 'quantized',
      date: new Date().toISOString(),
      machine: machine(),
      kernel: info.kernel,
      sizes: { nq: NQ, nc: NC, d: D, dims: DIMS, k: K },
      float32: { auto: { engine: f32.value.engine, s: f32.s, rounds_s: rounds.map((r) => r.float32_auto_s) }, fp32: { engine: fp32.value.engine, s: fp32.s } },
      precisions: rows,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
