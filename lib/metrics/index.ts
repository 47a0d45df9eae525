export * from './metrics.js';
export * from './keys.js';
