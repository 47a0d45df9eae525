// Stress run of the bf16 first stage's error bound (native/cpu/two_stage.cc): every (query, corpus
// row, dim) pair's bf16 score is compared with the fp32 engine's score for it, on data shaped
// like the embeddings users hold, at 2,000 x 50,000 x 768 and five dims (500 million pairs per
// set), through the AVX512_BF16 kernel (where the CPU has one) and the portable first stage.
// A violation would be a wrong certification: the run fails if there is one.
import { gaussianArray, seededRandom } from '../dist/lib/random.js';
import { loadNative } from '../dist/lib/score/native.js';
import { machine } from './score.js';

const [NQ, NC, DIM] = [2000, 50000, 768];
const DIMS = Int32Array.from([768, 512, 256, 128, 64]);

/** Corpus rows: rows 0..NQ-1 double as the queries, so every query has near neighbours in some sets. */
const SETS = {
  gaussian: () => gaussianArray(NC * DIM, 1),
  // 64 tight clusters: many cosines near 1, where bf16's relative error matters most
  clustered: () => {
    const centers = gaussianArray(64 * DIM, 2);
    const noise = gaussianArray(NC * DIM, 3, 0.05);
    const rnd = seededRandom(4);
    for (let r = 0; r < NC; r++) {
      const c = Math.floor(rnd() * 64);
      for (let j = 0; j < DIM; j++) noise[r * DIM + j] += centers[c * DIM + j];
    }
    return noise;
  },
  // a large shared component (anisotropic, as mean-pooled word vectors are): cosines crowd near 0.9
  anisotropic: () => {
    const mean = gaussianArray(DIM, 5);
    const x = gaussianArray(NC * DIM, 6, 0.35);
    for (let r = 0; r < NC; r++) for (let j = 0; j < DIM; j++) x[r * DIM + j] += mean[j];
    return x;
  },
  // a few outlier coordinates 30x the rest (as transformer embeddings have) and magnitudes over 12 decades
  outliers: () => {
    const x = gaussianArray(NC * DIM, 7);
    const rnd = seededRandom(8);
    for (let r = 0; r < NC; r++) {
      const scale = 10 ** (12 * rnd() - 6);
      for (let j = 0; j < DIM; j++) x[r * DIM + j] *= (j % 97 === 3 ? 30 : 1) * scale;
    }
    return x;
  },
};

export async function boundBench() {
  const { addon } = loadNative();
  if (!addon) throw new Error('the native addon did not load');
  const hardware = addon.info().bf16Kernel !== null;
  const precisions = hardware ? ['bf16', 'bf16-portable'] : ['bf16-portable'];
  if (!hardware) console.log('this CPU has no AVX512_BF16: the portable first stage only');
  const out = { machine: machine(), sizes: { nq: NQ, nc: NC, dim: DIM, dims: [...DIMS] }, sets: {} };
  let pairs = 0;
  let violations = 0;
  for (const [name, make] of Object.entries(SETS)) {
    const corpus = make();
    const queries = corpus.subarray(0, NQ * DIM);
    for (const precision of precisions) {
      const t0 = performance.now();
      const check = await addon.checkBf16Bound({ queries, corpus, dim: DIM, dims: DIMS, k: 1, threads: 0, device: 'cpu', precision });
      const seconds = (performance.now() - t0) / 1000;
      out.sets[`${name}_${precision}`] = { ...check, seconds: +seconds.toFixed(2) };
      pairs += check.pairs;
      violations += check.violations;
      console.log(
        `${name.padEnd(12)} ${check.engine.padEnd(26)} ${(check.pairs / 1e6).toFixed(0)}M pairs  violations ${check.violations}  largest error ${check.maxError.toExponential(2)}  largest error / bound ${check.maxRatio.toFixed(3)}  (${seconds.toFixed(1)} s)`,
      );
    }
  }
  out.pairs = pairs;
  out.violations = violations;
  console.log(`${(pairs / 1e9).toFixed(2)} billion pairs, ${violations} violations`);
  if (violations > 0) throw new Error(`the bf16 error bound was violated on ${violations} pairs`);
  return out;
}
