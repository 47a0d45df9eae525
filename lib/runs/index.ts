// The run layer: one function per command, typed options in, typed results out. The command
// line parses flags, calls one of these and prints what it returns; a library caller does the
// same without it.
export { runEval, type EvalRun, type EvalRunOptions } from './eval.js';
export { runCompare, type CompareRun, type CompareRunOptions, type CompareShardRun } from './compare.js';
export { runScore, readEmbeddings, type ScoreRun, type ScoreRunOptions, type ScoreShardRun } from './score.js';
export { runEncode, type EncodeRun, type EncodeRunOptions } from './encode.js';
export { runMerge, type MergeRun, type MergeRunOptions } from './merge.js';
export { runTraining, type TrainingRun, type TrainingRunOptions, type WatchOptions } from './training.js';
export { shardFromEnv } from './scheduler.js';
export {
  runEvalSuite,
  runCompareSuite,
  expandData,
  isSuite,
  suiteKey,
  NANOBEIR_DATASETS,
  NANOBEIR_REPO,
  type DataSpec,
  type EvalSuiteRun,
  type CompareSuiteRun,
  type SuiteDataset,
  type SuiteDifference,
} from './suite.js';
export { queryTextsOf } from './texts.js';
export type { EncodingOptions, LoggingOptions, RunListeners, ScoringOptions } from './options.js';
export type { CompareExtra, CompareHeader, CompareRunKey, ModelSettings, ScoreExtra, ScoreHeader, ScoreRunKey } from './parts.js';
