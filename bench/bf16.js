// The bf16 two-stage engine beside the fp32 engine and one float32 sgemm of the largest product
// (numpy's matmul into a preallocated output: the fp32 arithmetic limit on this host), same data,
// same run: 2,000 x 50,000 x 768, five dims, k = 100 and k = 10, 2 threads. Each figure is the
// median of 3 runs after a warm-up; the candidate statistics come from the engine.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gaussianArray } from '../dist/lib/random.js';
import { loadNative } from '../dist/lib/score/native.js';
import { machine } from './score.js';

const SGEMM = `
import sys, time, numpy as np
nq, nc, d = map(int, sys.argv[1:4])
q = np.random.default_rng(1).standard_normal((nq, d), dtype=np.float32)
c = np.random.default_rng(2).standard_normal((nc, d), dtype=np.float32)
out = np.empty((nq, nc), dtype=np.float32)
np.matmul(q, c.T, out=out)
t = []
for _ in range(3):
    t0 = time.perf_counter(); np.matmul(q, c.T, out=out); t.append(time.perf_counter() - t0)
print(sorted(t)[1])
`;

export async function bf16Bench() {
  const { addon } = loadNative();
  if (!addon) throw new Error('the native addon did not load');
  const [nq, nc, dim] = [2000, 50000, 768];
  const dims = Int32Array.from([768, 512, 256, 128, 64]);
  const dir = mkdtempSync(join(tmpdir(), 'emb-bf16-'));
  writeFileSync(join(dir, 'sgemm.py'), SGEMM);
  const sgemmS = Number(execFileSync('python3', [join(dir, 'sgemm.py'), String(nq), String(nc), String(dim)], { encoding: 'utf8' }));
  const queries = gaussianArray(nq * dim, 1);
  const corpus = gaussianArray(nc * dim, 2);
  const out = { machine: machine(), sizes: { nq, nc, dim, dims: [...dims], threads: 2 }, sgemm_768_s: +sgemmS.toFixed(3), runs: {} };
  console.log(`numpy float32 matmul ${nq} x ${nc} x ${dim} (one product, dim 768): ${(sgemmS * 1000).toFixed(0)} ms`);
  for (const k of [100, 10]) {
    for (const precision of ['fp32', 'bf16', 'bf16-portable']) {
      const req = { queries, corpus, dim, dims, k, threads: 2, device: 'cpu', precision };
      await addon.score(req);
      const times = [];
      let stats;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        stats = (await addon.score(req)).stats;
        times.push((performance.now() - t0) / 1000);
      }
      const s = times.sort((a, b) => a - b)[1];
      const row = {
        engine: stats.engine,
        seconds: +s.toFixed(3),
        vs_sgemm: +(s / sgemmS).toFixed(2),
        rescored_per_pair: stats.pairs ? +(stats.rescored / stats.pairs).toFixed(1) : null,
        needed_per_pair: stats.pairs ? +(stats.needed / stats.pairs).toFixed(1) : null,
        fallback_queries: stats.fallbackQueries,
      };
      out.runs[`k${k}_${precision}`] = row;
      console.log(
        `k ${String(k).padStart(3)} ${precision.padEnd(14)} ${row.engine.padEnd(26)} ${(s * 1000).toFixed(0).padStart(5)} ms  ${row.vs_sgemm.toFixed(2)}x sgemm` +
          (stats.pairs ? `  rescored ${row.rescored_per_pair}/pair (${row.needed_per_pair} within the bound), ${row.fallback_queries} queries in fp32` : ''),
      );
    }
  }
  return out;
}
