// What sharding costs on one machine: nq 1,000 x nc 100,000 x 768, five dims, k 100, scored in
// one pass beside the same work as N corpus shards (score each slice, write its partial top-k,
// read them back, merge), in the same process, with the merged lists checked equal.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scoreSlice } from '../dist/lib/compare.js';
import { seededRandom } from '../dist/lib/random.js';
import { scoreTopK } from '../dist/lib/score/index.js';
import { mergePartials, readPartial, shardRange, writePartial } from '../dist/lib/score/shards.js';
import { machine } from './score.js';

const [NQ, NC, D, K] = [1000, 100_000, 768, 100];
const DIMS = [768, 512, 256, 128, 64];

export async function shardsBench() {
  const u = seededRandom(3);
  const rand = (n) => Float32Array.from({ length: n }, () => u() * 2 - 1);
  const queries = { data: rand(NQ * D), rows: NQ, cols: D };
  const corpus = { data: rand(NC * D), rows: NC, cols: D };
  let t = performance.now();
  const one = await scoreTopK(queries, corpus, { dims: DIMS, k: K });
  const oneS = (performance.now() - t) / 1000;
  const rows = [];
  for (const n of [2, 4, 8]) {
    const dir = mkdtempSync(join(tmpdir(), 'emb-shards-'));
    t = performance.now();
    let scoreS = 0;
    const parts = [];
    for (let i = 0; i < n; i++) {
      const r = shardRange(NC, { index: i, count: n });
      const t0 = performance.now();
      const top = await scoreSlice(queries, { data: corpus.data.subarray(r.start * D, r.end * D), rows: r.end - r.start, cols: D }, r.start, DIMS, K, {});
      scoreS += (performance.now() - t0) / 1000;
      const path = join(dir, `p${i}.part`);
      writePartial(path, { run: { bench: 1 }, shard: { index: i, count: n }, corpus: { ...r, total: NC }, extra: {} }, { model: top });
      parts.push(path);
    }
    const t1 = performance.now();
    const merged = mergePartials(
      parts.map((path) => ({ path, partial: readPartial(path) })),
      K,
    );
    const mergeS = (performance.now() - t1) / 1000;
    const totalS = (performance.now() - t) / 1000;
    const same = DIMS.every(
      (_, o) => merged.model.indices[o].every((v, i) => v === one.indices[o][i]) && merged.model.scores[o].every((v, i) => v === one.scores[o][i]),
    );
    rows.push({
      shards: n,
      total_s: totalS,
      score_s: scoreS,
      write_read_merge_s: totalS - scoreS,
      merge_s: mergeS,
      over_one_pass: totalS / oneS,
      identical: same,
    });
    console.log(
      `${n} shards: ${totalS.toFixed(2)} s (scoring ${scoreS.toFixed(2)} s, partials + merge ${(totalS - scoreS).toFixed(2)} s) vs one pass ${oneS.toFixed(2)} s: ${(totalS / oneS).toFixed(2)}x, identical: ${same}`,
    );
  }
  return { machine: machine(), sizes: { nq: NQ, nc: NC, dim: D, dims: DIMS, k: K }, one_pass_s: oneS, engine: one.engine, rows };
}
