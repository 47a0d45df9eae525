// Every default a user meets, in one place: the library falls back to these and the command
// line's help prints them.
import { join } from 'node:path';
import type { KLists } from './metrics/index.js';

export { DEFAULT_K_LISTS } from './metrics/index.js';
export { defaultRegistryPath } from './registry/registry.js';

/** The metric of the chart, the headline table and the report's gained/lost queries. */
export const HEADLINE_METRIC = 'ndcg@10';
/** The headline metric in a k list's conventions (trec: MTEB's main_score, ndcg_at_10). */
export function headlineMetric(kLists?: KLists): string {
  return kLists?.conventions === 'trec' ? 'ndcg_at_10' : HEADLINE_METRIC;
}
/** Where runs write their outputs. */
export const DEFAULT_OUT_DIR = 'emb-bench-out';
/** Where `demo` writes its data, models and outputs. */
export const DEFAULT_DEMO_DIR = 'emb-bench-demo';
/** The embedding cache (relative to the working directory). */
export const DEFAULT_CACHE_DIR = join('.emb-bench', 'cache');
/** The qrels split of a BEIR folder or a Hub dataset. */
export const DEFAULT_SPLIT = 'test';
/** Seed of the bootstrap and the randomization test. */
export const DEFAULT_SEED = 0;
