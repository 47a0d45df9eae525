// Public API of emb-bench: re-exports only.
export { UserError, RuntimeError, InterruptedError, invalidParameter } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { Dataset, DatasetCounts, Texts, JudgedQueries } from './data/dataset.js';
export { judgeQueries, datasetCounts, datasetFingerprint } from './data/dataset.js';
export { loadBeir } from './data/beir.js';
export { loadDataset } from './data/load.js';
export type { LoadOptions } from './data/load.js';
export { loadPairs, ZENML_FIELDS } from './data/pairs.js';
export { readNpy, parseNpy, writeNpy } from './data/npy.js';
export type { Matrix } from './data/matrix.js';
export { scoreTopK, scoreTopKReference, selectEngine, engineInfo, checkDims } from './score/index.js';
export type { Engine, EngineInfo, EngineSettings, ScoreOptions, TopKResult, Device, Arithmetic, KernelChoice } from './score/index.js';
export { ARITHMETICS, KERNELS, engineSettings } from './score/index.js';
export {
  PRECISIONS,
  DEFAULT_RESCORE_MULTIPLIER,
  bytesPerVector,
  calibrationRanges,
  quantize,
  quantizeRows,
  scoreQuantized,
  scoreQuantizedRows,
  scoreQuantizedReference,
} from './score/index.js';
export type { Precision, QuantizedPrecision, Ranges, QuantizedTopK, QuantizedRun } from './score/index.js';
export {
  computeMetrics,
  computeTrecMetrics,
  metricNames,
  metricKey,
  parseMetricKey,
  maxK,
  DEFAULT_K_LISTS,
  TREC_K_LISTS,
  MTEB_K_VALUES,
  CONVENTIONS,
  trecOrder,
} from './metrics/index.js';
export type { KLists, Judgments, QueryMetrics, Conventions, GradedJudgments } from './metrics/index.js';
export { pairedBootstrapCI, pairedRandomizationTest, holm, compareMetrics, pairedTests, DEFAULT_STATS } from './stats/index.js';
export type { Difference, StatsOptions } from './stats/index.js';
export { evaluateEmbeddings, evaluateModel, embedDataset, indexSizes } from './evaluate.js';
export { deployPoints, humanBytes, smallestSafe } from './report/deploy.js';
export type { DeployPoint } from './report/deploy.js';
export type { EvalOptions, EvalResult, ModelEvalResult, QuantizationOptions, QuantizationResult } from './evaluate.js';
export { compare } from './compare.js';
export type { CompareOptions, CompareResult } from './compare.js';
export { Encoder, TokenMemo } from './encode/encoder.js';
export type { EncoderOptions, TextKind } from './encode/encoder.js';
export { isTrainingOutput, listCheckpoints, readTrainerState } from './encode/checkpoints.js';
export type { Checkpoint, TrainerState } from './encode/checkpoints.js';
export { evaluateCheckpoint, summarizeTraining, trainerAgreement } from './training.js';
export type { CheckpointPick, CheckpointResult, TrainerAgreement, TrainingResult } from './training.js';
export { readModel } from './encode/model.js';
export type { ModelSpec, PoolingMode } from './encode/model.js';
export { EmbeddingCache, compactCacheDir } from './encode/cache.js';
export { checkOutDir, checkHeadlineMetric, writeCompareOutputs, writeEvalOutputs, writeEmbeddings, writeOutputSet } from './report/outputs.js';
export type { CompareOutputOptions } from './report/outputs.js';
export { compareResultsJson, evalResultsJson, perQueryJsonl, trainingResultsJson } from './report/results.js';
export type { CheckpointJson, CompareResultsJson, EvalResultsJson, TrainingResultsJson } from './report/results.js';
export { compareMarkdown, differenceTable, trainingMarkdown } from './report/markdown.js';
export { stripControl } from './report/escape.js';
export { renderChart, renderTrainingChart } from './report/chart.js';
export {
  Registry,
  defaultRegistryPath,
  STAGES,
  loggedRun,
  runStart,
  copyRegistry,
  redact,
  parseMetricCondition,
  parseTag,
  exportRuns,
  exportRows,
  rowsToCsv,
  rowsToParquet,
  zenmlMetadata,
  EXPORT_COLUMNS,
  EXPORT_FORMATS,
  compareSelection,
  storedDifferences,
  storedPerQuery,
} from './registry/index.js';
export type {
  ModelIdentity,
  RunModelRecord,
  RunStart,
  RunStatus,
  ListedRunStatus,
  Stage,
  CopySummary,
  RunFilter,
  MetricCondition,
  ExportFormat,
  ExportRow,
  SelectionGroup,
  SelectionItem,
  SelectionRow,
} from './registry/index.js';
export { software, hardware, packageVersion } from './host.js';
export { seededRandom } from './random.js';
export type { ProgressEvent, ProgressListener } from './progress.js';
export { writeDemo } from './demo/data.js';
export type { DemoSetup } from './demo/data.js';
export { VERSION } from './version.js';
export { parseShard, shardRange } from './score/shards.js';
export type { Shard } from './score/shards.js';
export {
  DEFAULT_CACHE_DIR,
  DEFAULT_DEMO_DIR,
  DEFAULT_OUT_DIR,
  DEFAULT_SEED,
  DEFAULT_SPLIT,
  HEADLINE_METRIC,
  headlineMetric,
} from './defaults.js';
export * from './runs/index.js';
