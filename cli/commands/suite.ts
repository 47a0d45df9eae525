// eval and compare over several datasets: one run-layer call, the suite's table printed.
import { type CompareRunOptions, type EvalRunOptions, runCompareSuite, runEvalSuite, type DataSpec, suiteKey } from '../../lib/runs/index.js';
import { headlineMetric } from '../../lib/defaults.js';
import type { Context } from '../context.js';
import { formatTable, stripControl } from '../format.js';

const x100 = (v: number | undefined) => (v === undefined ? '–' : (v * 100).toFixed(2));

export async function evalSuiteCommand(c: Omit<EvalRunOptions, 'data'> & { data: DataSpec[]; json: boolean }, ctx: Context): Promise<void> {
  const run = await runEvalSuite({ ...c, ...ctx });
  run.runs.flatMap((r) => r.notes).forEach(ctx.onWarning);
  if (c.json) {
    process.stdout.write(JSON.stringify(run.results, null, 2) + '\n');
    return;
  }
  const metric = headlineMetric(run.kLists);
  const rows = run.labels.map((label) => [stripControl(label), ...run.dims.map((d) => x100(run.metrics[suiteKey(label, d, metric)]))]);
  process.stdout.write(`${metric} x 100 on ${run.datasets.length} datasets\n\n${formatTable(['dataset', ...run.dims.map((d) => `dim ${d}`)], rows)}\n\n`);
  process.stdout.write(`wrote ${run.files.map(stripControl).join(', ')} and one folder per dataset\n`);
}

export async function compareSuiteCommand(c: Omit<CompareRunOptions, 'data'> & { data: DataSpec[]; json: boolean }, ctx: Context): Promise<void> {
  const run = await runCompareSuite({ ...c, ...ctx });
  run.runs.flatMap((r) => r.notes).forEach(ctx.onWarning);
  if (c.json) {
    process.stdout.write(JSON.stringify(run.results, null, 2) + '\n');
    return;
  }
  const metric = run.chartMetric;
  const rows = run.labels.flatMap((label) =>
    run.dims.map((dim) => {
      const k = suiteKey(label, dim, metric);
      const d = run.differences[k];
      const verdict = d.significant ? (d.diff > 0 ? 'better' : 'worse') : '–';
      return [
        stripControl(label),
        String(dim),
        x100(run.base[k]),
        x100(run.tuned[k]),
        `${d.diff >= 0 ? '+' : ''}${(d.diff * 100).toFixed(2)}`,
        d.pHolm < 0.001 ? '<0.001' : d.pHolm.toFixed(3),
        verdict,
      ];
    }),
  );
  process.stdout.write(
    `${metric} x 100 on ${run.datasets.length} datasets\n\n${formatTable(['dataset', 'dim', 'base', 'tuned', 'difference', 'p (Holm)', 'verdict'], rows)}\n\n`,
  );
  process.stdout.write(`wrote ${run.files.map(stripControl).join(', ')} and one folder per dataset\n`);
}
