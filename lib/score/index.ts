export * from './engine.js';
export * from './types.js';
export { scoreTopKReference } from './reference.js';
export * from './quantized.js';
