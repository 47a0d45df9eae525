// `compare` and `demo`: base vs fine-tuned, outputs written by lib/report, the headline table printed.
import { join } from 'node:path';
import { compare } from '../../lib/compare.js';
import { loadDataset, type LoadOptions } from '../../lib/data/load.js';
import { writeDemo } from '../../lib/demo/data.js';
import { checkAborted } from '../../lib/errors.js';
import { DEFAULT_K_LISTS, type KLists } from '../../lib/metrics/index.js';
import { loggedRun, runStart } from '../../lib/registry/index.js';
import { differenceTable } from '../../lib/report/markdown.js';
import { checkHeadlineMetric, checkOutDir, writeCompareOutputs } from '../../lib/report/outputs.js';
import { compareResultsJson } from '../../lib/report/results.js';
import type { Context } from '../context.js';
import { clean } from '../format.js';
import { encoderOptions, type EncodeFlags, identity } from './evaluate.js';

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
}

export async function runCompare(c: CompareCommand, ctx: Context): Promise<void> {
  // Every flag combination is checked before any data is read or any model encodes.
  checkHeadlineMetric(c.chartMetric, c.kLists);
  checkOutDir(c.out);
  const dataset = await loadDataset(c.data, { ...c.load, hub: { onProgress: ctx.onProgress, onWarning: ctx.onWarning, signal: ctx.signal } });
  dataset.warnings.forEach(ctx.onWarning);
  let json: ReturnType<typeof compareResultsJson> | undefined;
  let table = '';
  let files: string[] = [];
  const { runId, notes } = await loggedRun(c.registry, runStart('compare', dataset, c.dims, c.kLists, c.device), async () => {
    const result = await compare(c.base, c.tuned, dataset, {
      dims: c.dims,
      kLists: c.kLists,
      threads: c.threads,
      device: c.device,
      signal: ctx.signal,
      encoder: encoderOptions(c, ctx),
      stats: { seed: c.seed },
    });
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
