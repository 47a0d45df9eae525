// `eval` and `compare` on a training run's output folder: flags in, runTraining, the table of
// checkpoints and the pick printed.
import { headlineMetric, metricKey } from '../../lib/index.js';
import { runTraining, type TrainingRunOptions } from '../../lib/runs/index.js';
import type { Context } from '../context.js';
import { formatTable, pct, stripControl } from '../format.js';

export async function trainingCommand(c: TrainingRunOptions & { json: boolean }, ctx: Context): Promise<void> {
  const tty = process.stderr.isTTY === true;
  const run = await runTraining({
    ...c,
    ...ctx,
    // a watch ends at the first Ctrl-C with the results so far; a second one exits at once
    ...(c.watch ? { signal: undefined, watch: { ...c.watch, stop: ctx.signal } } : {}),
    onCheckpoint: (r) => {
      if (!tty) return;
      const m = r.result.metrics;
      const dims = r.result.dims.map((d) => `${d}: ${(m[metricKey(d, c.chartMetric ?? headlineMetric(c.kLists))] * 100).toFixed(2)}`).join(', ');
      process.stderr.write(`\r\x1b[2K${stripControl(r.checkpoint.name)} (step ${r.checkpoint.step ?? '?'}): ${dims}\n`);
    },
  });
  run.notes.forEach(ctx.onWarning);
  if (c.json) {
    process.stdout.write(JSON.stringify({ ...run.results, run_id: run.runId }, null, 2) + '\n');
    return;
  }
  const { results } = run;
  const dims = results.dims;
  const rows = [
    ...(results.base
      ? [[`base: ${results.base.model.name}`, '', ...dims.map((d) => (results.base!.metrics[metricKey(d, results.metric)] * 100).toFixed(2))]]
      : []),
    ...results.checkpoints.map((cp) => [
      cp.name,
      cp.step === null ? '' : String(cp.step),
      ...dims.map((d) => {
        const diff = cp.against_base?.[metricKey(d, results.metric)];
        return `${(cp.metrics[metricKey(d, results.metric)] * 100).toFixed(2)}${diff?.significant ? (diff.diff > 0 ? ' +' : ' -') : ''}`;
      }),
    ]),
  ];
  const picks = results.picks.map(
    (p) => `dim ${p.dim}: best ${p.best} (${(p.best_value * 100).toFixed(2)})${p.earliest !== p.best ? `, earliest within noise ${p.earliest}` : ''}`,
  );
  const disagree = results.checkpoints.flatMap((cp) =>
    cp.trainer.filter((t) => !t.agrees).map((t) => `${cp.name} ${t.key}: emb-bench ${pct(t.ours)}, trainer ${pct(t.trainer)} (x 100) (${t.note})`),
  );
  process.stdout.write(
    `${stripControl(results.run.name)} on ${stripControl(results.dataset.name)}: ${results.checkpoints.length} checkpoints, ${results.dataset.scored_queries} queries, ${results.dataset.corpus} documents; ${results.metric} x 100${results.base ? ' (+/-: significantly better/worse than the base, Holm)' : ''}\n\n` +
      formatTable(['checkpoint', 'step', ...dims.map((d) => `dim ${d}`)], rows) +
      `\n\n${picks.join('\n')}\n` +
      (disagree.length ? `\nthe trainer's own numbers disagree:\n${disagree.map(stripControl).join('\n')}\n` : '') +
      `\nwrote ${run.files.map(stripControl).join(', ')}${run.runId ? `; registry run ${run.runId}` : ''}\n`,
  );
}
