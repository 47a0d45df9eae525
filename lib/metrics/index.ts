export * from './metrics.js';
export * from './keys.js';
export * from './trec.js';
