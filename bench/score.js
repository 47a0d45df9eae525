// Scoring benchmarks: emb-bench's one-pass engine beside numpy (same data, same run).
//   score: nq 5,000 x nc 100,000 x 768, five dims (the Foundation issue's sizes)
//   scale: nq 1,000 x nc 10k / 100k / 1M x 768, five dims, with peak memory
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

const here = (f) => new URL(`./${f}`, import.meta.url).pathname;
const DIMS = '768,512,256,128,64';
const K = 100;

function runOne(nq, nc, dim) {
  const dir = mkdtempSync(join(tmpdir(), 'emb-bench-'));
  try {
    const q = join(dir, 'q.npy');
    const c = join(dir, 'c.npy');
    execFileSync('python3', [here('make_embeddings.py'), String(nq), String(nc), String(dim), q, c]);
    const ours = JSON.parse(execFileSync(process.execPath, [here('score_child.js'), q, c, DIMS, String(K)], { encoding: 'utf8' }));
    const numpy = JSON.parse(execFileSync('python3', [here('score_numpy.py'), q, c, DIMS, String(K)], { encoding: 'utf8' }));
    const embeddingsMib = ((nq + nc) * dim * 4) / 2 ** 20;
    return {
      sizes: { nq, nc, dim, dims: DIMS.split(',').map(Number), k: K },
      emb_bench_s: ours.seconds,
      emb_bench_gflops: (2 * nq * nc * dim) / ours.seconds / 1e9,
      emb_bench_peak_rss_mib: ours.peak_rss_mib,
      embeddings_mib: embeddingsMib,
      peak_rss_over_embeddings: ours.peak_rss_mib / embeddingsMib,
      kernel: ours.kernel,
      ...numpy,
      speedup_vs_numpy_per_dim: numpy.numpy_per_dim_s / ours.seconds,
      time_over_one_matmul: ours.seconds / numpy.numpy_one_matmul_s,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function machine() {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version };
}

export function scoreBench(which) {
  const cases =
    which === 'scale'
      ? [
          [1000, 10000],
          [1000, 100000],
          [1000, 1000000],
        ]
      : [[5000, 100000]];
  const rows = [];
  for (const [nq, nc] of cases) {
    const r = runOne(nq, nc, 768);
    rows.push(r);
    console.log(
      `nq=${nq} nc=${nc} D=768 dims=${DIMS} k=${K} (${r.kernel}): emb-bench ${r.emb_bench_s.toFixed(2)} s (${r.emb_bench_gflops.toFixed(1)} GFLOP/s, peak ${r.emb_bench_peak_rss_mib.toFixed(0)} MiB = ${r.peak_rss_over_embeddings.toFixed(2)}x embeddings) | ` +
        `numpy per dim ${r.numpy_per_dim_s.toFixed(2)} s -> ${r.speedup_vs_numpy_per_dim.toFixed(2)}x faster | numpy one matmul ${r.numpy_one_matmul_s.toFixed(2)} s -> ${r.time_over_one_matmul.toFixed(2)}x of it | numpy peak ${r.numpy_peak_rss_mib.toFixed(0)} MiB`,
    );
  }
  return { benchmark: which, date: new Date().toISOString(), machine: machine(), results: rows };
}
