// npm run bench -- score [--nq 5000 --nc 100000 --dim 768 --dims 768,512,256,128,64]
// emb-bench's engine beside numpy (same data, same run); writes bench/results/score.json.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { writeNpy } from '../dist/lib/data/npy.js';
import { engineInfo, scoreTopK } from '../dist/lib/score/index.js';

const args = process.argv.slice(2);
const which = args[0] && !args[0].startsWith('--') ? args[0] : 'score';
const flag = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
if (which !== 'score') {
  console.error(`unknown benchmark "${which}" (available: score)`);
  process.exit(2);
}
const nq = Number(flag('nq', 5000));
const nc = Number(flag('nc', 100000));
const dim = Number(flag('dim', 768));
const dims = flag('dims', '768,512,256,128,64').split(',').map(Number);
const k = 100;

let seed = 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
const matrix = (rows) => ({ data: Float32Array.from({ length: rows * dim }, rand), rows, cols: dim });
const queries = matrix(nq);
const corpus = matrix(nc);
const dir = mkdtempSync(join(tmpdir(), 'emb-bench-'));
writeNpy(join(dir, 'q.npy'), queries);
writeNpy(join(dir, 'c.npy'), corpus);

await scoreTopK(matrix(8), matrix(64), { dims, k: 10 }); // warm-up
const t0 = performance.now();
await scoreTopK(queries, corpus, { dims, k });
const ours = (performance.now() - t0) / 1000;
const numpy = JSON.parse(execFileSync('python3', [new URL('./score_numpy.py', import.meta.url).pathname, join(dir, 'q.npy'), join(dir, 'c.npy'), dims.join(','), String(k)], { encoding: 'utf8' }));
rmSync(dir, { recursive: true, force: true });

const flops = 2 * nq * nc * dim;
const info = engineInfo();
const result = {
  benchmark: 'score',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30), kernel: info.kernel },
  sizes: { nq, nc, dim, dims, k },
  emb_bench_s: ours,
  emb_bench_gflops: flops / ours / 1e9,
  ...numpy,
  ratio_vs_numpy_per_dim: numpy.numpy_per_dim_s / ours,
  ratio_vs_one_matmul: ours / numpy.numpy_one_matmul_s,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/score.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
console.log(`score: nq=${nq} nc=${nc} D=${dim} dims=${dims.join(',')} k=${k} on ${result.machine.cpu} (${result.machine.cores} cores, ${info.kernel})`);
console.log(`  emb-bench (all dims, one pass)   ${ours.toFixed(2)} s   ${result.emb_bench_gflops.toFixed(1)} GFLOP/s (2*nq*nc*${dim})`);
console.log(`  numpy per dim (ST's way)         ${numpy.numpy_per_dim_s.toFixed(2)} s   -> emb-bench is ${result.ratio_vs_numpy_per_dim.toFixed(2)}x faster`);
console.log(`  numpy one ${dim}-dim matmul only   ${numpy.numpy_one_matmul_s.toFixed(2)} s   -> emb-bench takes ${result.ratio_vs_one_matmul.toFixed(2)}x of it`);
