// The corpus rows the CPU engine samples to set its start thresholds (native/cpu/thresholds.cc,
// start_thresholds: kSampleRank 10, kSampleExpect 6, at most 1/32 of the corpus, at least 40
// rows), for tests that build data to mislead it. [] where the engine takes no sample.
import { gaussianArray } from '../../lib/random.js';

export function sampleRows(nc: number, K: number): number[] {
  const S = Math.ceil((10 * nc) / (6 * K));
  if (S * 32 > nc || S < 40) return [];
  const step = Math.floor(nc / S);
  return Array.from({ length: S }, (_, s) => Math.floor(step / 2) + s * step);
}

/**
 * Queries near one direction; a corpus of Gaussian rows except `near`, which lie near that
 * direction too: a sample of those rows puts the start above all but a few rows of the corpus.
 */
export function misleadingSample(nq: number, nc: number, dim: number, near: number[], seed: number) {
  const v = gaussianArray(dim, seed);
  const noise = gaussianArray((nq + near.length) * dim, seed + 1);
  const queries = new Float32Array(nq * dim);
  for (let i = 0; i < nq * dim; i++) queries[i] = v[i % dim] + 0.3 * noise[i];
  const corpus = gaussianArray(nc * dim, seed + 2);
  near.forEach((row, n) => {
    for (let j = 0; j < dim; j++) corpus[row * dim + j] = v[j] + 0.3 * noise[(nq + n) * dim + j];
  });
  return { queries, corpus };
}
