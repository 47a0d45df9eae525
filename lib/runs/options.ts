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
import { checkPrecisions, type Precision } from '../score/quantized.js';
import { checkQuantization, type QuantizationOptions } from '../evaluate.js';
import type { Matrix } from '../data/matrix.js';
import { readNpy } from '../data/npy.js';
import { existsSync, readFileSync, statSync } from 'node:fs';

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
  /** Precisions scored (default float32 only): with int8, uint8, binary or ubinary, each at every dim beside float32. */
  precisions?: Precision[];
  /** Rescore the quantized first stage's top k x M with the float32 query (default 2, as sentence-transformers; 0: none). */
  rescoreMultiplier?: number;
  /**
   * What the int8 / uint8 ranges are computed from (default: the corpus embeddings at each dim):
   * a .npy of embeddings, or a text file (one text a line) each model embeds as documents.
   */
  calibration?: string;
}

/**
 * A reporting run's settings with their defaults, checked before any data is read or any model
 * loads: the headline metric against the k lists, the scoring settings, the output folder.
 */
export function reportingOptions(o: ScoringOptions & { chartMetric?: string; out?: string }): {
  chartMetric: string;
  kLists: KLists;
  out: string;
  scoring: ReturnType<typeof scoringOptions>;
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
export function scoringOptions(o: ScoringOptions): ScoringOptions & { quantization?: QuantizationOptions } {
  const { arithmetic, kernel } = engineSettings(o);
  const quantization = quantizationOptions(o);
  return { dims: o.dims, kLists: o.kLists, device: o.device, threads: o.threads, arithmetic, kernel, ...(quantization ? { quantization } : {}) };
}

/** Quantized precisions run whole: refused with shards and training runs (a usage error naming the pair). */
export function refuseQuantized(o: ScoringOptions, what: string): void {
  if (o.precisions?.some((p) => p !== 'float32'))
    throw new UserError(`precision: quantized precisions are not scored ${what}; leave out the quantized precisions or that mode`, 'ERR_OPTION', 'precision');
}

/**
 * The quantized precisions of a run (undefined: float32 only), checked and with the calibration
 * file read, before any model loads.
 * @throws UserError naming the option and the value.
 */
export function quantizationOptions(o: ScoringOptions): QuantizationOptions | undefined {
  const quantized = o.precisions ? checkPrecisions(o.precisions).filter((p) => p !== 'float32') : [];
  if (quantized.length === 0) {
    if (o.rescoreMultiplier !== undefined || o.calibration !== undefined)
      throw new UserError(
        `${o.rescoreMultiplier !== undefined ? 'rescoreMultiplier' : 'calibration'}: only with a quantized precision (e.g. --precision float32,int8,ubinary)`,
        'ERR_OPTION',
        o.rescoreMultiplier !== undefined ? 'rescoreMultiplier' : 'calibration',
      );
    return undefined;
  }
  const checked = checkQuantization({ precisions: ['float32', ...quantized], rescoreMultiplier: o.rescoreMultiplier })!;
  if (o.calibration !== undefined && !quantized.some((p) => p === 'int8' || p === 'uint8'))
    throw new UserError('calibration: only int8 and uint8 use ranges; the binary precisions need none', 'ERR_OPTION', 'calibration');
  return {
    precisions: ['float32', ...checked.quantized],
    rescoreMultiplier: checked.rescoreMultiplier,
    ...(o.calibration !== undefined ? { calibration: readCalibration(o.calibration) } : {}),
  };
}

/** A calibration file: a .npy of embeddings, or texts, one a line (blank lines skipped). */
function readCalibration(path: string): Matrix | { texts: string[] } {
  if (!existsSync(path) || !statSync(path).isFile()) throw new UserError(`${path}: calibration file not found`, 'ERR_NOT_FOUND', 'calibration');
  if (path.toLowerCase().endsWith('.npy')) {
    const m = readNpy(path);
    if (m.rows === 0) throw new UserError(`${path}: no calibration embeddings (0 rows)`, 'ERR_EMPTY', 'calibration');
    return m;
  }
  const texts = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((t) => t.trim() !== '');
  if (texts.length === 0) throw new UserError(`${path}: no calibration texts (expected one text a line, or a .npy of embeddings)`, 'ERR_EMPTY', 'calibration');
  return { texts };
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
