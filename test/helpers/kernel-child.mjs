// Runs the bf16 two-stage engine under the micro-kernel that EMB_BENCH_KERNEL names (the addon
// picks its kernel once per process) and compares it with fp32, bit for bit. Prints JSON, with a
// digest of the fp32 results (the fused multiply-add kernels give the same bits: products, norms,
// order).
//   EMB_BENCH_KERNEL=generic node kernel-child.mjs ADDON_PATH
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

const addon = createRequire(import.meta.url)(process.argv[2]);
let seed = 12345;
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32 - 0.5;
};
const dim = 72;
const corpus = Float32Array.from({ length: 1500 * dim }, rand);
for (let r = 700; r < 760; r++) corpus.copyWithin(r * dim, (r - 700) * dim, (r - 699) * dim); // exact ties
corpus[5] = 1e-39; // denormals among normal values
corpus[3 * dim + 17] = -3e-41;
const queries = Float32Array.from({ length: 37 * dim }, rand);
const base = { queries, corpus, dim, dims: Int32Array.from([72, 40, 18]), k: 15, device: 'cpu', threads: 2, bf16MaxCandidateFraction: 1 };
const fp32 = await addon.score({ ...base, precision: 'fp32' });
const two = await addon.score({ ...base, precision: 'bf16-portable' });
const same = (a, b) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const identical = fp32.indices.every((x, i) => same(x, two.indices[i]) && same(fp32.scores[i], two.scores[i]));
const digest = createHash('sha256');
for (const a of [...fp32.indices, ...fp32.scores]) digest.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
process.stdout.write(
  JSON.stringify({ kernel: addon.info().kernel, engine: two.stats.engine, identical, fallbackQueries: two.stats.fallbackQueries, fp32: digest.digest('hex') }),
);
