// `compare` and `demo`: base vs fine-tuned, outputs written by lib/report, the headline table printed.
import { join } from 'node:path';
import { compare, type CompareResult, type CompareShardResult, compareFromTopK, compareShard } from '../../lib/compare.js';
import { mkdirSync } from 'node:fs';
import { type Dataset, datasetFingerprint } from '../../lib/data/dataset.js';
import { UserError } from '../../lib/errors.js';
import { maxK } from '../../lib/metrics/index.js';
import { mergePartials, readPartial, type Shard, writePartial } from '../../lib/score/shards.js';
import { loadDataset, type LoadOptions } from '../../lib/data/load.js';
import { writeDemo } from '../../lib/demo/data.js';
import { checkAborted } from '../../lib/errors.js';
import { DEFAULT_K_LISTS, type KLists } from '../../lib/metrics/index.js';
import { loggedRun, type RunStart, runStart } from '../../lib/registry/index.js';
import { differenceTable } from '../../lib/report/markdown.js';
import { checkHeadlineMetric, checkOutDir, writeCompareOutputs } from '../../lib/report/outputs.js';
import { compareResultsJson } from '../../lib/report/results.js';
import type { Context } from '../context.js';
import { clean } from '../format.js';
import { type EncodeFlags, identity, mergeScore, pipelineOptions } from './evaluate.js';

export interface CompareCommand extends EncodeFlags {
  base: string;
  tuned: string;
  baseName?: string;
  tunedName?: string;
  data: string;
  load: LoadOptions;
  dims?: number[];
  out: string;
  json: boolean;
  chartMetric: string;
  kLists: KLists;
  seed: number;
  /** null: do not log the run. */
  registry: string | null;
  /** Run only this shard (partial results for `merge`). */
  shard?: Shard;
}

export async function runCompare(c: CompareCommand, ctx: Context): Promise<void> {
  // Every flag combination is checked before any data is read or any model encodes.
  checkHeadlineMetric(c.chartMetric, c.kLists);
  checkOutDir(c.out);
  const dataset = await loadDataset(c.data, { ...c.load, hub: { onProgress: ctx.onProgress, onWarning: ctx.onWarning, signal: ctx.signal } });
  dataset.warnings.forEach(ctx.onWarning);
  if (c.shard) return runCompareShard(c, c.shard, dataset, ctx);
  await logCompare(c, dataset, runStart('compare', dataset, c.dims, c.kLists, c.device), ctx, () =>
    compare(c.base, c.tuned, dataset, { ...pipelineOptions(c, ctx), stats: { seed: c.seed } }),
  );
}

/**
 * Runs `work` (a compare, or a merge of its shards) as a logged registry run, writes its
 * outputs, and prints the headline table (or results.json with --json).
 */
async function logCompare(
  c: { out: string; json: boolean; chartMetric: string; registry: string | null; baseName?: string; tunedName?: string },
  dataset: Dataset,
  start: RunStart,
  ctx: Context,
  work: () => Promise<CompareResult>,
): Promise<void> {
  let json: ReturnType<typeof compareResultsJson> | undefined;
  let table = '';
  let files: string[] = [];
  const { runId, notes } = await loggedRun(c.registry, start, async () => {
    const result = await work();
    const names = { base: c.baseName ?? result.base.model.name, tuned: c.tunedName ?? result.tuned.model.name };
    json = compareResultsJson(dataset, result, names);
    table = differenceTable(result, c.chartMetric);
    checkAborted(ctx.signal);
    files = writeCompareOutputs(c.out, dataset, result, { chartMetric: c.chartMetric, names });
    return {
      models: [
        { role: 'base', model: identity(result.base, names.base), metrics: result.base.metrics, metadata: { base_model_eval: result.base.metrics } },
        { role: 'tuned', model: identity(result.tuned, names.tuned), metrics: result.tuned.metrics, metadata: { finetuned_model_eval: result.tuned.metrics } },
      ],
      artifacts: files,
    };
  });
  notes.forEach(ctx.onWarning);
  if (!json) return;
  if (c.json) process.stdout.write(JSON.stringify({ ...json, run_id: runId }, null, 2) + '\n');
  else {
    const d = json.dataset;
    const heading = `${clean(json.base.model.name)} vs ${clean(json.tuned.model.name)} on ${clean(d.name)}: ${d.scored_queries} queries, ${d.corpus} documents`;
    process.stdout.write(`${heading}\n\n${table}\n\nwrote ${files.map(clean).join(', ')}${runId ? `; registry run ${runId}` : ''}\n`);
  }
}

/** One shard of a sharded compare: its partial top-k lists for `emb-bench merge`. */
async function runCompareShard(c: CompareCommand, shard: Shard, dataset: Dataset, ctx: Context): Promise<void> {
  const r = await compareShard(c.base, c.tuned, dataset, shard, pipelineOptions(c, ctx));
  checkAborted(ctx.signal);
  const path = join(c.out, `compare.shard-${shard.index}-of-${shard.count}.part`);
  mkdirSync(c.out, { recursive: true });
  writePartial(
    path,
    {
      run: {
        command: 'compare',
        models: { base: r.models.base.sha256, tuned: r.models.tuned.sha256 },
        data: { path: dataset.source, fingerprint: datasetFingerprint(dataset), load: { ...c.load, hub: undefined } },
        dims: r.dims,
        k_lists: r.kLists,
        seed: c.seed,
      },
      shard,
      corpus: r.corpus,
      extra: { models: r.models, names: { base: c.baseName, tuned: c.tunedName }, encode_ms: r.encodeMs, inferred: r.inferred, engine: r.topk.base.engine },
    },
    { base: r.topk.base, tuned: r.topk.tuned },
  );
  process.stdout.write(`shard ${shard.index}/${shard.count}: corpus rows ${r.corpus.start}-${r.corpus.end} of ${r.corpus.total}; wrote ${clean(path)}\n`);
}

export interface MergeCommand {
  parts: string[];
  out: string;
  json: boolean;
  chartMetric: string;
  registry: string | null;
}

/** Merges a sharded compare's parts into compare's outputs and registry run, exactly. */
export async function runMerge(c: MergeCommand, ctx: Context): Promise<void> {
  checkOutDir(c.out);
  const parts = c.parts.map((path) => ({ path, partial: readPartial(path) }));
  if ((parts[0].partial.header.run as { command?: string }).command === 'score') return mergeScore(parts, c.out, c.json);
  const run = parts[0].partial.header.run as {
    command: string;
    data: { path: string; fingerprint: string; load: LoadOptions };
    k_lists: KLists;
    seed: number;
    dims: number[];
  };
  if (run.command !== 'compare') throw new UserError(`${parts[0].path}: not a shard of a compare run`, 'ERR_INPUT');
  checkHeadlineMetric(c.chartMetric, run.k_lists);
  const topk = mergePartials(parts, maxK(run.k_lists));
  const dataset = await loadDataset(run.data.path, run.data.load);
  if (datasetFingerprint(dataset) !== run.data.fingerprint)
    throw new UserError(`${run.data.path}: the dataset changed since the shards ran (its fingerprint differs); run the shards again`, 'ERR_INPUT');
  const extras = parts.map(
    (p) => p.partial.header.extra as { models: CompareShardResult['models']; names: { base?: string; tuned?: string }; encode_ms: number; inferred: number },
  );
  const { models, names } = extras[0];
  await logCompare({ ...c, baseName: names.base, tunedName: names.tuned }, dataset, runStart('compare', dataset, run.dims, run.k_lists, 'cpu'), ctx, () =>
    compareFromTopK(dataset, { base: topk.base, tuned: topk.tuned }, models, run.k_lists, {
      stats: { seed: run.seed },
      signal: ctx.signal,
      encodeMs: extras.reduce((n, e) => n + e.encode_ms, 0),
      inferred: extras.reduce((n, e) => n + e.inferred, 0),
    }),
  );
}

export async function runDemo({ out, registry }: { out: string; registry: string | null }, ctx: Context): Promise<void> {
  checkOutDir(out);
  process.stderr.write(`emb-bench demo: writing a synthetic retrieval set and two small ONNX models to ${clean(out)}\n`);
  const demo = writeDemo(out);
  await runCompare(
    {
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
      registry,
    },
    ctx,
  );
}
