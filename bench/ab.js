// A/B of two builds of the scoring engine on the same requests, interleaved, each timing in a
// process of its own (median of the repeats): for engine changes, whose gains are smaller than
// this machine's noise between runs.
//   npm run bench -- ab BEFORE.node AFTER.node [reps]
// BEFORE/AFTER: emb_bench.node files (e.g. build the old source with
// `npx cmake-js compile --out build-old`). Sizes: nq x nc at D 768, five dims, k 100.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { machine } from './score.js';

const SIZES = [
  [1000, 10000],
  [100, 100000],
  [1000, 100000],
  [2000, 100000],
  [1000, 1000000],
];
const DIMS = [768, 512, 256, 128, 64];

async function child(nq, nc) {
  const { engineInfo, scoreTopK } = await import('../dist/lib/score/index.js');
  const { seededRandom } = await import('../dist/lib/random.js');
  if (!engineInfo().native) throw new Error(`${process.env.EMB_BENCH_ADDON} did not load: ${engineInfo().reason}`);
  const D = 768;
  const u = seededRandom(1);
  const rand = (n) => Float32Array.from({ length: n }, () => u() * 2 - 1);
  const q = { data: rand(nq * D), rows: nq, cols: D };
  const c = { data: rand(nc * D), rows: nc, cols: D };
  await scoreTopK({ data: q.data.subarray(0, 8 * D), rows: 8, cols: D }, c, { dims: DIMS, k: 100 }); // warm-up
  const t0 = performance.now();
  await scoreTopK(q, c, { dims: DIMS, k: 100 });
  console.log(performance.now() - t0);
}

export async function abBench([before, after, reps = '3']) {
  if (!before || !after) {
    console.error('usage: npm run bench -- ab BEFORE.node AFTER.node [reps]');
    process.exit(2);
  }
  const builds = { before: resolve(before), after: resolve(after) };
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const rows = [];
  for (const [nq, nc] of SIZES) {
    const ms = { before: [], after: [] };
    for (let r = 0; r < Number(reps); r++)
      for (const [name, addon] of Object.entries(builds)) {
        const out = execFileSync(process.execPath, [new URL(import.meta.url).pathname, '--child', String(nq), String(nc)], {
          env: { ...process.env, EMB_BENCH_ADDON: addon },
          encoding: 'utf8',
        });
        ms[name].push(Number(out.trim()));
      }
    const row = { nq, nc, before_ms: median(ms.before), after_ms: median(ms.after) };
    row.speedup = row.before_ms / row.after_ms;
    rows.push(row);
    console.log(`nq ${nq} nc ${nc}: before ${row.before_ms.toFixed(0)} ms, after ${row.after_ms.toFixed(0)} ms -> ${row.speedup.toFixed(2)}x`);
  }
  return { benchmark: 'ab', date: new Date().toISOString(), machine: machine(), builds, reps: Number(reps), dims: DIMS, k: 100, D: 768, rows };
}

if (process.argv[2] === '--child') await child(Number(process.argv[3]), Number(process.argv[4]));
