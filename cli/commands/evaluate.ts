// `score`, `eval` and `encode`: flags in, one pipeline call, outputs written by lib/report, a
// table or JSON printed.
import { loadBeir } from '../../lib/data/beir.js';
import { loadDataset } from '../../lib/data/load.js';
import { readNpy } from '../../lib/data/npy.js';
import { Encoder, type EncoderOptions } from '../../lib/encode/encoder.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { scoreSlice } from '../../lib/compare.js';
import { type Dataset, datasetFingerprint, judgeQueries } from '../../lib/data/dataset.js';
import { type Matrix, takeRows } from '../../lib/data/matrix.js';
import { checkAborted, UserError } from '../../lib/errors.js';
import { maxK } from '../../lib/metrics/index.js';
import { mergePartials, type Partial, type Shard, shardRange, writePartial } from '../../lib/score/shards.js';
import { embedDataset, evaluateEmbeddings, evaluateModel, type ModelEvalResult, rankingMetrics } from '../../lib/evaluate.js';
import type { KLists } from '../../lib/metrics/index.js';
import { loggedRun, type ModelIdentity, runStart } from '../../lib/registry/index.js';
import { checkOutDir, writeEmbeddings, writeEvalOutputs } from '../../lib/report/outputs.js';
import { evalResultsJson, modelJson } from '../../lib/report/results.js';
import { checkDims } from '../../lib/score/index.js';
import type { Device } from '../../lib/score/types.js';
import type { Context } from '../context.js';
import { clean, metricsTable } from '../format.js';

export interface ScoreCommand {
  data: string;
  queryEmbeddings: string;
  corpusEmbeddings: string;
  dims?: number[];
  split: string;
  out: string;
  threads?: number;
  device: Device;
  json: boolean;
  kLists: KLists;
  /** Score only this corpus slice (a part for `merge`). */
  shard?: Shard;
}

/** One .npy, or several (comma-separated: the shards `encode --shard` wrote) stacked in order. */
function readEmbeddings(list: string): Matrix {
  const parts = list.split(',').map((p) => readNpy(p.trim()));
  if (parts.length === 1) return parts[0];
  const cols = parts[0].cols;
  const bad = parts.findIndex((p) => p.cols !== cols);
  if (bad >= 0) throw new UserError(`${list.split(',')[bad].trim()}: ${parts[bad].cols} columns, but ${list.split(',')[0].trim()} has ${cols}`, 'ERR_NPY');
  const data = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { data, rows: data.length / cols, cols };
}

export async function runScore(c: ScoreCommand, ctx: Context): Promise<void> {
  const dataset = loadBeir(c.data, c.split);
  const queries = readEmbeddings(c.queryEmbeddings);
  const corpus = readEmbeddings(c.corpusEmbeddings);
  const dims = c.dims ?? [corpus.cols];
  checkDims(dims, Math.min(queries.cols, corpus.cols), 'embedding');
  checkOutDir(c.out);
  dataset.warnings.forEach(ctx.onWarning);
  if (c.shard) return scoreShard(c, c.shard, dataset, queries, corpus, dims, ctx);
  const result = await evaluateEmbeddings(dataset, queries, corpus, { dims, kLists: c.kLists, threads: c.threads, device: c.device, signal: ctx.signal });
  const json = evalResultsJson('score', dataset, result, { inputs: { query_embeddings: c.queryEmbeddings, corpus_embeddings: c.corpusEmbeddings } });
  checkAborted(ctx.signal);
  const files = writeEvalOutputs(c.out, json, result);
  if (c.json) process.stdout.write(JSON.stringify(json, null, 2) + '\n');
  else {
    process.stdout.write(
      `${clean(dataset.name)} (${result.counts.scoredQueries} queries scored, ${result.counts.corpus} documents), engine ${result.engine}\n\n`,
    );
    process.stdout.write(metricsTable(result.metrics, dims, c.kLists) + '\n\n');
    process.stdout.write(`wrote ${files.map(clean).join(', ')}\n`);
  }
}

/**
 * `score --corpus-shard I/N`: every scored query against corpus slice I (the whole corpus's
 * .npy, or just the slice's rows), written as a part for `emb-bench merge`.
 */
async function scoreShard(c: ScoreCommand, shard: Shard, dataset: Dataset, queries: Matrix, corpus: Matrix, dims: number[], ctx: Context): Promise<void> {
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
  const judged = judgeQueries(dataset);
  const top = await scoreSlice(takeRows(queries, judged.queryRows), slice, range.start, dims, maxK(c.kLists), { threads: c.threads, device: c.device });
  checkAborted(ctx.signal);
  mkdirSync(c.out, { recursive: true });
  const path = join(c.out, `score.shard-${shard.index}-of-${shard.count}.part`);
  writePartial(
    path,
    {
      run: { command: 'score', data: { path: dataset.source, split: c.split, fingerprint: datasetFingerprint(dataset) }, dims, k_lists: c.kLists },
      shard,
      corpus: { ...range, total },
      extra: { engine: top.engine, inputs: { query_embeddings: c.queryEmbeddings, corpus_embeddings: c.corpusEmbeddings } },
    },
    { model: top },
  );
  process.stdout.write(`shard ${shard.index}/${shard.count}: corpus rows ${range.start}-${range.end} of ${total}; wrote ${clean(path)}\n`);
}

/** Merges `score --corpus-shard` parts into score's results.json and per_query.jsonl. */
export async function mergeScore(parts: Array<{ path: string; partial: Partial }>, out: string, json: boolean): Promise<void> {
  const run = parts[0].partial.header.run as { data: { path: string; split: string; fingerprint: string }; k_lists: KLists };
  const merged = mergePartials(parts, maxK(run.k_lists));
  const dataset = loadBeir(run.data.path, run.data.split);
  if (datasetFingerprint(dataset) !== run.data.fingerprint)
    throw new UserError(`${run.data.path}: the dataset changed since the shards ran (its fingerprint differs); run the shards again`, 'ERR_INPUT');
  const result = rankingMetrics(dataset, judgeQueries(dataset), merged.model, run.k_lists);
  const results = evalResultsJson('score', dataset, result, { inputs: parts[0].partial.header.extra.inputs as Record<string, string> });
  const files = writeEvalOutputs(out, results, result);
  if (json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else
    process.stdout.write(
      `merged ${parts.length} shards\n\n${metricsTable(result.metrics, result.dims, run.k_lists)}\n\nwrote ${files.map(clean).join(', ')}\n`,
    );
}

export interface EncodeFlags {
  device: Device;
  threads?: number;
  queryPrompt?: string;
  docPrompt?: string;
  prompts: boolean;
  cache: boolean;
  cacheDir: string;
}

export function encoderOptions(f: EncodeFlags, ctx: Context): EncoderOptions {
  return {
    device: f.device,
    threads: f.threads,
    queryPrompt: f.queryPrompt,
    documentPrompt: f.docPrompt,
    noPrompts: !f.prompts,
    cacheDir: f.cache ? f.cacheDir : null,
    onProgress: ctx.onProgress,
    onWarning: ctx.onWarning,
    signal: ctx.signal,
  };
}

/** The model as the registry keeps it: what results.json says, and its card's training metadata. */
export function identity(result: ModelEvalResult, name?: string): ModelIdentity {
  const card = result.model.card;
  return { ...modelJson(result, name), metadata: card && Object.keys(card).length ? { card } : undefined };
}

/** The library options every encoding command passes: dims, k lists, device, threads, encoder, signal. */
export function pipelineOptions(c: EncodeFlags & { dims?: number[]; kLists: KLists }, ctx: Context) {
  return { dims: c.dims, kLists: c.kLists, threads: c.threads, device: c.device, signal: ctx.signal, encoder: encoderOptions(c, ctx) };
}

export interface EvalCommand extends EncodeFlags {
  model: string;
  modelName?: string;
  data: string;
  dims?: number[];
  split: string;
  out: string;
  json: boolean;
  kLists: KLists;
  /** null: do not log the run. */
  registry: string | null;
}

export async function runEval(c: EvalCommand, ctx: Context): Promise<void> {
  checkOutDir(c.out);
  const dataset = await loadDataset(c.data, { split: c.split, hub: { onProgress: ctx.onProgress, onWarning: ctx.onWarning, signal: ctx.signal } });
  dataset.warnings.forEach(ctx.onWarning);
  let json: ReturnType<typeof evalResultsJson> | undefined;
  let written: string[] = [];
  const { runId, notes } = await loggedRun(c.registry, runStart('eval', dataset, c.dims, c.kLists, c.device), async () => {
    const result = await evaluateModel(c.model, dataset, pipelineOptions(c, ctx));
    json = evalResultsJson('eval', dataset, result, { modelName: c.modelName });
    checkAborted(ctx.signal);
    written = writeEvalOutputs(c.out, json, result);
    return {
      models: [{ role: 'model', model: identity(result, c.modelName), metrics: result.metrics, metadata: { model_eval: result.metrics } }],
      artifacts: written,
    };
  });
  notes.forEach(ctx.onWarning);
  if (!json) return;
  if (c.json) process.stdout.write(JSON.stringify({ ...json, run_id: runId }, null, 2) + '\n');
  else {
    process.stdout.write(
      `${clean(json.model!.name)} on ${clean(dataset.name)} (${json.dataset.scored_queries} queries scored, ${json.dataset.corpus} documents)\n\n`,
    );
    process.stdout.write(metricsTable(json.metrics, json.dims, c.kLists) + '\n\n');
    process.stdout.write(`wrote ${written.map(clean).join(', ')}${runId ? `; registry run ${runId}` : ''}\n`);
  }
}

export interface EncodeCommand extends EncodeFlags {
  model: string;
  data: string;
  split: string;
  out: string;
  /** Encode only slice I of N of the corpus and of the queries. */
  shard?: Shard;
}

export async function runEncode(c: EncodeCommand, ctx: Context): Promise<void> {
  const full = loadBeir(c.data, c.split);
  checkOutDir(c.out);
  // A shard encodes slice I of the corpus and slice I of the queries (file order); `score`
  // takes the query shards as a comma-separated list and a corpus shard with --corpus-shard.
  const q = c.shard ? shardRange(full.queries.ids.length, c.shard) : null;
  const d = c.shard ? shardRange(full.corpus.ids.length, c.shard) : null;
  const dataset = {
    ...full,
    queries: q ? { ids: full.queries.ids.slice(q.start, q.end), texts: full.queries.texts.slice(q.start, q.end) } : full.queries,
    corpus: d ? { ids: full.corpus.ids.slice(d.start, d.end), texts: full.corpus.texts.slice(d.start, d.end) } : full.corpus,
  };
  const encoder = await Encoder.load(c.model, encoderOptions(c, ctx));
  try {
    const { queries, corpus } = await embedDataset(encoder, dataset);
    checkAborted(ctx.signal);
    const [q, d] = writeEmbeddings(c.out, queries, corpus, c.shard ? `.shard-${c.shard.index}-of-${c.shard.count}` : '');
    process.stdout.write(`wrote ${clean(q)} (${queries.rows} x ${queries.cols}) and ${clean(d)} (${corpus.rows} x ${corpus.cols})\n`);
  } finally {
    await encoder.close();
  }
}
