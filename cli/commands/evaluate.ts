// `score`, `eval` and `encode`: flags in, one run-layer call, a table or JSON printed.
import {
  type CompareShardRun,
  type EncodeRunOptions,
  type EvalRunOptions,
  runEncode,
  runEval,
  runScore,
  type ScoreRun,
  type ScoreRunOptions,
  type ScoreShardRun,
} from '../../lib/runs/index.js';
import type { Context } from '../context.js';
import { deployTable, stripControl, metricsTable } from '../format.js';
import { headlineMetric } from '../../lib/index.js';

export async function scoreCommand(c: ScoreRunOptions & { json: boolean }, ctx: Context): Promise<void> {
  const run = await runScore({ ...c, ...ctx });
  if (run.kind === 'score-shard') printShard(run);
  else
    printScore(
      run,
      c.json,
      `${stripControl(run.dataset.name)} (${run.result.counts.scoredQueries} queries scored, ${run.result.counts.corpus} documents), engine ${run.result.engine}`,
    );
}

export function printScore(run: ScoreRun, json: boolean, heading: string): void {
  if (json) process.stdout.write(JSON.stringify(run.results, null, 2) + '\n');
  else
    process.stdout.write(
      `${heading}\n\n${metricsTable(run.result.metrics, run.result.dims, run.result.kLists)}\n\n${run.result.quantization ? `${deployTable([{ label: 'embeddings', result: run.result }], headlineMetric(run.result.kLists))}\n\n` : ''}wrote ${run.files.map(stripControl).join(', ')}\n`,
    );
}

export function printShard(run: CompareShardRun | ScoreShardRun): void {
  const { shard, corpus } = run;
  process.stdout.write(`shard ${shard.index}/${shard.count}: corpus rows ${corpus.start}-${corpus.end} of ${corpus.total}; wrote ${stripControl(run.part)}\n`);
}

export async function evalCommand(c: EvalRunOptions & { json: boolean }, ctx: Context): Promise<void> {
  const { results, result, dataset, files, runId, notes } = await runEval({ ...c, ...ctx });
  notes.forEach(ctx.onWarning);
  if (c.json) {
    process.stdout.write(JSON.stringify({ ...results, run_id: runId }, null, 2) + '\n');
    return;
  }
  process.stdout.write(
    `${stripControl(results.model!.name)} on ${stripControl(dataset.name)} (${results.dataset.scored_queries} queries scored, ${results.dataset.corpus} documents)\n\n`,
  );
  process.stdout.write(metricsTable(results.metrics, results.dims, result.kLists) + '\n\n');
  if (result.quantization) process.stdout.write(deployTable([{ label: 'model', result }], headlineMetric(result.kLists)) + '\n\n');
  process.stdout.write(`wrote ${files.map(stripControl).join(', ')}${runId ? `; registry run ${runId}` : ''}\n`);
}

export async function encodeCommand(c: EncodeRunOptions, ctx: Context): Promise<void> {
  const { queries, corpus, files } = await runEncode({ ...c, ...ctx });
  process.stdout.write(`wrote ${stripControl(files[0])} (${queries.rows} x ${queries.cols}) and ${stripControl(files[1])} (${corpus.rows} x ${corpus.cols})\n`);
}
