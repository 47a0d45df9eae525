// `score`: precomputed embeddings of a dataset at every dim, whole or one corpus shard.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { LoadOptions } from '../data/load.js';
import { type Dataset, judgeQueries } from '../data/dataset.js';
import { type Matrix, takeRows } from '../data/matrix.js';
import { readNpy } from '../data/npy.js';
import { DEFAULT_OUT_DIR, DEFAULT_SPLIT } from '../defaults.js';
import { checkAborted, UserError } from '../errors.js';
import { type EvalResult, evaluateEmbeddings } from '../evaluate.js';
import { maxK } from '../metrics/index.js';
import { checkOutDir, writeEvalOutputs } from '../report/outputs.js';
import { type EvalResultsJson, evalResultsJson } from '../report/results.js';
import { checkDims, engineArithmetic, scoreSlice } from '../score/engine.js';
import { type Shard, shardRange, writePartial } from '../score/shards.js';
import {
  type RetrievalOutputOptions,
  retrievalOutputs,
  runKLists,
  type RunListeners,
  type ScoringOptions,
  scoringOptions,
  refuseQuantized,
} from './options.js';
import { checkTrecIds } from '../report/retrieved.js';
import { dataKey, loadKey, partPath, type ScoreExtra, type ScoreRunKey } from './parts.js';
import { datasetOf } from './eval.js';

export interface ScoreRunOptions extends ScoringOptions, RunListeners, RetrievalOutputOptions {
  /** A BEIR folder or a pairs file (read with `load`; rows follow its order, as `encode` writes them), or a loaded Dataset. */
  data: string | Dataset;
  load?: LoadOptions;
  /** The qrels split (`load.split` takes it too). */
  split?: string;
  /** .npy files, comma-separated when several (the shards `encode --shard` wrote), stacked in order. */
  queryEmbeddings: string;
  corpusEmbeddings: string;
  out?: string;
  /** Score only this corpus slice (the whole corpus's .npy, or just the slice's rows). */
  shard?: Shard;
}

export interface ScoreRun {
  kind: 'score';
  dataset: Dataset;
  result: EvalResult;
  results: EvalResultsJson;
  files: string[];
}

export interface ScoreShardRun {
  kind: 'score-shard';
  shard: Shard;
  corpus: { start: number; end: number; total: number };
  part: string;
}

/** One .npy, or several (comma-separated) stacked in order. */
export function readEmbeddings(list: string): Matrix {
  const paths = list.split(',').map((p) => p.trim());
  const parts = paths.map((p) => readNpy(p));
  if (parts.length === 1) return parts[0];
  const cols = parts[0].cols;
  const bad = parts.findIndex((p) => p.cols !== cols);
  if (bad >= 0) throw new UserError(`${paths[bad]}: ${parts[bad].cols} columns, but ${paths[0]} has ${cols}`, 'ERR_NPY');
  const data = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { data, rows: data.length / cols, cols };
}

/**
 * Scores precomputed embeddings at every dim and writes results.json and per_query.jsonl (or,
 * for a shard, its part file).
 * @throws UserError on bad input; InterruptedError once `signal` fires.
 */
export async function runScore(o: ScoreRunOptions): Promise<ScoreRun | ScoreShardRun> {
  const out = o.out ?? DEFAULT_OUT_DIR;
  if (o.shard) refuseQuantized(o, 'in shards (--shard)');
  const scoring = scoringOptions(o);
  const retrieval = retrievalOutputs(o, false);
  const load = { ...o.load, split: o.load?.split ?? o.split ?? DEFAULT_SPLIT };
  const dataset = await datasetOf(o.data, load, {});
  if (o.trecRun !== undefined) checkTrecIds(dataset);
  const kLists = runKLists(dataset, o.kLists, o);
  const queries = readEmbeddings(o.queryEmbeddings);
  const corpus = readEmbeddings(o.corpusEmbeddings);
  const dims = o.dims ?? [corpus.cols];
  checkDims(dims, Math.min(queries.cols, corpus.cols), 'embedding');
  checkOutDir(out);
  dataset.warnings.forEach((w) => o.onWarning?.(w));
  const inputs = { query_embeddings: o.queryEmbeddings, corpus_embeddings: o.corpusEmbeddings };
  if (o.shard) return scoreShard({ ...o, ...scoring, kLists, dims, out, load }, o.shard, dataset, queries, corpus, inputs);
  const result = await evaluateEmbeddings(dataset, queries, corpus, { ...scoring, dims, kLists, signal: o.signal });
  const results = evalResultsJson('score', dataset, result, { inputs });
  checkAborted(o.signal);
  const files = writeEvalOutputs(out, results, result, { dataset, retrievedK: o.retrievedK });
  return { kind: 'score', dataset, result, results, files: [...files, ...retrieval.write(dataset, { model: result })] };
}

async function scoreShard(
  o: ScoreRunOptions & Required<Pick<ScoreRunOptions, 'kLists' | 'dims' | 'out' | 'load'>>,
  shard: Shard,
  dataset: Dataset,
  queries: Matrix,
  corpus: Matrix,
  inputs: ScoreExtra['inputs'],
): Promise<ScoreShardRun> {
  const total = dataset.corpus.ids.length;
  const range = shardRange(total, shard);
  const sliceRows = range.end - range.start;
  if (queries.rows !== dataset.queries.ids.length)
    throw new UserError(`query embeddings have ${queries.rows} rows but the dataset has ${dataset.queries.ids.length} queries`, 'ERR_ROWS');
  if (corpus.rows !== total && corpus.rows !== sliceRows)
    throw new UserError(
      `corpus embeddings have ${corpus.rows} rows: expected the whole corpus (${total}) or shard ${shard.index}/${shard.count}'s ${sliceRows}`,
      'ERR_ROWS',
    );
  const slice =
    corpus.rows === total ? { data: corpus.data.subarray(range.start * corpus.cols, range.end * corpus.cols), rows: sliceRows, cols: corpus.cols } : corpus;
  const judged = judgeQueries(dataset, o.kLists.conventions);
  const top = await scoreSlice(takeRows(queries, judged.queryRows), slice, range.start, o.dims, maxK(o.kLists), o);
  checkAborted(o.signal);
  const run: ScoreRunKey = {
    command: 'score',
    data: { ...dataKey(dataset), load: loadKey(o.load) },
    query_embeddings: createHash('sha256')
      .update(new Uint8Array(queries.data.buffer, queries.data.byteOffset, queries.data.byteLength))
      .digest('hex'),
    dims: o.dims,
    k_lists: o.kLists,
    arithmetic: engineArithmetic(o),
  };
  mkdirSync(o.out, { recursive: true });
  const part = partPath(o.out, 'score', shard);
  writePartial<ScoreRunKey, ScoreExtra>(part, { run, shard, corpus: { ...range, total }, extra: { engine: top.engine, inputs } }, { model: top });
  return { kind: 'score-shard', shard, corpus: { ...range, total }, part };
}
