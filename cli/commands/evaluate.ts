// `score`, `eval` and `encode`: flags in, one pipeline call, outputs written by lib/report, a
// table or JSON printed.
import { loadBeir } from '../../lib/data/beir.js';
import { loadDataset } from '../../lib/data/load.js';
import { readNpy } from '../../lib/data/npy.js';
import { Encoder, type EncoderOptions } from '../../lib/encode/encoder.js';
import { checkAborted } from '../../lib/errors.js';
import { embedDataset, evaluateEmbeddings, evaluateModel, type ModelEvalResult } from '../../lib/evaluate.js';
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
}

export async function runScore(c: ScoreCommand, ctx: Context): Promise<void> {
  const dataset = loadBeir(c.data, c.split);
  const queries = readNpy(c.queryEmbeddings);
  const corpus = readNpy(c.corpusEmbeddings);
  const dims = c.dims ?? [corpus.cols];
  checkDims(dims, Math.min(queries.cols, corpus.cols), 'embedding');
  checkOutDir(c.out);
  dataset.warnings.forEach(ctx.onWarning);
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
}

export async function runEncode(c: EncodeCommand, ctx: Context): Promise<void> {
  const dataset = loadBeir(c.data, c.split);
  checkOutDir(c.out);
  const encoder = await Encoder.load(c.model, encoderOptions(c, ctx));
  try {
    const { queries, corpus } = await embedDataset(encoder, dataset);
    checkAborted(ctx.signal);
    const [q, d] = writeEmbeddings(c.out, queries, corpus);
    process.stdout.write(`wrote ${clean(q)} (${queries.rows} x ${queries.cols}) and ${clean(d)} (${corpus.rows} x ${corpus.cols})\n`);
  } finally {
    await encoder.close();
  }
}
