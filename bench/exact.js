// Exact top-k at five dims beside the limits and the other exact methods, same data, same run:
// 50,000 documents x 768, dims 768/512/256/128/64, k = 100 and 10, nq 500 / 2,000 / 5,000,
// 2 threads. Baselines: this host's FMA peak (bench/fma_peak.cc, compiled here), one OpenBLAS
// sgemm of the 768-dim product into a preallocated output (numpy), FAISS exact search
// (IndexFlatIP per dim, where Python can import faiss) and numpy the sentence-transformers way.
// emb-bench runs fp32 and the bf16 two-stage engine (the AVX512_BF16 kernel where the CPU has one,
// else the portable first stage). Each sgemm and FAISS figure is the median of 3 after a warm-up;
// the sentence-transformers way runs once. emb-bench: the median of 5 after a warm-up, each of
// the 5 beside an sgemm run just before it (a Python process that runs one on request), and the
// median of those paired ratios: this host's speed drifts by tens of percent over the minutes
// between the baselines' block and emb-bench's. Then the bf16 candidate fraction on real
// embeddings: the GloVe models in ../shared on SciFact (skipped without ../shared).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadBeir } from '../dist/lib/data/beir.js';
import { readNpy } from '../dist/lib/data/npy.js';
import { Encoder } from '../dist/lib/encode/encoder.js';
import { embedDataset } from '../dist/lib/evaluate.js';
import { loadNative } from '../dist/lib/score/native.js';
import { machine } from './score.js';

const here = (f) => new URL(`./${f}`, import.meta.url).pathname;
const SHARED = join(here('..'), '..', 'shared');
const [NC, DIM, THREADS] = [50000, 768, 2];
const DIMS = [768, 512, 256, 128, 64];
const KS = [100, 10];
const NQS = [500, 2000, 5000];
const PAIRED_REPS = 5;

function json(cmd, args, env = {}) {
  return JSON.parse(
    execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 24 })
      .trim()
      .split('\n')
      .pop(),
  );
}

/** The FMA peak in GFLOP/s with THREADS threads, or null without a compiler or AVX2. */
function fmaPeak(dir) {
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null; // not Linux
  }
  const isa = / avx512f /.test(flags) ? ['-mavx512f'] : / avx2 /.test(flags) && / fma /.test(flags) ? ['-mavx2', '-mfma'] : null;
  if (!isa) return null;
  try {
    execFileSync('c++', ['-O2', ...isa, '-o', join(dir, 'fma_peak'), here('fma_peak.cc'), '-lpthread']);
  } catch {
    return null;
  }
  return json(join(dir, 'fma_peak'), [String(THREADS)]).gflops;
}

/** A Python that imports faiss: python3, else Debian's (python3-faiss), else null. */
function faissPython() {
  for (const py of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(py, ['-c', 'import faiss'], { stdio: 'ignore' });
      return py;
    } catch {}
  }
  return null;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** An sgemm server (exact_baselines.py serve): `sgemm(nq)` resolves to one sgemm's seconds. */
function sgemmServer(qPath, cPath) {
  const child = spawn('python3', [here('exact_baselines.py'), 'serve', qPath, cPath], {
    env: { ...process.env, OPENBLAS_NUM_THREADS: String(THREADS) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async sgemm(nq) {
      child.stdin.write(`${nq}\n`);
      const { value, done } = await lines.next();
      if (done) throw new Error('the sgemm server stopped');
      return JSON.parse(value).sgemm_s;
    },
    close: () => child.stdin.end(),
  };
}

/** The bf16 candidate statistics on the GloVe models' SciFact embeddings. */
async function candidateFractions(addon) {
  const data = join(SHARED, 'data', 'scifact');
  const models = ['glove-6b-100d-mean', 'glove-6b-100d-mean-cranfield'].map((m) => join(SHARED, 'models', m));
  if (!existsSync(data) || !models.every(existsSync)) return null;
  const dataset = loadBeir(data, 'test');
  const rows = {};
  for (const model of models) {
    const encoder = await Encoder.load(model, { cacheDir: null });
    const { queries, corpus } = await embedDataset(encoder, dataset);
    for (const k of KS)
      for (const precision of ['bf16', 'bf16-portable']) {
        const { stats } = await addon.score({
          queries: queries.data,
          corpus: corpus.data,
          dim: corpus.cols,
          dims: Int32Array.from([100, 64, 32, 16]),
          k,
          threads: THREADS,
          device: 'cpu',
          precision,
          bf16MaxCandidateFraction: 1,
        });
        const row = {
          engine: stats.engine,
          queries: queries.rows,
          documents: corpus.rows,
          rescored_per_pair: +(stats.rescored / stats.pairs).toFixed(1),
          rescored_fraction_of_corpus: +(stats.rescored / stats.pairs / corpus.rows).toFixed(4),
          needed_per_pair: +(stats.needed / stats.pairs).toFixed(1),
          fallback_queries: stats.fallbackQueries,
          restarted_queries: stats.restartedQueries,
        };
        rows[`${model.split('/').pop()}_k${k}_${precision}`] = row;
        console.log(
          `  ${model.split('/').pop().padEnd(30)} k ${String(k).padStart(3)} ${row.engine.padEnd(26)} rescored ${row.rescored_per_pair}/pair (${(100 * row.rescored_fraction_of_corpus).toFixed(2)}% of ${corpus.rows} documents), ${row.needed_per_pair} within the bound, ${row.fallback_queries} of ${queries.rows} queries in fp32, ${row.restarted_queries} restarted`,
        );
      }
  }
  return rows;
}

export async function exactBench() {
  const { addon } = loadNative();
  if (!addon) throw new Error('the native addon did not load');
  const dir = mkdtempSync(join(tmpdir(), 'emb-exact-'));
  try {
    const [qPath, cPath] = [join(dir, 'q.npy'), join(dir, 'c.npy')];
    execFileSync('python3', [here('make_embeddings.py'), String(Math.max(...NQS)), String(NC), String(DIM), qPath, cPath]);
    const args = [qPath, cPath, DIMS.join(','), KS.join(','), NQS.join(',')];
    const peak = fmaPeak(dir);
    const numpy = json('python3', [here('exact_baselines.py'), 'numpy', ...args], { OPENBLAS_NUM_THREADS: String(THREADS) });
    const py = faissPython();
    const faiss = py ? json(py, [here('exact_baselines.py'), 'faiss', ...args], { OMP_NUM_THREADS: String(THREADS), BENCH_THREADS: String(THREADS) }) : null;
    const out = {
      machine: machine(),
      sizes: { nc: NC, dim: DIM, dims: DIMS, ks: KS, nqs: NQS, threads: THREADS },
      fma_peak_gflops: peak,
      numpy_blas: numpy.blas,
      faiss: faiss ? { version: faiss.faiss, blas: faiss.blas } : 'not installed (Debian: python3-faiss)',
      runs: {},
    };
    console.log(
      `FMA peak, ${THREADS} threads: ${peak ? `${peak} GFLOP/s` : 'not measured (no c++ or no AVX2)'}; numpy BLAS: ${numpy.blas}; FAISS: ${faiss ? `${faiss.faiss} over ${faiss.blas.join(', ')}` : 'not installed'}`,
    );
    const q = readNpy(qPath);
    const corpus = readNpy(cPath).data;
    const server = sgemmServer(qPath, cPath);
    try {
      for (const nq of NQS) {
        const sgemm = numpy[`sgemm_nq${nq}`];
        const atPeak = peak ? (2 * nq * NC * DIM) / (peak * 1e9) : null;
        console.log(
          `nq ${nq}: one sgemm (768-dim product) ${(sgemm * 1000).toFixed(0)} ms${atPeak ? `; the same FLOPs at the FMA peak ${(atPeak * 1000).toFixed(0)} ms` : ''}`,
        );
        for (const k of KS) {
          const row = { sgemm_s: +sgemm.toFixed(3), fma_peak_s: atPeak && +atPeak.toFixed(3), st_way_s: +numpy[`st_way_nq${nq}_k${k}`].toFixed(3) };
          if (faiss) row.faiss_s = +faiss[`faiss_nq${nq}_k${k}`].toFixed(3);
          const queries = q.data.subarray(0, nq * DIM);
          const run = (precision) => addon.score({ queries, corpus, dim: DIM, dims: Int32Array.from(DIMS), k, threads: THREADS, device: 'cpu', precision });
          const times = { sgemm: [], fp32: [], bf16: [] };
          const last = { fp32: await run('fp32'), bf16: await run('bf16') }; // warm-up
          for (let i = 0; i < PAIRED_REPS; i++) {
            times.sgemm.push(await server.sgemm(nq));
            for (const precision of ['fp32', 'bf16']) {
              const t0 = performance.now();
              last[precision] = await run(precision);
              times[precision].push((performance.now() - t0) / 1000);
            }
          }
          row.sgemm_paired_s = +median(times.sgemm).toFixed(3);
          for (const precision of ['fp32', 'bf16']) {
            const { stats } = last[precision];
            row[`${precision}_s`] = +median(times[precision]).toFixed(3);
            row[`${precision}_paired_ratio`] = +median(times[precision].map((t, i) => t / times.sgemm[i])).toFixed(3);
            row[`${precision}_engine`] = stats.engine;
            row[`${precision}_restarted_queries`] = stats.restartedQueries;
            if (precision === 'bf16') {
              row.bf16_rescored_per_pair = +(stats.rescored / stats.pairs).toFixed(1);
              row.bf16_fallback_queries = stats.fallbackQueries;
            }
          }
          out.runs[`nq${nq}_k${k}`] = row;
          const x = (s) => `${(s * 1000).toFixed(0)} ms (${(s / sgemm).toFixed(2)}x sgemm)`;
          console.log(
            `  k ${String(k).padStart(3)}: emb-bench fp32 ${x(row.fp32_s)}, ${row.fp32_paired_ratio}x its paired sgemms | bf16 (${row.bf16_engine}) ${x(row.bf16_s)}, ${row.bf16_paired_ratio}x its paired sgemms (median ${(row.sgemm_paired_s * 1000).toFixed(0)} ms), ${row.bf16_rescored_per_pair} rescored/pair, ${row.bf16_fallback_queries} queries in fp32; restarted from -inf: fp32 ${row.fp32_restarted_queries}, bf16 ${row.bf16_restarted_queries} | ` +
              `${faiss ? `FAISS IndexFlatIP per dim ${x(row.faiss_s)} | ` : ''}numpy the sentence-transformers way ${x(row.st_way_s)}`,
          );
        }
      }
    } finally {
      server.close();
    }
    console.log('bf16 candidates on real embeddings (GloVe models, SciFact test, dims 100/64/32/16):');
    out.glove_scifact = await candidateFractions(addon);
    if (!out.glove_scifact) console.log('  skipped: ../shared is missing');
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
