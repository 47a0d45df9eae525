// `compare`, `merge` and `demo`: flags in, one run-layer call, the headline table printed.
import { checkOutDir, DEFAULT_K_LISTS, differenceTable, HEADLINE_METRIC, writeDemo } from '../../lib/index.js';
import { type CompareRun, type CompareRunOptions, type MergeRunOptions, runCompare, runMerge } from '../../lib/runs/index.js';
import type { Context } from '../context.js';
import { deployTable, stripControl } from '../format.js';
import { printScore, printShard } from './evaluate.js';

export type CompareCommand = CompareRunOptions & { json: boolean };

export async function compareCommand(c: CompareCommand, ctx: Context): Promise<void> {
  const run = await runCompare({ ...c, ...ctx });
  if (run.kind === 'compare-shard') printShard(run);
  else printCompare(run, c.json, ctx);
}

export async function mergeCommand(c: MergeRunOptions & { json: boolean }, ctx: Context): Promise<void> {
  const run = await runMerge({ ...c, ...ctx });
  if (run.kind === 'score') printScore(run, c.json, `merged ${run.shards} shards`);
  else printCompare(run, c.json, ctx);
}

/** The registry's notes as warnings, then the headline table (or results.json with --json). */
function printCompare(run: CompareRun, json: boolean, ctx: Context): void {
  const { results, runId, files } = run;
  run.notes.forEach(ctx.onWarning);
  if (json) {
    process.stdout.write(JSON.stringify({ ...results, run_id: runId }, null, 2) + '\n');
    return;
  }
  const d = results.dataset;
  const heading = `${stripControl(results.base.model.name)} vs ${stripControl(results.tuned.model.name)} on ${stripControl(d.name)}: ${d.scored_queries} queries, ${d.corpus} documents`;
  const table = differenceTable(run.result, run.chartMetric);
  const deploy = run.result.base.quantization
    ? `\n\n${deployTable(
        [
          { label: 'base', result: run.result.base },
          { label: 'tuned', result: run.result.tuned },
        ],
        run.chartMetric,
      )}`
    : '';
  process.stdout.write(`${heading}\n\n${table}${deploy}\n\nwrote ${files.map(stripControl).join(', ')}${runId ? `; registry run ${runId}` : ''}\n`);
}

export async function demoCommand({ out, registry }: { out: string; registry: string | null }, ctx: Context): Promise<void> {
  checkOutDir(out);
  process.stderr.write(`emb-bench demo: writing a synthetic retrieval set and two small ONNX models to ${stripControl(out)}\n`);
  const demo = writeDemo(out);
  await compareCommand(
    {
      base: demo.base,
      tuned: demo.tuned,
      data: demo.data,
      dims: demo.dims,
      out,
      json: false,
      chartMetric: HEADLINE_METRIC,
      kLists: DEFAULT_K_LISTS,
      cacheDir: null,
      registry,
      commandLine: process.argv.slice(2),
    },
    ctx,
  );
}
