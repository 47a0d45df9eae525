// One scoring run in its own process, so its peak memory is its own: reads the .npy files,
// scores every dim in one pass, prints seconds and peak RSS as JSON.
import { readNpy } from '../dist/lib/data/npy.js';
import { engineInfo, scoreTopK } from '../dist/lib/score/index.js';

const [qPath, cPath, dimsText, k] = process.argv.slice(2);
const queries = readNpy(qPath);
const corpus = readNpy(cPath);
const dims = dimsText.split(',').map(Number);
await scoreTopK({ data: queries.data.subarray(0, 8 * queries.cols), rows: 8, cols: queries.cols }, corpus, { dims, k: Number(k) }); // warm-up
const t0 = performance.now();
await scoreTopK(queries, corpus, { dims, k: Number(k) });
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ seconds, peak_rss_mib: process.resourceUsage().maxRSS / 1024, kernel: engineInfo().kernel }));
