// Several datasets in one run: `--data` given more than once, or a suite name (`nanobeir`, its 13
// sets; `nanobeir:scifact,nfcorpus` for some). Each dataset is one ordinary eval or compare run
// (the model encoded once for it, every dim scored in one pass, its own output set in a
// subfolder, its own registry run); the suite then sums them up as sentence-transformers'
// NanoBEIREvaluator does (read at UKPLab/sentence-transformers 85ec645): each dataset's metrics
// under `<Dataset>_<dim>_cosine_<metric>` (its evaluator named after the dataset, truncate_dim
// joined in), and the plain mean over datasets under `NanoBEIR_mean_<dim>_cosine_<metric>`
// (`mean_<dim>_...` over every dataset when the suite holds others too). A compare's suite
// differences are tested as queries were sampled, within their datasets (groupedMeanTest), with
// Holm across every test the suite report makes.
import { randomUUID } from 'node:crypto';
import { basename, join } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import type { LoadOptions } from '../data/load.js';
import { isNanoBeirRepo } from '../data/load.js';
import { datasetFingerprint } from '../data/dataset.js';
import { headlineMetric } from '../defaults.js';
import { DEFAULT_OUT_DIR } from '../defaults.js';
import { UserError } from '../errors.js';
import { metricNames, type KLists } from '../metrics/index.js';
import { checkOutDir, writeOutputSet } from '../report/outputs.js';
import { renderSuiteChart } from '../report/chart.js';
import { escapeMarkdown } from '../report/escape.js';
import { DEFAULT_STATS, type StatsOptions } from '../stats/index.js';
import { distinctNames, meanGroups, type SuiteDifference, suiteDifferences, suiteKey, suiteMetrics } from '../suite.js';
import { VERSION } from '../version.js';
import { Registry } from '../registry/index.js';
import { type CompareRun, type CompareRunOptions, runCompare } from './compare.js';
import { registryOf, type RetrievalOutputOptions } from './options.js';
import { type EvalRun, type EvalRunOptions, runEval } from './eval.js';

/** NanoBEIR's Hub repo (its 13 datasets as splits of corpus / queries / qrels). */
export const NANOBEIR_REPO = 'sentence-transformers/NanoBEIR-en';
/** NanoBEIR's datasets in sentence-transformers' order, by the names its evaluator takes. */
export const NANOBEIR_DATASETS: Record<string, string> = {
  climatefever: 'ClimateFEVER',
  dbpedia: 'DBPedia',
  fever: 'FEVER',
  fiqa2018: 'FiQA2018',
  hotpotqa: 'HotpotQA',
  msmarco: 'MSMARCO',
  nfcorpus: 'NFCorpus',
  nq: 'NQ',
  quoraretrieval: 'QuoraRetrieval',
  scidocs: 'SCIDOCS',
  arguana: 'ArguAna',
  scifact: 'SciFact',
  touche2020: 'Touche2020',
};

/** One dataset of a run: a path or Hub id, and its split (default: the run's). */
export interface DataSpec {
  path: string;
  split?: string;
}

/**
 * The `--data` values as datasets: paths and Hub ids as they are, suite names expanded:
 * `nanobeir[:names]` from NanoBEIR-en, `nanobeir-<lang>[:names]` from its language variant
 * (sentence-transformers/NanoBEIR-<lang>, the same splits).
 */
export function expandData(values: string[]): DataSpec[] {
  const out: DataSpec[] = [];
  for (const value of values) {
    const m = /^nanobeir(?:-([a-z]{2,3}))?(?::(.*))?$/i.exec(value);
    if (!m) {
      out.push({ path: value });
      continue;
    }
    const repo = m[1] ? NANOBEIR_REPO.replace(/-en$/, `-${m[1].toLowerCase()}`) : NANOBEIR_REPO;
    const names = m[2] === undefined ? Object.keys(NANOBEIR_DATASETS) : m[2].split(',').map((s) => s.trim().toLowerCase());
    for (const name of names) {
      if (!(name in NANOBEIR_DATASETS))
        throw new UserError(`data ${value}: "${name}" is not a NanoBEIR dataset (one of ${Object.keys(NANOBEIR_DATASETS).join(', ')})`, 'ERR_OPTION', 'data');
      out.push({ path: `hf://datasets/${repo}`, split: `Nano${NANOBEIR_DATASETS[name]}` });
    }
  }
  const seen = new Set<string>();
  for (const s of out) {
    const key = `${s.path}\0${s.split ?? ''}`;
    if (seen.has(key)) throw new UserError(`data: ${s.split ? `${s.path} split ${s.split}` : s.path} is given twice`, 'ERR_OPTION', 'data');
    seen.add(key);
  }
  if (out.length === 0) throw new UserError('data: no dataset given', 'ERR_OPTION', 'data');
  return out;
}

/** Whether a list of --data values is a suite (more than one dataset, or a suite name). */
export const isSuite = (values: string[]) => values.length > 1 || values.some((v) => /^nanobeir(-[a-z]{2,3})?(:|$)/i.test(v));

/** A folder name: letters, digits, `.`, `-` (others become `_`). */
const folderName = (name: string) => name.replace(/[^A-Za-z0-9.-]/g, '_');

/** A subfolder name per dataset, unique within the suite. */
function folders(specs: DataSpec[]): string[] {
  const names = specs.map((s) =>
    folderName(s.split && isNanoBeirRepo(s.path.replace(/^hf:\/\/datasets\//, '')) ? s.split : basename(s.path.replace(/@.*$/, ''))),
  );
  return names.map((n, i) => (names.indexOf(n) === i && names.lastIndexOf(n) === i ? n : `${n}-${i + 1}`));
}

export type { SuiteDifference } from '../suite.js';
export { suiteKey } from '../suite.js';

export interface SuiteDataset {
  name: string;
  source: string;
  split?: string;
  fingerprint: string;
  /** Its run's output folder. */
  folder: string;
  scoredQueries: number;
  corpus: number;
  nanoBeir: boolean;
}

function describe(dataset: Dataset, folder: string, scoredQueries: number): SuiteDataset {
  return {
    name: dataset.name,
    source: dataset.source,
    split: dataset.split,
    fingerprint: datasetFingerprint(dataset),
    folder,
    scoredQueries,
    corpus: dataset.corpus.ids.length,
    // one of NanoBEIR's: read from a NanoBEIR repo on the Hub (a local folder is read as BEIR, whatever its name)
    nanoBeir: dataset.source.startsWith('hf://datasets/') && isNanoBeirRepo(dataset.source.slice('hf://datasets/'.length).replace(/@.*$/, '')),
  };
}

export interface EvalSuiteRun {
  kind: 'eval-suite';
  /** The suite's id: its datasets' registry runs carry it as their `suite` tag. */
  suiteId: string;
  datasets: SuiteDataset[];
  /** The rows of the suite's table: each dataset's name, then the means' (NanoBEIR_mean, mean). */
  labels: string[];
  runs: EvalRun[];
  dims: number[];
  kLists: KLists;
  /** Suite keys -> value: each dataset's metrics and the means. */
  metrics: Record<string, number>;
  /** suite.json as written. */
  results: Record<string, unknown>;
  files: string[];
}

export interface CompareSuiteRun {
  kind: 'compare-suite';
  /** The suite's id: its datasets' registry runs carry it as their `suite` tag. */
  suiteId: string;
  datasets: SuiteDataset[];
  /** The rows of the suite's table: each dataset's name, then the means' (NanoBEIR_mean, mean). */
  labels: string[];
  runs: CompareRun[];
  dims: number[];
  kLists: KLists;
  chartMetric: string;
  base: Record<string, number>;
  tuned: Record<string, number>;
  /** Suite keys -> tuned - base, its interval and p-values (Holm across every dataset-or-mean x dim test of a metric). */
  differences: Record<string, SuiteDifference>;
  /** suite.json as written. */
  results: Record<string, unknown>;
  files: string[];
}

/**
 * Marks a dataset's registry run as part of the suite (tags `suite` = the suite's id,
 * `suite_index`, and `suite_nanobeir` for NanoBEIR's datasets): the dashboard's suite page
 * gathers them.
 */
async function tagSuiteRun(location: string | null, runId: string | null, suite: string, index: number, member: SuiteDataset): Promise<void> {
  if (location === null || runId === null) return;
  const registry = await Registry.open(location);
  try {
    await registry.tagRun(runId, { suite, suite_index: String(index), ...(member.nanoBeir ? { suite_nanobeir: '1' } : {}) });
  } finally {
    await registry.close();
  }
}

/**
 * A dataset's run files for other tools: TREC and ranx runs in a subfolder per dataset (their
 * file names say the model and dim, not the dataset); MTEB's results in the one folder, as its
 * results repository holds every task of a model side by side.
 */
function exportsOf(o: RetrievalOutputOptions, folder: string): RetrievalOutputOptions {
  return {
    ...(o.trecRun !== undefined ? { trecRun: join(o.trecRun, folder) } : {}),
    ...(o.ranxRun !== undefined ? { ranxRun: join(o.ranxRun, folder) } : {}),
  };
}

/**
 * Runs `run` on each dataset of the suite in turn (its data, split, output subfolder and run-file
 * folders), tags its registry run with the suite, and describes the datasets (names told apart).
 */
async function eachDataset<R extends { dataset: Dataset; runId: string | null }>(
  o: { data: DataSpec[]; out?: string; load?: LoadOptions; registry?: string | null } & RetrievalOutputOptions,
  run: (one: { data: string; load: LoadOptions; out: string } & RetrievalOutputOptions) => Promise<{ run: R; scoredQueries: number }>,
): Promise<{ out: string; suiteId: string; runs: R[]; datasets: SuiteDataset[] }> {
  const out = o.out ?? DEFAULT_OUT_DIR;
  checkOutDir(out);
  const dirs = folders(o.data);
  const suiteId = randomUUID();
  const runs: R[] = [];
  const datasets: SuiteDataset[] = [];
  for (const [i, spec] of o.data.entries()) {
    const folder = join(out, dirs[i]);
    const done = await run({ ...exportsOf(o, dirs[i]), data: spec.path, load: { ...o.load, split: spec.split ?? o.load?.split }, out: folder });
    runs.push(done.run);
    datasets.push(describe(done.run.dataset, folder, done.scoredQueries));
    await tagSuiteRun(registryOf(o), done.run.runId, suiteId, i, datasets[i]);
  }
  distinctNames(datasets);
  return { out, suiteId, runs, datasets };
}

/**
 * `eval` over several datasets: one eval run per dataset into `<out>/<dataset>/`, then
 * `suite.json` and `report.md` in `out` with the per-dataset and mean metrics.
 * @throws UserError on bad input (nothing of a failed dataset is written; the ones before it
 * keep their complete outputs and registry runs, and no suite files are written).
 */
export async function runEvalSuite(o: Omit<EvalRunOptions, 'data'> & { data: DataSpec[] }): Promise<EvalSuiteRun> {
  const { out, suiteId, runs, datasets } = await eachDataset(o, async (one) => {
    const run = await runEval({ ...o, ...one });
    return { run, scoredQueries: run.result.counts.scoredQueries };
  });
  const dims = runs[0].result.dims;
  const kLists = runs[0].result.kLists;
  const metrics = suiteMetrics(
    datasets,
    runs.map((r) => r.result.metrics),
    dims,
    metricNames(kLists),
  );
  const model = runs[0].results.model!; // eval results always name their model
  const json = {
    schema_version: 1,
    emb_bench_version: VERSION,
    command: 'eval',
    suite_id: suiteId,
    model: { name: model.name, path: model.path, sha256: model.sha256, width: model.width },
    datasets: datasets.map(datasetJson),
    dims,
    k_lists: kLists,
    metrics,
  };
  const headline = headlineMetric(kLists);
  const report = evalSuiteMarkdown(model.name, datasets, metrics, dims, headline);
  const rows = [...datasets.map((d) => d.name), ...meanGroups(datasets).map((g) => g.label)];
  const value = (row: string, dim: number) => metrics[suiteKey(row, dim, headline)];
  const chart = () =>
    renderSuiteChart(
      `${headline} x 100: ${model.name}`,
      rows,
      dims,
      (row, dim) => ({ text: x100(value(row, dim)), fill: shade(value(row, dim)), bold: !datasets.some((d) => d.name === row) }),
      'each dataset evaluated on its own; the means are plain means over datasets',
    );
  const files = writeOutputSet(out, { 'suite.json': () => `${JSON.stringify(json, null, 2)}\n`, 'report.md': () => report, 'chart.png': chart });
  return { kind: 'eval-suite', suiteId, datasets, labels: rows, runs, dims, kLists, metrics, results: json, files };
}

/**
 * `compare` over several datasets: one compare run per dataset into `<out>/<dataset>/`, then the
 * suite's differences per dataset and on each mean, with Holm across all of them per metric.
 */
export async function runCompareSuite(o: Omit<CompareRunOptions, 'data'> & { data: DataSpec[] }): Promise<CompareSuiteRun> {
  if (o.shard) throw new UserError('shard: a suite runs whole datasets (shard one dataset at a time)', 'ERR_OPTION', 'shard');
  const { out, suiteId, runs, datasets } = await eachDataset(o, async (one) => {
    const run = await runCompare({ ...o, ...one });
    if (run.kind !== 'compare') throw new UserError('tuned: a suite compares two models, not a training run', 'ERR_OPTION', 'tuned');
    return { run, scoredQueries: run.result.base.counts.scoredQueries };
  });
  const { dims } = runs[0].result;
  const kLists = runs[0].result.base.kLists;
  const names = metricNames(kLists);
  const base = suiteMetrics(
    datasets,
    runs.map((r) => r.result.base.metrics),
    dims,
    names,
  );
  const tuned = suiteMetrics(
    datasets,
    runs.map((r) => r.result.tuned.metrics),
    dims,
    names,
  );
  const stats = { ...DEFAULT_STATS, ...(o.seed !== undefined ? { seed: o.seed } : {}) } satisfies Required<StatsOptions>;
  const differences = suiteDifferences(
    datasets,
    runs.map((r) => ({ base: r.result.base.perQuery, tuned: r.result.tuned.perQuery })),
    dims,
    names,
    stats,
    runs.map((r) => r.result.differences),
  );
  const chartMetric = o.chartMetric ?? headlineMetric(kLists);
  const names2 = { base: runs[0].results.base.model.name, tuned: runs[0].results.tuned.model.name };
  const json = {
    schema_version: 1,
    emb_bench_version: VERSION,
    command: 'compare',
    suite_id: suiteId,
    models: { base: runs[0].results.base.model, tuned: runs[0].results.tuned.model },
    datasets: datasets.map(datasetJson),
    dims,
    k_lists: kLists,
    chart_metric: chartMetric,
    base_metrics: base,
    tuned_metrics: tuned,
    differences: Object.fromEntries(
      Object.entries(differences).map(([k, d]) => [
        k,
        { diff: d.diff, ci_low: d.ciLow, ci_high: d.ciHigh, p_value: d.pValue, p_holm: d.pHolm, significant: d.significant },
      ]),
    ),
    stats: {
      interval: `per dataset: its compare's ${stats.samples}-sample paired bootstrap; means: ${stats.samples}-sample bootstrap resampling queries within each dataset`,
      test: 'paired randomization (sign-flip) test, two-sided; for a mean, of the mean of dataset means (each query weighted 1 / (datasets x its dataset queries))',
      correction: 'Holm across every test of a metric: each dataset and each mean at each dim',
      seed: stats.seed,
      alpha: stats.alpha,
    },
  };
  const report = compareSuiteMarkdown(names2, datasets, base, tuned, differences, dims, chartMetric, stats.alpha);
  const labels = [...datasets.map((d) => d.name), ...meanGroups(datasets).map((g) => g.label)];
  const keyOf = (row: string, dim: number) => suiteKey(row, dim, chartMetric);
  const chart = () =>
    renderSuiteChart(
      `${chartMetric} x 100, ${names2.tuned} minus ${names2.base}`,
      labels,
      dims,
      (row, dim) => {
        const d = differences[keyOf(row, dim)];
        return {
          text: `${signed(d.diff)}${d.significant ? ' *' : ''}`,
          fill: d.significant ? (d.diff > 0 ? '#c6efce' : '#f8cbad') : '#eeeeee',
          bold: d.significant,
        };
      },
      `green: better, red: worse (* p < ${stats.alpha} after Holm across every test of the metric); grey: no significant difference`,
    );
  const files = writeOutputSet(out, { 'suite.json': () => `${JSON.stringify(json, null, 2)}\n`, 'report.md': () => report, 'chart.png': chart });
  return { kind: 'compare-suite', suiteId, datasets, labels, runs, dims, kLists, chartMetric, base, tuned, differences, results: json, files };
}

function datasetJson(d: SuiteDataset) {
  return {
    name: d.name,
    source: d.source,
    split: d.split ?? null,
    fingerprint: d.fingerprint,
    folder: d.folder,
    scored_queries: d.scoredQueries,
    corpus: d.corpus,
  };
}

const x100 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : (v * 100).toFixed(2));
const signed = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)}`;
/** A light blue, darker for a larger value in [0, 1]. */
const shade = (v: number | undefined) => {
  const t = Math.max(0, Math.min(1, v ?? 0));
  return `rgb(${Math.round(235 - 120 * t)}, ${Math.round(242 - 80 * t)}, 255)`;
};
const pText = (p: number) => (p < 0.001 ? '<0.001' : p.toFixed(3));

function datasetLine(d: SuiteDataset): string {
  return `- **${escapeMarkdown(d.name)}**${d.split && d.split !== d.name ? ` (split ${escapeMarkdown(d.split)})` : ''}: ${d.scoredQueries} queries, ${d.corpus} documents, fingerprint ${d.fingerprint.slice(0, 12)}, outputs in \`${escapeMarkdown(basename(d.folder))}/\``;
}

function evalSuiteMarkdown(model: string, datasets: SuiteDataset[], metrics: Record<string, number>, dims: number[], metric: string): string {
  const rows = [
    ...datasets.map((d) => `| ${escapeMarkdown(d.name)} | ${dims.map((dim) => x100(metrics[suiteKey(d.name, dim, metric)])).join(' | ')} |`),
    ...meanGroups(datasets).map((g) => `| **${g.label}** | ${dims.map((dim) => `**${x100(metrics[`${suiteKey(g.label, dim, metric)}`])}**`).join(' | ')} |`),
  ];
  return `# emb-bench eval: ${escapeMarkdown(model)} on ${datasets.length} datasets

${datasets.map(datasetLine).join('\n')}

## ${escapeMarkdown(metric)} by dataset and dimension (x 100)

| dataset | ${dims.map((d) => `dim ${d}`).join(' | ')} |
|---|${dims.map(() => '---:').join('|')}|
${rows.join('\n')}

![chart](chart.png)

Each dataset's every metric is in its folder's results.json; suite.json holds them all under the
keys sentence-transformers' NanoBEIREvaluator writes (\`<dataset>_<dim>_cosine_<metric>\`) and the
plain mean over datasets under ${meanGroups(datasets)
    .map((g) => (g.label === 'mean' ? '`mean_<dim>_cosine_<metric>` (every dataset)' : '`NanoBEIR_mean_<dim>_cosine_<metric>` (the NanoBEIR datasets)'))
    .join(' and ')}.
`;
}

function compareSuiteMarkdown(
  names: { base: string; tuned: string },
  datasets: SuiteDataset[],
  base: Record<string, number>,
  tuned: Record<string, number>,
  differences: Record<string, SuiteDifference>,
  dims: number[],
  metric: string,
  alpha: number,
): string {
  const labels = [...datasets.map((d) => d.name), ...meanGroups(datasets).map((g) => g.label)];
  const key = (label: string, dim: number) => suiteKey(label, dim, metric);
  const verdict = (d: SuiteDifference) => (!d.significant ? 'no significant difference' : d.diff > 0 ? 'better' : 'worse');
  const rows = labels.flatMap((label) =>
    dims.map((dim) => {
      const k = key(label, dim);
      const d = differences[k];
      const mean = !datasets.some((x) => x.name === label);
      const cell = (s: string) => (mean ? `**${s}**` : s);
      return `| ${cell(escapeMarkdown(label))} | ${dim} | ${x100(base[k])} | ${x100(tuned[k])} | ${signed(d.diff)} | [${signed(d.ciLow)}, ${signed(d.ciHigh)}] | ${pText(d.pHolm)} | ${verdict(d)} |`;
    }),
  );
  const worse = Object.entries(differences).filter(([, d]) => d.significant && d.diff < 0);
  return `# emb-bench compare: ${escapeMarkdown(names.base)} vs ${escapeMarkdown(names.tuned)} on ${datasets.length} datasets

${datasets.map(datasetLine).join('\n')}

## Where ${escapeMarkdown(names.tuned)} got worse

${
  worse.length
    ? worse
        .sort(([, a], [, b]) => a.diff - b.diff)
        .map(([k, d]) => `- \`${escapeMarkdown(k)}\`: ${signed(d.diff)} x 100 (p ${pText(d.pHolm)})`)
        .join('\n')
    : `Nowhere significantly, on any metric, dataset or dim (alpha ${alpha}, Holm).`
}

## ${escapeMarkdown(metric)} by dataset and dimension (x 100)

![chart](chart.png)

| dataset | dim | ${escapeMarkdown(names.base)} | ${escapeMarkdown(names.tuned)} | difference | 95% CI | p (Holm) | verdict |
|---|---:|---:|---:|---:|---|---:|---|
${rows.join('\n')}

Differences are ${escapeMarkdown(names.tuned)} minus ${escapeMarkdown(names.base)}. Per dataset: the interval and p-value of
its own compare (its folder's report), paired bootstrap and paired randomization (sign-flip) test
over its queries. For a mean over datasets the queries are grouped by dataset: the interval
resamples queries within each dataset, and the sign-flip test is of the mean of dataset means, so
each dataset counts once whatever its size (a pooled test would let the largest dataset decide).
Holm's correction runs across every test of a metric in this report (each dataset and each mean,
at each dim); significant at alpha = ${alpha}.
`;
}
