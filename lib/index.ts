// Public API of emb-bench.
export { UserError, RuntimeError } from './errors.js';
export type { Dataset, Texts, JudgedQueries } from './data/dataset.js';
export { judgeQueries } from './data/dataset.js';
export { loadBeir } from './data/beir.js';
export { readNpy, parseNpy, writeNpy } from './data/npy.js';
export type { Matrix } from './data/matrix.js';
export { scoreTopK, scoreTopKReference, engineInfo } from './score/index.js';
export type { ScoreOptions, TopKResult } from './score/index.js';
export { computeMetrics, metricNames, metricKey, DEFAULT_K_LISTS } from './metrics/index.js';
export type { KLists, Judgments, QueryMetrics } from './metrics/index.js';
export { evaluateEmbeddings } from './evaluate.js';
export type { EvalOptions, EvalResult } from './evaluate.js';
export { VERSION } from './version.js';
