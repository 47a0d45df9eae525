// What each CLI command does, as library calls: read inputs, run the pipeline, write outputs,
// and return what to print. cli/main.ts only parses flags and calls these.
import { join } from 'node:path';
import { loadBeir } from './data/beir.js';
import { writeDemo } from './demo/data.js';
import { DEFAULT_K_LISTS } from './metrics/index.js';
import { readNpy } from './data/npy.js';
import { evaluateEmbeddings, evaluateModel, embedDataset } from './evaluate.js';
import { Encoder, type EncoderOptions } from './encode/encoder.js';
import { writeNpy } from './data/npy.js';
import { compare } from './compare.js';
import { loadDataset, type LoadOptions } from './data/load.js';
import { writeAtomic, writeJson } from './files.js';
import { perQueryJsonl } from './report/results.js';
import { renderChart } from './report/chart.js';
import { compareMarkdown, differenceTable } from './report/markdown.js';
import { VERSION } from './version.js';
import type { ModelEvalResult } from './evaluate.js';
import { loggedRun, runStart, type LogOptions } from './registry/record.js';
import type { ModelIdentity } from './registry/index.js';
import { ensureOutDir } from './files.js';
import { metricNames, type KLists } from './metrics/index.js';
import { UserError } from './errors.js';
import { datasetSummary, evalResultsJson, writeEvalOutputs } from './report/results.js';
import { metricsTable } from './report/table.js';
import { checkDims } from './score/index.js';

export interface ScoreCommand {
  data: string;
  queryEmbeddings: string;
  corpusEmbeddings: string;
  dims?: number[];
  split: string;
  out: string;
  threads?: number;
  device: 'cpu' | 'cuda';
  json: boolean;
  kLists: KLists;
}

function warn(lines: string[]): void {
  for (const w of lines) process.stderr.write(`emb-bench: warning: ${w}\n`);
}

export async function runScore(c: ScoreCommand): Promise<void> {
  const dataset = loadBeir(c.data, c.split);
  const queries = readNpy(c.queryEmbeddings);
  const corpus = readNpy(c.corpusEmbeddings);
  const dims = c.dims ?? [corpus.cols];
  checkDims(dims, Math.min(queries.cols, corpus.cols), 'embedding');
  ensureOutDir(c.out);
  warn(dataset.warnings);
  const result = await evaluateEmbeddings(dataset, queries, corpus, { dims, kLists: c.kLists, threads: c.threads, device: c.device });
  const json = evalResultsJson('score', dataset, result, {
    inputs: { query_embeddings: c.queryEmbeddings, corpus_embeddings: c.corpusEmbeddings },
  });
  const files = writeEvalOutputs(c.out, json, { model: result });
  if (c.json) process.stdout.write(JSON.stringify(json, null, 2) + '\n');
  else {
    process.stdout.write(
      `${dataset.name} (${result.counts.scored_queries} queries scored, ${result.counts.corpus} documents), engine ${result.engine}\n\n`,
    );
    process.stdout.write(metricsTable(result.metrics, dims, c.kLists) + '\n\n');
    process.stdout.write(`wrote ${files.join(', ')}\n`);
  }
}

export async function runDemo({ out, registry }: { out: string } & LogOptions): Promise<void> {
  process.stderr.write(`emb-bench demo: writing a synthetic retrieval set and two small ONNX models to ${out}\n`);
  const demo = writeDemo(out);
  await runCompare({
    base: demo.base,
    tuned: demo.tuned,
    data: demo.data,
    load: {},
    dims: demo.dims,
    out,
    json: false,
    chartMetric: 'ndcg@10',
    kLists: DEFAULT_K_LISTS,
    seed: 0,
    device: 'cpu',
    prompts: true,
    cache: false,
    cacheDir: join(out, 'cache'),
    quiet: false,
    registry,
  });
}

export interface EncodeFlags {
  device: 'cpu' | 'cuda';
  threads?: number;
  queryPrompt?: string;
  docPrompt?: string;
  prompts: boolean;
  cache: boolean;
  cacheDir: string;
  quiet: boolean;
}

function identity(r: ModelEvalResult, name?: string): ModelIdentity {
  const m = r.model;
  return { name: name ?? m.name, sha256: m.sha256, path: m.path, width: m.width, pooling: m.pooling, prompts: m.prompts };
}

export function encoderOptions(f: EncodeFlags): EncoderOptions {
  return {
    device: f.device,
    threads: f.threads,
    queryPrompt: f.queryPrompt,
    documentPrompt: f.docPrompt,
    noPrompts: !f.prompts,
    cacheDir: f.cache ? f.cacheDir : null,
    quiet: f.quiet,
  };
}

export interface EvalCommand extends EncodeFlags {
  model: string;
  data: string;
  dims?: number[];
  split: string;
  out: string;
  json: boolean;
  kLists: KLists;
}

export async function runEval(c: EvalCommand & LogOptions & { modelName?: string }): Promise<void> {
  const dataset = loadBeir(c.data, c.split);
  ensureOutDir(c.out);
  warn(dataset.warnings);
  let json: ReturnType<typeof evalResultsJson> | undefined;
  let result: ModelEvalResult | undefined;
  let written: string[] = [];
  const runId = await loggedRun(c, runStart('eval', dataset, c.dims, c.kLists, c.device), async () => {
    const encoder = await Encoder.load(c.model, encoderOptions(c));
    try {
      result = await evaluateModel(encoder, dataset, { dims: c.dims, kLists: c.kLists, threads: c.threads, device: c.device });
    } finally {
      await encoder.close();
    }
    const { files, sha256, pooling, prompts, maxSeqLength, normalize, width } = result.model;
    json = evalResultsJson('eval', dataset, result, {
      model: { path: c.model, name: c.modelName ?? result.model.name, sha256, width, pooling, prompts, max_seq_length: maxSeqLength, normalize, files },
      encode_ms: result.encodeMs,
      inferred_texts: result.inferred,
    });
    written = writeEvalOutputs(c.out, json, { model: result });
    return { models: [{ role: 'model', model: identity(result, c.modelName), metrics: result.metrics, metadata: { model_eval: result.metrics } }], artifacts: written };
  });
  if (!json || !result) return;
  if (c.json) process.stdout.write(JSON.stringify({ ...json, run_id: runId }, null, 2) + '\n');
  else {
    process.stdout.write(`${c.modelName ?? result.model.name} on ${dataset.name} (${result.counts.scored_queries} queries scored, ${result.counts.corpus} documents)\n\n`);
    process.stdout.write(metricsTable(result.metrics, result.dims, c.kLists) + '\n\n');
    process.stdout.write(`wrote ${written.join(', ')}${runId ? `; registry run ${runId}` : ''}\n`);
  }
}

export interface EncodeCommand extends EncodeFlags {
  model: string;
  data: string;
  split: string;
  out: string;
}

export async function runEncode(c: EncodeCommand): Promise<void> {
  const dataset = loadBeir(c.data, c.split);
  ensureOutDir(c.out);
  const encoder = await Encoder.load(c.model, encoderOptions(c));
  try {
    const { queries, corpus } = await embedDataset(encoder, dataset);
    writeNpy(join(c.out, 'corpus_embeddings.npy'), corpus);
    writeNpy(join(c.out, 'query_embeddings.npy'), queries);
    process.stdout.write(`wrote ${join(c.out, 'query_embeddings.npy')} (${queries.rows} x ${queries.cols}) and ${join(c.out, 'corpus_embeddings.npy')} (${corpus.rows} x ${corpus.cols})\n`);
  } finally {
    await encoder.close();
  }
}

export interface CompareCommand extends EncodeFlags {
  base: string;
  tuned: string;
  data: string;
  load: LoadOptions;
  dims?: number[];
  out: string;
  json: boolean;
  chartMetric: string;
  kLists: KLists;
  seed: number;
}

function modelJson(r: ModelEvalResult) {
  const m = r.model;
  return {
    model: { path: m.path, name: m.name, sha256: m.sha256, width: m.width, pooling: m.pooling, prompts: m.prompts, max_seq_length: m.maxSeqLength, normalize: m.normalize },
    engine: r.engine,
    encode_ms: r.encodeMs,
    score_ms: r.timingsMs.score,
    inferred_texts: r.inferred,
    metrics: r.metrics,
  };
}

export async function runCompare(c: CompareCommand & LogOptions & { baseName?: string; tunedName?: string }): Promise<void> {
  const dataset = await loadDataset(c.data, c.load);
  if (!metricNames(c.kLists).includes(c.chartMetric))
    throw new UserError(`--chart-metric: "${c.chartMetric}" is not one of ${metricNames(c.kLists).join(', ')}`, 'ERR_OPTION');
  ensureOutDir(c.out);
  warn(dataset.warnings);
  let json: Record<string, unknown> = {};
  let table = '';
  let heading = '';
  const files = ['results.json', 'report.md', 'chart.png', 'per_query.jsonl'].map((f) => join(c.out, f));
  const runId = await loggedRun(c, runStart('compare', dataset, c.dims, c.kLists, c.device), async () => {
    const result = await compare(c.base, c.tuned, dataset, {
      dims: c.dims,
      kLists: c.kLists,
      threads: c.threads,
      device: c.device,
      encoder: encoderOptions(c),
      stats: { seed: c.seed },
    });
    const names = { base: c.baseName ?? result.base.model.name, tuned: c.tunedName ?? result.tuned.model.name };
    json = {
      emb_bench_version: VERSION,
      command: 'compare',
      created: new Date().toISOString(),
      dataset: datasetSummary(dataset, result.base),
      dims: result.dims,
      k_lists: c.kLists,
      base: modelJson(result.base),
      tuned: modelJson(result.tuned),
      differences: result.differences,
      stats: result.stats,
      timings_ms: result.timingsMs,
      warnings: dataset.warnings,
    };
    writeAtomic(files[2], renderChart(result, c.chartMetric, names));
    writeAtomic(files[3], perQueryJsonl({ base: result.base, tuned: result.tuned }));
    writeAtomic(files[1], compareMarkdown(result, dataset, c.chartMetric));
    writeJson(files[0], json);
    heading = `${names.base} vs ${names.tuned} on ${dataset.name}: ${result.base.counts.scored_queries} queries, ${result.base.counts.corpus} documents`;
    table = differenceTable(result, c.chartMetric);
    return {
      models: [
        { role: 'base', model: identity(result.base, c.baseName), metrics: result.base.metrics, metadata: { base_model_eval: result.base.metrics } },
        { role: 'tuned', model: identity(result.tuned, c.tunedName), metrics: result.tuned.metrics, metadata: { finetuned_model_eval: result.tuned.metrics } },
      ],
      artifacts: files,
    };
  });
  if (c.json) process.stdout.write(JSON.stringify({ ...json, run_id: runId }, null, 2) + '\n');
  else process.stdout.write(`${heading}\n\n${table}\n\nwrote ${files.join(', ')}${runId ? `; registry run ${runId}` : ''}\n`);
}
