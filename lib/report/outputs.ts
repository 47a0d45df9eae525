// Every output file of a run is written here, as a set: into a hidden folder inside the output
// folder (staged), then moved into place together (an old file is kept aside until all new ones
// are in, and restored if a move fails). A run that fails leaves the previous outputs as they
// were and no temporary file behind.
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import type { CompareResult } from '../compare.js';
import type { Dataset } from '../data/dataset.js';
import { npyParts } from '../data/npy.js';
import { writeParts } from '../data/read.js';
import type { Matrix } from '../data/matrix.js';
import { UserError } from '../errors.js';
import type { EvalResult } from '../evaluate.js';
import { metricNames, type KLists } from '../metrics/index.js';
import { headlineMetric } from '../defaults.js';
import { renderChart, renderDeployChart, renderTrainingChart } from './chart.js';
import { compareMarkdown, trainingMarkdown } from './markdown.js';
import { compareResultsJson, perQueryJsonl, type TrainingResultsJson, trainingResultsJson } from './results.js';
import type { TrainingResult } from '../training.js';
import { STATS_METHODS } from '../stats/index.js';
import { DEFAULT_RETRIEVED_K, retrievedJsonl } from './retrieved.js';

const errText = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/**
 * Checks, before any work, that `dir` can receive outputs: an existing writable folder, or a
 * path whose nearest existing ancestor is a writable folder. Creates nothing.
 */
export function checkOutDir(dir: string): void {
  let at = resolve(dir);
  while (!existsSync(at)) {
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  try {
    if (!statSync(at).isDirectory()) throw new UserError(`out ${dir}: cannot create the folder (${at} is a file)`, 'ERR_OUT', 'out');
    accessSync(at, constants.W_OK);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`out ${dir}: cannot write there (${errText(e)})`, 'ERR_OUT', 'out');
  }
}

/** Checks that `metric` is one that `kLists` computes (the chart's and report's headline). */
export function checkHeadlineMetric(metric: string, kLists: KLists): void {
  const names = metricNames(kLists);
  if (!names.includes(metric)) throw new UserError(`chartMetric: "${metric}" is not one of ${names.join(', ')}`, 'ERR_OPTION', 'chartMetric');
}

/** An output set written into a hidden folder inside its destination, not yet in place. */
export interface StagedOutputs {
  /** Each file: where it is now, and where commit() puts it. */
  files: Array<{ staged: string; target: string }>;
  /** Moves every file into place together (an old file is kept aside until all are in, and restored if a move fails); returns the targets. */
  commit(): string[];
  /** Removes the staged files; the destination stays as it was. */
  discard(): void;
}

/**
 * Writes `files` (name -> content) into a hidden folder inside `dir`; nothing in `dir` changes
 * until commit(). A run stages its outputs, records them in the registry, then commits.
 */
export function stageOutputSet(dir: string, files: Record<string, () => string | Uint8Array | Uint8Array[]>): StagedOutputs {
  const tmp = join(dir, `.emb-bench-partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  const names = Object.keys(files);
  try {
    mkdirSync(tmp, { recursive: true });
    for (const name of names) {
      mkdirSync(dirname(join(tmp, name)), { recursive: true }); // names may hold folders (MTEB's layout)
      const content = files[name]();
      writeParts(join(tmp, name), Array.isArray(content) ? content : [content]);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (e instanceof UserError) throw e;
    throw new UserError(`out ${dir}: cannot write the outputs (${errText(e)})`, 'ERR_OUT', 'out');
  }
  const discard = () => rmSync(tmp, { recursive: true, force: true });
  return {
    files: names.map((n) => ({ staged: join(tmp, n), target: join(dir, n) })),
    discard,
    commit() {
      const moved: string[] = [];
      const kept: string[] = [];
      try {
        for (const name of names) {
          const target = join(dir, name);
          mkdirSync(dirname(target), { recursive: true });
          if (existsSync(target)) {
            renameSync(target, join(tmp, `${name}.old`));
            kept.push(name);
          }
          renameSync(join(tmp, name), target);
          moved.push(name);
        }
      } catch (e) {
        for (const name of moved) rmSync(join(dir, name), { force: true });
        for (const name of kept) renameSync(join(tmp, `${name}.old`), join(dir, name));
        discard();
        throw new UserError(`out ${dir}: cannot move the outputs into place (${errText(e)})`, 'ERR_OUT', 'out');
      }
      discard();
      return names.map((n) => join(dir, n));
    },
  };
}

/** Writes `files` (name -> content) into `dir` as one set; returns their paths. */
export function writeOutputSet(dir: string, files: Record<string, () => string | Uint8Array | Uint8Array[]>): string[] {
  return stageOutputSet(dir, files).commit();
}

/** What each query retrieved: retrieved.jsonl's top `retrievedK` (0: no file), with the dataset's ids. */
export interface RetrievedOptions {
  dataset?: Dataset;
  retrievedK?: number;
}

/** retrieved.jsonl of these results, when the dataset is given, retrievedK is not 0 and every result kept its ranked lists. */
function retrievedFile(results: Record<string, EvalResult>, o: RetrievedOptions): Record<string, () => string> {
  const k = o.retrievedK ?? DEFAULT_RETRIEVED_K;
  if (!o.dataset || k === 0 || !Object.values(results).every((r) => r.top)) return {};
  const dataset = o.dataset;
  return { 'retrieved.jsonl': () => retrievedJsonl(dataset, results, k) };
}

/** results.json, per_query.jsonl and retrieved.jsonl of `score` and `eval`, staged. */
export function stageEvalOutputs(dir: string, resultsJson: object, result: EvalResult, o: RetrievedOptions = {}): StagedOutputs {
  return stageOutputSet(dir, {
    'per_query.jsonl': () => perQueryJsonl({ model: result }),
    ...retrievedFile({ model: result }, o),
    'results.json': () => JSON.stringify(resultsJson, null, 2) + '\n',
  });
}

/** results.json, per_query.jsonl and retrieved.jsonl of `score` and `eval`. */
export function writeEvalOutputs(dir: string, resultsJson: object, result: EvalResult, o: RetrievedOptions = {}): string[] {
  return stageEvalOutputs(dir, resultsJson, result, o).commit();
}

export interface CompareOutputOptions {
  /** The headline metric of the chart and report (default ndcg@10). */
  chartMetric?: string;
  /** Display names (default: the model folders' names). */
  names?: { base?: string; tuned?: string };
  /** The dim of the report's gained and lost queries (default: the smallest). */
  moversDim?: number;
  /** Documents per query and dim in retrieved.jsonl (default DEFAULT_RETRIEVED_K; 0: no file). */
  retrievedK?: number;
}

/** Checks that the report's movers dim is one of the run's dims. */
export function checkMoversDim(dim: number | undefined, dims: number[]): void {
  if (dim !== undefined && !dims.includes(dim)) throw new UserError(`moversDim: ${dim} is not one of the dims ${dims.join(',')}`, 'ERR_OPTION', 'moversDim');
}

/** results.json, report.md, chart.png and per_query.jsonl of `compare`, staged. */
export function stageCompareOutputs(dir: string, dataset: Dataset, result: CompareResult, options: CompareOutputOptions = {}): StagedOutputs {
  const metric = options.chartMetric ?? headlineMetric(result.base.kLists);
  checkHeadlineMetric(metric, result.base.kLists);
  checkMoversDim(options.moversDim, result.dims);
  const names = { base: options.names?.base ?? result.base.model.name, tuned: options.names?.tuned ?? result.tuned.model.name };
  return stageOutputSet(dir, {
    'results.json': () => JSON.stringify(compareResultsJson(dataset, result, names), null, 2) + '\n',
    'report.md': () => compareMarkdown(result, dataset, metric, names, options.moversDim),
    'chart.png': () => (result.base.quantization ? renderDeployChart(result, metric, names) : renderChart(result, metric, names)),
    'per_query.jsonl': () => perQueryJsonl({ base: result.base, tuned: result.tuned }),
    ...retrievedFile({ base: result.base, tuned: result.tuned }, { dataset, retrievedK: options.retrievedK }),
  });
}

/** results.json, report.md, chart.png and per_query.jsonl of `compare`, as the command writes them. */
export function writeCompareOutputs(dir: string, dataset: Dataset, result: CompareResult, options: CompareOutputOptions = {}): string[] {
  return stageCompareOutputs(dir, dataset, result, options).commit();
}

/** results.json, report.md, chart.png and per_query.jsonl of a training run, staged; with results.json's content. */
export function stageTrainingOutputs(
  dir: string,
  dataset: Dataset,
  result: TrainingResult,
  o: { runName: string; runPath: string; baseName?: string; kLists: KLists; totalMs: number; retrievedK?: number },
): { outputs: StagedOutputs; results: TrainingResultsJson } {
  const results = trainingResultsJson(dataset, result, { ...o, interval: STATS_METHODS.interval(result.stats), test: STATS_METHODS.test });
  const names = { run: o.runName, base: o.baseName ?? result.base?.model.name };
  const perQuery = Object.fromEntries([
    ...(result.base ? [['base', result.base] as const] : []),
    ...result.checkpoints.map((c) => [c.checkpoint.name, c.result] as const),
  ]);
  const outputs = stageOutputSet(dir, {
    'results.json': () => JSON.stringify(results, null, 2) + '\n',
    'report.md': () => trainingMarkdown(result, dataset, names),
    'chart.png': () => renderTrainingChart(result, names),
    ...(Object.keys(perQuery).length
      ? { 'per_query.jsonl': () => perQueryJsonl(perQuery), ...retrievedFile(perQuery, { dataset, retrievedK: o.retrievedK }) }
      : {}),
  });
  return { outputs, results };
}

/** query_embeddings.npy and corpus_embeddings.npy of `encode` (`suffix` names a shard: `.shard-0-of-4`). */
export function writeEmbeddings(dir: string, queries: Matrix, corpus: Matrix, suffix = ''): string[] {
  return writeOutputSet(dir, {
    [`query_embeddings${suffix}.npy`]: () => npyParts(queries),
    [`corpus_embeddings${suffix}.npy`]: () => npyParts(corpus),
  });
}
