// What every run takes: where it logs, how it encodes, and who hears about it.
import { DEFAULT_CACHE_DIR, DEFAULT_OUT_DIR, defaultRegistryPath, headlineMetric } from '../defaults.js';
import type { EncoderOptions } from '../encode/encoder.js';
import { DEFAULT_K_LISTS, type KLists } from '../metrics/index.js';
import { checkHeadlineMetric, checkOutDir, writeOutputSet } from '../report/outputs.js';
import { taskKLists } from '../hub/mteb-tasks.js';
import { mtebModel, mtebResultFiles } from '../report/mteb.js';
import { checkTrecIds, ranxFiles, trecRunFiles } from '../report/retrieved.js';
import type { Dataset } from '../data/dataset.js';
import type { EvalResult, ModelEvalResult } from '../evaluate.js';
import { invalidParameter, UserError } from '../errors.js';
import type { ProgressListener } from '../progress.js';
import { engineSettings } from '../score/engine.js';
import type { Arithmetic, Device, KernelChoice } from '../score/types.js';

export interface RunListeners {
  /** Stops the run at its next check with InterruptedError; nothing is written. */
  signal?: AbortSignal;
  /** Long work (downloads, encoding) reports its progress here. */
  onProgress?: ProgressListener;
  /** What the run goes on despite, one line each. */
  onWarning?: (message: string) => void;
}

export interface ScoringOptions {
  /** Matryoshka dims (default: the full width; for compare, the smaller model's). */
  dims?: number[];
  kLists?: KLists;
  device?: Device;
  /** CPU threads for inference and scoring (default: all cores). */
  threads?: number;
  /** The CPU engine's arithmetic and micro-kernel (default: the environment, else auto); the same scores from each. */
  arithmetic?: Arithmetic;
  kernel?: KernelChoice;
}

/**
 * A reporting run's settings with their defaults, checked before any data is read or any model
 * loads: the headline metric against the k lists, the scoring settings, the output folder.
 */
export function reportingOptions(o: ScoringOptions & { chartMetric?: string; out?: string }): {
  chartMetric: string;
  kLists: KLists;
  out: string;
  scoring: ScoringOptions;
} {
  const kLists = o.kLists ?? DEFAULT_K_LISTS;
  const chartMetric = o.chartMetric ?? headlineMetric(kLists);
  const out = o.out ?? DEFAULT_OUT_DIR;
  checkHeadlineMetric(chartMetric, kLists);
  const scoring = scoringOptions(o);
  checkOutDir(out);
  return { chartMetric, kLists, out, scoring };
}

/** The scoring settings of a run, checked before any data is read (a kernel the CPU cannot run is a usage error). */
export function scoringOptions(o: ScoringOptions): ScoringOptions {
  const { arithmetic, kernel } = engineSettings(o);
  return { dims: o.dims, kLists: o.kLists, device: o.device, threads: o.threads, arithmetic, kernel };
}

/**
 * The k lists of a run on `dataset`: the asked ones (default DEFAULT_K_LISTS), with MTEB's
 * ignore_identical_ids where the dataset's MTEB task sets it under the trec conventions
 * (taskKLists); the line that says so goes to onWarning.
 */
export function runKLists(dataset: Dataset, kLists: KLists | undefined, l: RunListeners): KLists {
  const r = taskKLists(dataset, kLists ?? DEFAULT_K_LISTS);
  if (r.note) l.onWarning?.(r.note);
  return r.kLists;
}

/** The files a run writes beside its results: what each query retrieved, and what other IR tools read. */
export interface RetrievalOutputOptions {
  /** Documents per query and dim in retrieved.jsonl (default 10; 0: no retrieved.jsonl). */
  retrievedK?: number;
  /** Also write TREC run files (one per model and dim, the whole scored top k) and the qrels here, for trec_eval and ranx. */
  trecRun?: string;
  /** Also write ranx's JSON run (one per model and dim) and qrels here. */
  ranxRun?: string;
  /** Also write MTEB's result files here, in its results repository's layout (needs the trec conventions). */
  mtebResults?: string;
}

/**
 * Checks the retrieval outputs' settings before any work (`models`: whether the run has models
 * to name, which MTEB's files need); returns the writer of the other tools' files, run once the
 * run's outputs are in place.
 */
export function retrievalOutputs(
  o: RetrievalOutputOptions & { kLists?: KLists },
  models = true,
): { write(dataset: Dataset, results: Record<string, EvalResult>): string[] } {
  if (o.retrievedK !== undefined && (!Number.isInteger(o.retrievedK) || o.retrievedK < 0))
    throw invalidParameter('retrievedK', 'a whole number of documents (0: none)', o.retrievedK);
  if (o.mtebResults !== undefined) {
    if (o.kLists?.conventions !== 'trec')
      throw new UserError("mtebResults: MTEB's result files hold MTEB's numbers: run with conventions trec (--conventions trec)", 'ERR_OPTION', 'mtebResults');
    if (!models)
      throw new UserError('mtebResults: MTEB result files name a model; precomputed embeddings have none (use eval or compare)', 'ERR_OPTION', 'mtebResults');
  }
  for (const dir of [o.trecRun, o.ranxRun, o.mtebResults]) if (dir !== undefined) checkOutDir(dir);
  return {
    write(dataset, results) {
      const files: string[] = [];
      if (o.trecRun !== undefined) {
        checkTrecIds(dataset);
        files.push(...writeOutputSet(o.trecRun, trecRunFiles(dataset, results)));
      }
      if (o.ranxRun !== undefined) files.push(...writeOutputSet(o.ranxRun, ranxFiles(dataset, results)));
      if (o.mtebResults !== undefined) {
        const entries = Object.values(results) as ModelEvalResult[];
        const base = results.base as ModelEvalResult | undefined;
        const list = entries.map((r) => ({
          model: mtebModel(r, r !== base && base ? mtebModel(base).name : undefined),
          result: r,
          seconds: (r.encodeMs + r.timingsMs.score + r.timingsMs.metrics) / 1000,
        }));
        files.push(...writeOutputSet(o.mtebResults, mtebResultFiles(dataset, list)));
      }
      return files;
    },
  };
}

export interface EncodingOptions {
  /** Override the model's "query" / "document" prompts. */
  queryPrompt?: string;
  documentPrompt?: string;
  /** Use no prompts at all. */
  noPrompts?: boolean;
  /** The embedding cache folder (default DEFAULT_CACHE_DIR); null: no cache. */
  cacheDir?: string | null;
  /** Where Hub ids are downloaded from and cached (default: the environment). */
  hub?: EncoderOptions['hub'];
}

export interface LoggingOptions {
  /** The registry: a SQLite path or a postgres:// URL (default: defaultRegistryPath()); null: the run is not logged. */
  registry?: string | null;
  /** The command line recorded with the run (credentials are dropped before it is stored). */
  commandLine?: string[];
}

/** The encoder's options for a run. */
export function encoderOptions(o: ScoringOptions & EncodingOptions & RunListeners): EncoderOptions {
  return {
    device: o.device,
    threads: o.threads,
    queryPrompt: o.queryPrompt,
    documentPrompt: o.documentPrompt,
    noPrompts: o.noPrompts,
    cacheDir: o.cacheDir === undefined ? DEFAULT_CACHE_DIR : o.cacheDir,
    hub: o.hub,
    onProgress: o.onProgress,
    onWarning: o.onWarning,
    signal: o.signal,
  };
}

/** The registry location a run logs to, or null. */
export function registryOf(o: LoggingOptions): string | null {
  return o.registry === undefined ? defaultRegistryPath() : o.registry;
}
