export * from './registry.js';
export { loggedRun, reachRegistry, runStart, type LoggedRun, type RunWork } from './record.js';
export { copyRegistry, type CopySummary } from './copy.js';
export { isPostgresUrl, redact } from './store.js';
export {
  EXPORT_COLUMNS,
  EXPORT_FORMATS,
  exportRows,
  exportRuns,
  rowsToCsv,
  rowsToParquet,
  zenmlMetadata,
  type ExportFormat,
  type ExportRow,
} from './export.js';
export {
  compareSelection,
  storedDifferences,
  storedPerQuery,
  storedSuite,
  type StoredSuite,
  type SelectionGroup,
  type SelectionItem,
  type SelectionRow,
  type StoredPerQuery,
} from './selection.js';
