// What every run takes: where it logs, how it encodes, and who hears about it.
import { DEFAULT_CACHE_DIR, DEFAULT_OUT_DIR, defaultRegistryPath, HEADLINE_METRIC } from '../defaults.js';
import type { EncoderOptions } from '../encode/encoder.js';
import { DEFAULT_K_LISTS, type KLists } from '../metrics/index.js';
import { checkHeadlineMetric, checkOutDir } from '../report/outputs.js';
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
  const chartMetric = o.chartMetric ?? HEADLINE_METRIC;
  const kLists = o.kLists ?? DEFAULT_K_LISTS;
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
