export * from './registry.js';
export { loggedRun, runStart, type LoggedRun, type RunWork } from './record.js';
