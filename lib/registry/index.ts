export * from './registry.js';
export { loggedRun, reachRegistry, runStart, type LoggedRun, type RunWork } from './record.js';
export { copyRegistry, type CopySummary } from './copy.js';
export { isPostgresUrl, redact } from './store.js';
