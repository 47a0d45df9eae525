// `eval` and `compare` on a training run's output folder: every checkpoint in step order, one
// output set and one registry run; with `watch`, new checkpoints as the trainer writes them.
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import type { LoadOptions } from '../data/load.js';
import { DEFAULT_SEED } from '../defaults.js';
import { type Checkpoint, checkpointAt, checkpointFoldersNow, folderSnapshot, listCheckpoints, TRAINER_STATE } from '../encode/checkpoints.js';
import { Encoder, TokenMemo } from '../encode/encoder.js';
import { checkAborted, InterruptedError, UserError } from '../errors.js';
import { evaluateModel } from '../evaluate.js';
import { loggedRun, reachRegistry, type RunModelRecord, runStart } from '../registry/index.js';
import { stageTrainingOutputs } from '../report/outputs.js';
import type { TrainingResultsJson } from '../report/results.js';
import { checkDims } from '../score/engine.js';
import { type CheckpointResult, evaluateCheckpoint, summarizeTraining, type TrainingResult } from '../training.js';
import { datasetOf } from './eval.js';
import {
  encoderOptions,
  type EncodingOptions,
  type LoggingOptions,
  registryOf,
  refuseQuantized,
  reportingOptions,
  type RetrievalOutputOptions,
  retrievalOutputs,
  runKLists,
  type RunListeners,
  type ScoringOptions,
} from './options.js';
import { checkTrecIds } from '../report/retrieved.js';
import { modelIdentity, modelRecord } from './records.js';

export interface WatchOptions {
  /** Ends the watch: the checkpoint being read is left out, and the results so far are written and logged. */
  stop: AbortSignal;
  /** How often the folder is looked at (default 5 s); a checkpoint is taken once two looks find its files unchanged. */
  intervalMs?: number;
  /** Ends the watch after this long without a new checkpoint (default: never). */
  idleMs?: number;
}

export interface TrainingRunOptions extends ScoringOptions, EncodingOptions, LoggingOptions, RunListeners, RetrievalOutputOptions {
  /** A training run's output folder: its checkpoint-<step> folders, and the final model at its root when saved there. */
  run: string;
  /** Some of its checkpoints only: step numbers, checkpoint names, or `final` (default: all). */
  checkpoints?: string[];
  /** compare: the base model, evaluated once and tested against every checkpoint. */
  base?: string;
  /** The training run's name in results.json and the registry (default: its folder's name); the base's. */
  names?: { run?: string; base?: string };
  data: string | Dataset;
  load?: LoadOptions;
  out?: string;
  /** The metric that picks the best checkpoint and draws the chart (default HEADLINE_METRIC). */
  chartMetric?: string;
  seed?: number;
  /** Stay up and evaluate each new checkpoint as the trainer writes it. */
  watch?: WatchOptions;
  /** Hears each checkpoint's result as it is done. */
  onCheckpoint?: (c: CheckpointResult, index: number) => void;
}

export interface TrainingRun {
  kind: 'training';
  dataset: Dataset;
  result: TrainingResult;
  results: TrainingResultsJson;
  chartMetric: string;
  files: string[];
  runId: string | null;
  notes: string[];
  /** Texts tokenized, and tokenizations served again to a later checkpoint (the same tokenizer). */
  tokenization: { tokenized: number; served: number };
}

const isDirectory = (p: string) => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((done) => {
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), done()), { once: true });
  });

/**
 * Evaluates a training run: each checkpoint encoded and scored at every dim, in step order, the
 * data read and its texts tokenized once; the best checkpoint per dim; with `base`, each
 * checkpoint tested against it. Writes results.json, report.md, chart.png and per_query.jsonl as
 * a set and logs every checkpoint as a version of the run's model.
 * @throws UserError on bad input; InterruptedError once `signal` fires (nothing written).
 */
export async function runTraining(o: TrainingRunOptions): Promise<TrainingRun> {
  refuseQuantized(o, 'for a training run (evaluate the checkpoint you pick with eval --precision)');
  const { chartMetric, kLists: asked, out, scoring } = reportingOptions(o);
  const retrieval = retrievalOutputs(o);
  const t0 = performance.now();
  const runDir = resolve(o.run);
  if (o.watch && o.checkpoints)
    throw new UserError('checkpoints: a watch takes every checkpoint the trainer writes; give one or the other', 'ERR_OPTION', 'checkpoints');
  // a watch may start before the trainer has written its first checkpoint
  const listed = o.watch ? [] : listCheckpoints(runDir, o.checkpoints);
  if (o.watch && !isDirectory(runDir)) throw new UserError(`${o.run}: not a folder (a watch needs the trainer's output folder)`, 'ERR_TRAINING_OUTPUT');
  if (!o.watch && listed.length === 0) throw new UserError(`${o.run}: no checkpoint holds a model yet`, 'ERR_TRAINING_OUTPUT');
  const dataset = await datasetOf(o.data, o.load, o);
  if (o.trecRun !== undefined) checkTrecIds(dataset);
  const kLists = runKLists(dataset, asked, o);
  const registry = registryOf(o);
  await reachRegistry(registry);
  const runName = o.names?.run ?? basename(runDir);
  const tokens = new TokenMemo();
  const encoding = { ...encoderOptions(o), tokens };
  // The base and the first checkpoint are loaded, and the dims checked against them, before the
  // registry hears of a run: a model that is not there or a dim it lacks is a usage error.
  const base = o.base ? await Encoder.load(o.base, encoding) : null;
  let dims = o.dims;
  try {
    const widths: number[] = [];
    if (base) widths.push(await base.width());
    const first = listed[0];
    if (first) {
      const e = await Encoder.load(first.path, encoding);
      widths.push(await e.width().finally(() => e.close()));
    }
    if (dims) widths.forEach((w, i) => checkDims(dims!, w, i === 0 && base ? `model ${base.spec.name}` : `checkpoint ${first!.name}`));
    else if (widths.length) dims = [Math.min(...widths)];
  } catch (e) {
    await base?.close();
    throw e;
  }
  const options = { ...scoring, dims, kLists, signal: o.signal };
  const stats = { seed: o.seed ?? DEFAULT_SEED };
  let done: { result: TrainingResult; results: TrainingResultsJson } | undefined;
  const command = base ? 'compare' : 'eval';
  const logged = await loggedRun(registry, runStart(command, dataset, dims, kLists, o.device ?? 'cpu', o.commandLine), async () => {
    const baseResult = base ? await evaluateModel(base, dataset, options) : null;
    const evaluated: CheckpointResult[] = [];
    const skipped: string[] = [];
    const take = async (c: Checkpoint, signal: AbortSignal | undefined, label: string): Promise<void> => {
      const onProgress = o.onProgress && ((e: Parameters<NonNullable<typeof o.onProgress>>[0]) => o.onProgress!({ ...e, label: `${label}: ${e.label}` }));
      try {
        const r = await evaluateCheckpoint(c, dataset, {
          ...options,
          signal,
          dims: options.dims ?? evaluated[0]?.result.dims,
          encoder: { ...encoding, signal, onProgress },
        });
        evaluated.push(r);
        o.onCheckpoint?.(r, evaluated.length - 1);
      } catch (e) {
        // a checkpoint the trainer deleted (save_total_limit) before or while it was read
        if (e instanceof InterruptedError || existsSync(c.path)) throw e;
        skipped.push(c.name);
        o.onWarning?.(`${c.name}: deleted while it was read (the trainer's save_total_limit?); skipped`);
      }
    };
    if (o.watch) await watch(runDir, o.watch, o, take);
    else for (const [i, c] of listed.entries()) await take(c, o.signal, `${c.name} (${i + 1} of ${listed.length})`);
    checkAborted(o.signal);
    const result = await summarizeTraining(evaluated, baseResult, chartMetric, { stats, signal: o.signal, skipped });
    const staged = stageTrainingOutputs(out, dataset, result, {
      runName,
      runPath: runDir,
      baseName: o.names?.base,
      kLists,
      totalMs: performance.now() - t0,
      retrievedK: o.retrievedK,
    });
    done = { result, results: staged.results };
    return { models: trainingRecords(result, runName, runDir, o.names?.base), outputs: staged.outputs };
  }).finally(() => base?.close());
  const labelled = Object.fromEntries([
    ...(done!.result.base ? [['base', done!.result.base] as const] : []),
    ...done!.result.checkpoints.map((c) => [c.checkpoint.name, c.result] as const),
  ]);
  const trec = Object.keys(labelled).length ? retrieval.write(dataset, labelled) : [];
  return {
    kind: 'training',
    dataset,
    chartMetric,
    ...done!,
    ...logged,
    files: [...logged.files, ...trec],
    tokenization: { tokenized: tokens.tokenized, served: tokens.served },
  };
}

/** Polls the run's folder until `w.stop` fires (or `w.idleMs` passes without a new checkpoint), taking each checkpoint once it is complete. */
async function watch(
  runDir: string,
  w: WatchOptions,
  o: RunListeners,
  take: (c: Checkpoint, signal: AbortSignal | undefined, label: string) => Promise<void>,
): Promise<void> {
  const interval = w.intervalMs ?? 5000;
  const seen = new Set<string>();
  const looked = new Map<string, string>();
  const inFlight = o.signal ? AbortSignal.any([o.signal, w.stop]) : w.stop;
  let lastNew = Date.now();
  while (!w.stop.aborted) {
    checkAborted(o.signal);
    for (const f of checkpointFoldersNow(runDir)) {
      if (seen.has(f.name) || w.stop.aborted) continue;
      // complete: the trainer's state file written, and nothing changed since the last look
      const snapshot = existsSync(join(f.path, TRAINER_STATE)) ? folderSnapshot(f.path) : null;
      if (snapshot === null || looked.get(f.name) !== snapshot) {
        if (snapshot !== null) looked.set(f.name, snapshot);
        continue;
      }
      seen.add(f.name);
      lastNew = Date.now();
      try {
        await take(checkpointAt(f.path, f.name, f.step), inFlight, f.name);
      } catch (e) {
        if (e instanceof InterruptedError && w.stop.aborted && !o.signal?.aborted) {
          o.onWarning?.(`${f.name}: not finished when the watch ended; left out`);
          return;
        }
        throw e;
      }
    }
    if (w.idleMs !== undefined && Date.now() - lastNew >= w.idleMs) return;
    await sleep(interval, w.stop);
  }
}

/** Each checkpoint as a version of the run's model (its step, epoch, trainer log and lineage in the version's metadata), and the base. */
function trainingRecords(result: TrainingResult, runName: string, runDir: string, baseName?: string): RunModelRecord[] {
  const records: RunModelRecord[] = [];
  if (result.base) records.push(modelRecord('base', result.base, baseName, 'base_model_eval'));
  for (const c of result.checkpoints) {
    const identity = modelIdentity(c.result, runName);
    const card = c.result.model.card;
    const training = {
      run: runDir,
      checkpoint: c.checkpoint.name,
      step: c.checkpoint.step,
      epoch: c.checkpoint.epoch,
      ...(card?.baseModel ? { base_model: card.baseModel } : {}),
      ...(Object.keys(c.trainLog).length ? { log: c.trainLog } : {}),
      ...(c.trainer.length ? { trainer_eval: Object.fromEntries(c.trainer.map((t) => [t.trainerKey, t.trainer])) } : {}),
    };
    records.push({
      role: c.checkpoint.name,
      model: { ...identity, metadata: { ...identity.metadata, training } },
      metrics: c.result.metrics,
      metadata: { finetuned_model_eval: c.result.metrics },
    });
  }
  return records;
}
