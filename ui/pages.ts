// The dashboard's pages, rendered on the server from the Registry API.
import { HEADLINE_METRIC } from '../lib/defaults.js';
import type { EvalResultsJson } from '../lib/report/results.js';
import { queryTextsOf, suiteKey } from '../lib/runs/index.js';
import { metricKey, parseMetricKey } from '../lib/metrics/keys.js';
import { sortMetricNames } from '../lib/metrics/metrics.js';
import {
  compareSelection,
  parseMetricCondition,
  storedDifferences,
  storedSuite,
  type Registry,
  type RunFilter,
  type ShownModel,
  type ShownRun,
} from '../lib/registry/index.js';
import { UserError } from '../lib/errors.js';
import { lineChart, scatterChart, type Series } from './charts.js';
import { paretoFront } from '../lib/report/deploy.js';
import { bytesPerVector, type Precision } from '../lib/score/quantized.js';
import { Html, html, page, query } from './html.js';
import { renderMarkdown } from './markdown.js';

export interface PageContext {
  registry: Registry;
  allowWrite: boolean;
  csrf: string;
  /** Query texts by run id (loaded once from the run's dataset, when it is still there). */
  texts: Map<string, Map<string, string> | null>;
  /** per_query.jsonl files read into columns, by sha256 (the same bytes are read once; a few kept). */
  perQuery: Map<string, PerQueryTable>;
}

/** A per_query.jsonl as columns: each query's value of every key, for the base (or the one model) and the tuned. */
export interface PerQueryTable {
  ids: string[];
  base: Map<string, Float64Array>;
  tuned: Map<string, Float64Array>;
}

const PER_QUERY_TABLES_KEPT = 4;

export class NotFound extends Error {}

/** Bytes of an artifact shown inline at most (results.json, report.md); the rest is a download. */
const INLINE_LIMIT = 1 << 20;
const PAGE_SIZE = 50;
/** per_query.jsonl files larger than this are offered for download instead of paged here. */
const PER_QUERY_LIMIT = 64 << 20;
const COLORS = { base: '#1f77b4', tuned: '#d62728', diff: '#2ca02c' };
const DIM_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

const fmt = (v: number | null | undefined, digits = 4) => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits));
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;
const badge = (stage: string) => (stage && stage !== 'none' ? html`<span class="badge ${stage}">${stage}</span>` : '');
const modelHref = (name: string) => `/models/${encodeURIComponent(name)}`;
const runHref = (id: string) => `/runs/${encodeURIComponent(id)}`;
const artifactHref = (run: string, name: string) => `/runs/${encodeURIComponent(run)}/artifacts/${encodeURIComponent(name)}`;

/** Metrics by dim: `dim_64_cosine_ndcg@10` -> { 64: value } for one metric name. */
function byDim(metrics: Record<string, number>, metric: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const [k, v] of Object.entries(metrics)) {
    const p = parseMetricKey(k);
    if (p && p.name === metric) out.set(p.dim, v);
  }
  return out;
}

/** The metric names of a metrics object, in the evaluator's order. */
function metricNamesOf(metrics: Record<string, number>): string[] {
  return sortMetricNames(
    Object.keys(metrics)
      .map((k) => parseMetricKey(k)?.name)
      .filter((n): n is string => Boolean(n)),
  );
}

// ---- Models ----

export async function modelsPage(ctx: PageContext): Promise<Html> {
  const rows = [];
  // nDCG@10 in either conventions: sentence-transformers' name, else MTEB's (a --conventions trec run)
  for (const m of await ctx.registry.modelsOverview([HEADLINE_METRIC, 'ndcg_at_10'])) {
    const st = byDim(m.metrics, HEADLINE_METRIC);
    const ndcg = st.size ? st : byDim(m.metrics, 'ndcg_at_10');
    const dims = [...ndcg.keys()].sort((a, b) => b - a);
    const stages = [
      ['production', m.production],
      ['staging', m.staging],
    ].filter(([, v]) => v !== null);
    rows.push(html`<tr>
<td><a href="${modelHref(m.name)}">${m.name}</a></td>
<td class="num">${m.versions}</td>
<td class="num">${m.latest ?? '–'}</td>
<td>${stages.map(([stage, v]) => html`${badge(String(stage))} v${v} `)}</td>
<td>${dims.length ? html`${dims.map((d) => html`<span class="muted">${d}:</span> ${fmt(ndcg.get(d))} `)}<div class="muted">on ${m.latestDataset?.name ?? '–'} ${(m.latestDataset?.fingerprint ?? '').slice(0, 12)}, run <a href="${runHref(m.latestRun!)}">${m.latestRun!.slice(0, 8)}</a></div>` : html`<span class="muted">${m.latestRun ? html`no nDCG@10 in its latest run, <a href="${runHref(m.latestRun)}">${m.latestRun.slice(0, 8)}</a>` : 'no run yet'}</span>`}</td>
</tr>`);
  }
  return page(
    'Models',
    html`<h1>Models</h1>
${rows.length ? html`<table><thead><tr><th>model</th><th class="num">versions</th><th class="num">latest</th><th>stages</th><th>nDCG@10 by dim (latest version, latest run, its dataset)</th></tr></thead><tbody>${rows}</tbody></table>` : html`<p>No models yet: run <code>emb-bench compare</code> or <code>emb-bench eval</code>.</p>`}`,
    'Models',
  );
}

// ---- Model ----

function metadataCard(title: string, value: unknown): Html {
  if (value === undefined || value === null || (typeof value === 'object' && Object.keys(value as object).length === 0)) return html``;
  const cell = (v: unknown): Html | string =>
    v !== null && typeof v === 'object'
      ? html`<code>${JSON.stringify(v)}</code>`
      : typeof v === 'number' && !Number.isInteger(v)
        ? String(Number(v.toPrecision(6)))
        : String(v);
  const body =
    typeof value === 'object' && !Array.isArray(value)
      ? html`<dl>${Object.entries(value as Record<string, unknown>).map(([k, v]) => html`<dt>${k}</dt><dd>${cell(v)}</dd>`)}</dl>`
      : html`<p>${cell(value)}</p>`;
  return html`<div class="card"><h3>${title}</h3>${body}</div>`;
}

export async function modelPage(ctx: PageContext, name: string, params: URLSearchParams): Promise<Html> {
  let m: ShownModel;
  try {
    m = await ctx.registry.showModel(name);
  } catch {
    throw new NotFound(`model ${name}`);
  }
  const allMetrics = m.versions.flatMap((v) => v.datasets.flatMap((d) => metricNamesOf(d.metrics)));
  const names = [...new Set(allMetrics)];
  const metric = names.includes(params.get('metric') ?? '')
    ? params.get('metric')!
    : names.includes(HEADLINE_METRIC)
      ? HEADLINE_METRIC
      : (names[0] ?? HEADLINE_METRIC);
  const histories = await ctx.registry.stageHistories(m.name);
  // the versions' latest runs' hardware and metadata, in one batch
  const details = await ctx.registry.runDetails([...new Set(m.versions.flatMap((v) => (v.latestRun ? [v.latestRun] : [])))]);
  // checkpoints of a training run: drawn by step, the run's base model dashed
  const stepOf = (v: (typeof m.versions)[number]) => (v.metadata as { training?: { step?: unknown } }).training?.step;
  const byStep = m.versions.length > 0 && m.versions.every((v) => typeof stepOf(v) === 'number');
  // one section per dataset (name and fingerprint): the trend across versions, and its runs
  const sections = [];
  for (const d of m.datasets) {
    const at = (v: (typeof m.versions)[number]) => v.datasets.find((x) => x.fingerprint === d.fingerprint);
    const dims = [...new Set(m.versions.flatMap((v) => [...byDim(at(v)?.metrics ?? {}, metric).keys()]))].sort((a, b) => b - a);
    const trend: Series[] = dims.map((dim, i) => ({
      label: `dim ${dim}`,
      color: DIM_COLORS[i % DIM_COLORS.length],
      points: m.versions.flatMap((v) => {
        const y = byDim(at(v)?.metrics ?? {}, metric).get(dim);
        return y === undefined ? [] : [{ x: byStep ? (stepOf(v) as number) : v.version, y }];
      }),
    }));
    const newest = d.recent[0];
    const baseOfRun = byStep && newest ? (await ctx.registry.showRun(newest.run)).models.find((x) => x.role === 'base') : undefined;
    if (baseOfRun) {
      const xs = trend.flatMap((t) => t.points.map((p) => p.x));
      dims.forEach((dim, i) => {
        const y = byDim(baseOfRun.metrics, metric).get(dim);
        if (y !== undefined && xs.length)
          trend.push({
            label: `${baseOfRun.name} dim ${dim}`,
            color: DIM_COLORS[i % DIM_COLORS.length],
            dashed: true,
            points: [
              { x: Math.min(...xs), y },
              { x: Math.max(...xs), y },
            ],
          });
      });
    }
    sections.push(html`<h3>${d.name ?? '–'} <span class="muted">dataset ${(d.fingerprint ?? '').slice(0, 12)}</span></h3>
${lineChart(trend, { xLabel: byStep ? 'training step' : 'version', yLabel: metric, xLog: false })}
<table><thead><tr><th>run</th><th class="num">version</th><th>role</th><th>ended</th></tr></thead><tbody>
${d.recent.map((r) => html`<tr><td><a href="${runHref(r.run)}"><code>${r.run.slice(0, 8)}</code></a></td><td class="num">${r.version}</td><td>${r.role}</td><td>${r.endedAt.slice(0, 19).replace('T', ' ')}</td></tr>`)}
</tbody></table><p class="muted">${d.runs} succeeded run(s) on this dataset${d.runs > d.recent.length ? html`; <a href="/runs${query({ model: m.name, dataset: d.fingerprint ?? undefined })}">all of them</a>` : ''}</p>`);
  }
  const versionRows = m.versions.map((v) => {
    const history = histories[v.version] ?? [];
    const promote = ctx.allowWrite
      ? html`<form class="inline" method="post" action="/promote">
<input type="hidden" name="csrf" value="${ctx.csrf}"><input type="hidden" name="name" value="${m.name}"><input type="hidden" name="version" value="${v.version}">
<select name="stage" aria-label="stage"><option>staging</option><option>production</option></select> <button type="submit">promote</button></form>`
      : '';
    return html`<tr id="v${v.version}">
<td class="num">${v.version}</td><td><code>${String(v.sha256).slice(0, 12)}</code></td><td class="num">${v.width ?? '–'}</td>
<td>${v.pooling.join('+') || 'graph'}</td>
<td>${Object.entries(v.prompts)
      .filter(([, t]) => t)
      .map(([k, t]) => html`<div><span class="muted">${k}:</span> ${t}</div>`)}</td>
<td>${badge(v.stage)}${history.length ? html`<div class="muted">${history.map((h) => html`<div>${h.changedAt.slice(0, 19).replace('T', ' ')}: ${h.previous} → ${h.stage} (${h.source})</div>`)}</div>` : ''}${promote}</td>
<td>${v.createdAt.slice(0, 19).replace('T', ' ')}</td>
<td>${v.latestRun ? html`<a href="${runHref(v.latestRun)}">${v.latestRun.slice(0, 8)}</a>` : '–'}</td>
</tr>`;
  });
  const cards = [...m.versions].reverse().map((v) => {
    const meta = v.metadata as Record<string, unknown> & { card?: Record<string, unknown> };
    const { card, ...user } = meta;
    const run = v.latestRun ? (details.get(v.latestRun) ?? null) : null;
    const evalMeta = (run && v.latestRole ? run.metadata[v.latestRole] : undefined) ?? {};
    const lineage = v.baseModel
      ? html`<div class="card"><h3>Base model</h3><p>${v.baseModel.version ? html`<a href="${modelHref(v.baseModel.name)}#v${v.baseModel.version}">${v.baseModel.name} v${v.baseModel.version}</a>` : v.baseModel.name}${v.baseModel.revision ? html` <span class="muted">at ${v.baseModel.revision.slice(0, 12)}</span>` : ''}</p></div>`
      : '';
    const training = card
      ? {
          loss: card.loss,
          matryoshka_dims: card.matryoshkaDims,
          dataset_size: card.datasetSize,
          datasets: card.datasets,
        }
      : undefined;
    return html`<h3>Version ${v.version}</h3><div class="cards">
${lineage}
${metadataCard('Training', training && Object.fromEntries(Object.entries(training).filter(([, x]) => x !== undefined)))}
${metadataCard('Training hyperparameters', card?.hyperparameters)}
${metadataCard('Framework versions', card?.frameworkVersions)}
${Object.entries(user).map(([k, val]) => metadataCard(k, val))}
${Object.entries(evalMeta).map(([k, val]) => metadataCard(`${k} (latest run)`, val))}
${run ? metadataCard('Hardware (latest run)', run.hardware) : ''}
</div>`;
  });
  return page(
    m.name,
    html`<h1>${m.name}</h1>${m.description ? html`<p>${m.description}</p>` : ''}${Object.keys(m.tags).length ? html`<p>${Object.entries(m.tags).map(([k, v]) => html`<span class="tag">${v === '' ? k : `${k}=${v}`}</span> `)}</p>` : ''}
<h2>Versions</h2>
<table><thead><tr><th class="num">version</th><th>sha256</th><th class="num">width</th><th>pooling</th><th>prompts</th><th>stage</th><th>created</th><th>latest run</th></tr></thead><tbody>${versionRows}</tbody></table>
<h2>${metric} across ${byStep ? 'training steps' : 'versions'}, per dim, by dataset</h2>
<form class="filters" method="get"><label>metric <select name="metric">${names.map((n) => html`<option${n === metric ? new Html(' selected') : ''}>${n}</option>`)}</select></label><button type="submit">show</button></form>
${sections.length ? sections : html`<p class="muted">no succeeded runs</p>`}
<h2>Metadata</h2>
${cards}`,
    'Models',
  );
}

// ---- Runs ----

export async function runsPage(ctx: PageContext, params: URLSearchParams): Promise<Html> {
  const get = (k: string) => params.get(k)?.trim() || undefined;
  const metricKeyText = get('metric');
  const metric = metricKeyText ? parseMetricKey(metricKeyText) : null;
  const order = get('order') === 'metric-asc' || get('order') === 'metric-desc' ? (get('order') as 'metric-asc' | 'metric-desc') : undefined;
  const filter: RunFilter = {
    model: get('model'),
    dataset: get('dataset'),
    status: get('status') as never,
    command: get('command'),
    since: get('since'),
    tag: get('tag'),
    search: get('q'),
    metric: metric ?? undefined,
    order: metric ? order : undefined,
  };
  const problems: string[] = [];
  const whereText = get('where');
  if (whereText) {
    try {
      filter.where = whereText
        .split(/\s*;\s*|\s+and\s+/i)
        .filter(Boolean)
        .map(parseMetricCondition);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if (metricKeyText && !metric) problems.push(`metric: "${metricKeyText}" is not a metric key (e.g. dim_256_cosine_ndcg@10)`);
  const pageNo = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
  let rows: Awaited<ReturnType<Registry['listRuns']>> = [];
  try {
    rows = await ctx.registry.listRuns(PAGE_SIZE + 1, { ...filter, offset: (pageNo - 1) * PAGE_SIZE });
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    problems.push(e.message);
  }
  const facets = await ctx.registry.runFacets();
  const select = (name: string, label: string, values: string[]) =>
    html`<label>${label}<select name="${name}"><option value="">any</option>${values.map((v) => html`<option${params.get(name) === v ? new Html(' selected') : ''}>${v}</option>`)}</select></label>`;
  const text = (name: string, label: string, placeholder: string, type = 'text') =>
    html`<label>${label}<input type="${type}" name="${name}" value="${params.get(name) ?? ''}" placeholder="${placeholder}"></label>`;
  const state = {
    model: filter.model,
    dataset: filter.dataset,
    status: get('status'),
    command: filter.command,
    since: filter.since,
    tag: filter.tag,
    q: filter.search,
    where: whereText,
    metric: metricKeyText,
    order,
  };
  const link = (p: number) => `/runs${query({ ...state, page: p })}`;
  const sortLink = (o: 'metric-desc' | 'metric-asc') => `/runs${query({ ...state, order: o })}`;
  const suggestions = [...new Set(rows.flatMap((r) => (r.dims ?? []).map((d) => metricKey(d, HEADLINE_METRIC))))];
  return page(
    'Runs',
    html`<h1>Runs</h1>
<form class="filters" method="get">
${text('q', 'search', 'id, note, dataset or model')}${select('model', 'model', facets.models)}${select('dataset', 'dataset', facets.datasets)}${select('status', 'status', ['running', 'succeeded', 'failed', 'interrupted', 'abandoned'])}${select('command', 'command', facets.commands)}
${text('since', 'since', '2026-12-01', 'date')}${text('tag', 'tag', 'key or key=value')}${text('where', 'where', 'dim_256_cosine_ndcg@10>0.4')}
<label>metric column<input name="metric" list="metric-keys" value="${metricKeyText ?? ''}" placeholder="dim_256_cosine_ndcg@10"></label><datalist id="metric-keys">${suggestions.map((k) => html`<option value="${k}">`)}</datalist>
<button type="submit">filter</button></form>
${problems.map((p) => html`<p class="warning">${p}</p>`)}
<form method="get" action="/compare-runs">
<table><thead><tr><th>compare</th><th>run</th><th>command</th><th>status</th><th>started</th><th>dataset</th><th>models</th><th>tags</th><th>note</th>${
      metric
        ? html`<th class="num">${metricKeyText} <a href="${sortLink('metric-desc')}" title="highest first">▼</a> <a href="${sortLink('metric-asc')}" title="lowest first">▲</a></th>`
        : ''
    }</tr></thead><tbody>
${rows.slice(0, PAGE_SIZE).map(
  (
    r,
  ) => html`<tr><td><input type="checkbox" name="run" value="${r.id}" aria-label="select run ${r.id.slice(0, 8)}"></td><td><a href="${runHref(r.id)}"><code>${r.id.slice(0, 8)}</code></a></td><td>${r.command}</td><td>${badge(r.status)}</td>
<td>${r.startedAt.slice(0, 19).replace('T', ' ')}</td><td>${r.datasetName ?? '–'} <span class="muted">${(r.datasetFingerprint ?? '').slice(0, 8)}</span></td><td>${r.models ?? ''}</td>
<td>${Object.entries(r.tags).map(([k, v]) => html`<span class="tag">${v === '' ? k : `${k}=${v}`}</span> `)}</td><td>${r.note}</td>${metric ? html`<td class="num">${fmt(r.metricValue ?? undefined)}</td>` : ''}</tr>`,
)}
</tbody></table>
<p><button type="submit">compare selected</button></p></form>
<p class="pager">${pageNo > 1 ? html`<a href="${link(pageNo - 1)}">← previous</a>` : ''}${rows.length > PAGE_SIZE ? html`<a href="${link(pageNo + 1)}">next →</a>` : ''}</p>`,
    'Runs',
  );
}

/** Several runs side by side: one table and one chart per dataset, each against the reference (stored per-query values, Holm across the selection). */
export async function compareRunsPage(ctx: PageContext, params: URLSearchParams): Promise<Html> {
  const items = params.getAll('run').map((s) => {
    const at = s.indexOf(':');
    return at < 0 ? { run: s } : { run: s.slice(0, at), role: s.slice(at + 1) };
  });
  const metric = params.get('metric') || HEADLINE_METRIC;
  const refText = params.get('reference');
  const reference = refText ? items.findIndex((i) => i.run === refText) : undefined;
  let selection: Awaited<ReturnType<typeof compareSelection>>;
  try {
    selection = await compareSelection(ctx.registry, items, { metric, reference: reference === -1 ? undefined : reference });
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return page('Compare runs', html`<h1>Compare runs</h1><p class="warning">${e.message}</p><p><a href="/runs">choose runs</a></p>`, 'Runs');
  }
  const signed = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)}`;
  const groups = selection.groups.map((g) => {
    const series: Series[] = g.rows.map((r, i) => ({
      label: r.label,
      color: DIM_COLORS[i % DIM_COLORS.length],
      points: g.dims.filter((d) => r.values[d] !== undefined).map((d) => ({ x: d, y: r.values[d] })),
    }));
    return html`<h2>${g.dataset ?? '–'} <span class="muted">${(g.fingerprint ?? '').slice(0, 12)}</span></h2>
<p>Reference: ${g.reference}</p>
${lineChart(series, { yLabel: metric })}
<table><thead><tr><th>model</th>${g.dims.map((d) => html`<th class="num">dim ${d}</th>`)}<th></th></tr></thead><tbody>
${g.rows.map(
  (r) =>
    html`<tr><td><a href="${runHref(r.run)}">${r.label}</a></td>${g.dims.map((d) => {
      const t = r.tests?.[d];
      return html`<td class="num">${fmt(r.values[d])}${t ? html`<div class="${t.significant ? (t.diff > 0 ? 'better' : 'worse') : 'muted'}">${signed(t.diff)} [${signed(t.ciLow)}, ${signed(t.ciHigh)}] p ${t.pHolm < 0.001 ? '<0.001' : t.pHolm.toFixed(3)}</div>` : ''}</td>`;
    })}<td>${r.problem ? html`<span class="muted">no tests: ${r.problem}</span>` : ''}${r.tests === null && !r.problem ? html`<span class="muted">reference</span>` : ''}</td></tr>`,
)}
</tbody></table>`;
  });
  return page(
    'Compare runs',
    html`<h1>${selection.groups.reduce((n, g) => n + g.rows.length, 0)} models side by side: ${metric}</h1>
<p class="muted">Differences x 100 against each dataset's reference with 95% intervals and p-values from the runs' stored per-query values (${selection.correction}).</p>
${groups}`,
    'Runs',
  );
}

// ---- Run ----

/** An artifact's text as the run wrote it (its first INLINE_LIMIT bytes), why it cannot be shown, or null when the run has none. */
async function readArtifact(ctx: PageContext, runId: string, name: string): Promise<{ text: string; truncated: boolean } | { problem: string } | null> {
  const a = await ctx.registry.artifact(runId, name, { maxBytes: PER_QUERY_LIMIT });
  if (!a) return null;
  if (!a.bytes) return { problem: a.problem };
  return { text: a.bytes.subarray(0, INLINE_LIMIT).toString('utf8'), truncated: a.bytes.length > INLINE_LIMIT };
}

/** The full JSON of a run's results.json, when it is there as the run wrote it. */
async function resultsJson(ctx: PageContext, runId: string): Promise<Record<string, unknown> | null> {
  const a = await ctx.registry.artifact(runId, 'results.json', { maxBytes: PER_QUERY_LIMIT });
  if (!a?.bytes) return null;
  try {
    return JSON.parse(a.bytes.toString('utf8'));
  } catch {
    return null;
  }
}

/** A per_query.jsonl read into columns once per content (sha256), kept for the next request. */
export function perQueryTable(ctx: PageContext, sha256: string, bytes: Buffer): PerQueryTable {
  const cached = ctx.perQuery.get(sha256);
  if (cached) return cached;
  const rows = bytes
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { query_id: string; base?: Record<string, number>; tuned?: Record<string, number>; model?: Record<string, number> });
  const table: PerQueryTable = { ids: rows.map((r) => r.query_id), base: new Map(), tuned: new Map() };
  const column = (m: Map<string, Float64Array>, key: string) => {
    let c = m.get(key);
    if (!c) m.set(key, (c = new Float64Array(rows.length).fill(Number.NaN)));
    return c;
  };
  rows.forEach((r, q) => {
    for (const [key, v] of Object.entries(r.base ?? r.model ?? {})) column(table.base, key)[q] = v;
    for (const [key, v] of Object.entries(r.tuned ?? {})) column(table.tuned, key)[q] = v;
  });
  if (ctx.perQuery.size >= PER_QUERY_TABLES_KEPT) ctx.perQuery.delete(ctx.perQuery.keys().next().value!);
  ctx.perQuery.set(sha256, table);
  return table;
}

const problemNote = (name: string, a: { problem: string } | null | { text: string }) =>
  a && 'problem' in a ? html`<p class="warning">${name}: ${a.problem}</p>` : '';

async function findRun(ctx: PageContext, id: string): Promise<ShownRun> {
  try {
    return await ctx.registry.showRun(id);
  } catch {
    throw new NotFound(`run ${id}`);
  }
}
/**
 * A run with quantized precisions: the headline metric against bytes per vector for every (dim,
 * precision) pair of each model, its Pareto front marked, from the metrics the registry holds.
 */
function deploySection(models: Array<{ role: string; metrics: Record<string, number> }>, dims: number[], corpus: number): Html | string {
  const precisions = new Set<string>(['float32']);
  for (const m of models) for (const k of Object.keys(m.metrics)) precisions.add(/^dim_\d+_(int8|uint8|binary|ubinary)_cosine_/.exec(k)?.[1] ?? 'float32');
  if (precisions.size === 1 || dims.length === 0) return '';
  const metric = models.some((m) => metricKey(dims[0], HEADLINE_METRIC) in m.metrics) ? HEADLINE_METRIC : 'ndcg_at_10';
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
  const per = models.map((m) => {
    const points = dims.flatMap((d) =>
      [...precisions].flatMap((p) => {
        const v = m.metrics[metricKey(d, p === 'float32' ? metric : `${p}:${metric}`)];
        return v === undefined ? [] : [{ dim: d, precision: p, bytes: bytesPerVector(p as Precision, d), value: v }];
      }),
    );
    const front = paretoFront(points);
    return { role: m.role, points: points.map((p, i) => ({ ...p, front: front[i] })).sort((a, b) => a.bytes - b.bytes || b.value - a.value) };
  });
  const chart = scatterChart(
    per.map((m, i) => ({
      label: m.role,
      color: colors[i % colors.length],
      points: m.points.map((p) => ({ x: p.bytes, y: p.value, label: `dim ${p.dim} ${p.precision}`, front: p.front })),
    })),
    { yLabel: metric },
  );
  const rows = per[0].points.map((p) => {
    const cells = per.map((m) => m.points.find((o) => o.dim === p.dim && o.precision === p.precision));
    return html`<tr><td class="num">${p.dim}</td><td>${p.precision}</td><td class="num">${p.bytes}</td><td class="num">${corpus ? p.bytes * corpus : '–'}</td>${cells.map((c) => html`<td class="num">${fmt(c?.value)}${c?.front ? ' ◆' : ''}</td>`)}</tr>`;
  });
  return html`<h2>Which dimension and precision to deploy</h2>
${chart}
<table><thead><tr><th class="num">dim</th><th>precision</th><th class="num">bytes / vector</th><th class="num">index bytes</th>${per.map((m) => html`<th class="num">${m.role} ${metric}</th>`)}</tr></thead><tbody>
${rows}
</tbody></table>
<p class="muted">◆ on the model's Pareto front: no other pair is as small and as good. The report below has each pair's test against float32.</p>`;
}

export async function runPage(ctx: PageContext, id: string): Promise<Html> {
  const run = await findRun(ctx, id);
  const artifacts = run.artifacts;
  const art = (name: string) => artifacts.find((a) => a.name === name);
  const dims = run.dims ?? [];
  const names = [...new Set(run.models.flatMap((m) => metricNamesOf(m.metrics)))];
  const resultsRead = await readArtifact(ctx, run.id, 'results.json');
  const reportRead = await readArtifact(ctx, run.id, 'report.md');
  const results = resultsRead && 'text' in resultsRead ? resultsRead : null;
  const report = reportRead && 'text' in reportRead ? reportRead : null;
  let pretty = results?.text ?? '';
  if (results && !results.truncated) {
    try {
      pretty = JSON.stringify(JSON.parse(results.text), null, 2);
    } catch {
      /* shown as it is */
    }
  }
  const table = html`<table><thead><tr><th>metric</th>${dims.map((d) => run.models.map((m) => html`<th class="num">dim ${d} ${m.role}</th>`))}</tr></thead><tbody>
${names.map((n) => html`<tr><td>${n}</td>${dims.map((d) => run.models.map((m) => html`<td class="num">${fmt(m.metrics[metricKey(d, n)])}</td>`))}</tr>`)}
</tbody></table>`;
  const base = run.models.find((m) => m.role === 'base');
  const tuned = run.models.find((m) => m.role === 'tuned');
  return page(
    `Run ${run.id.slice(0, 8)}`,
    html`<h1>Run <code>${run.id.slice(0, 8)}</code> ${badge(run.status)}</h1>
${run.error ? html`<p class="warning">${run.error}</p>` : ''}
${run.tags?.suite ? html`<p>One dataset of <a href="/suites/${run.tags.suite}">suite <code>${run.tags.suite.slice(0, 8)}</code></a>.</p>` : ''}
<div class="cards">
<div class="card"><h3>Command</h3><dl><dt>command</dt><dd><code>emb-bench ${run.argv.join(' ')}</code></dd><dt>started</dt><dd>${run.startedAt}</dd><dt>ended</dt><dd>${run.endedAt ?? '–'}</dd></dl></div>
<div class="card"><h3>Dataset</h3><dl><dt>name</dt><dd>${run.datasetName ?? '–'}</dd><dt>fingerprint</dt><dd><code>${(run.datasetFingerprint ?? '–').slice(0, 16)}</code></dd>${Object.entries(run.datasetCounts ?? {}).map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl></div>
${metadataCard('Software', run.software)}
${metadataCard('Hardware', run.hardware)}
<div class="card"><h3>Models</h3><dl>${run.models.map((m) => html`<dt>${m.role}</dt><dd><a href="${modelHref(m.name)}#v${m.version}">${m.name} v${m.version}</a></dd>`)}</dl>
${base && tuned ? html`<p><a href="/compare${query({ run: run.id })}">compare base and tuned</a> · <a href="${runHref(run.id)}/queries">per query</a></p>` : ''}</div>
</div>
<h2>Results</h2>
${dims.length ? table : html`<p class="muted">no metrics recorded</p>`}
${deploySection(run.models, dims, Number(run.datasetCounts?.corpus ?? 0))}
${art('chart.png') && !report ? html`<h2>Chart</h2><img src="${artifactHref(run.id, 'chart.png')}" alt="chart of ${run.datasetName ?? ''}" width="880">` : ''}
${problemNote('report.md', reportRead)}${problemNote('results.json', resultsRead)}
${report ? html`<h2>Report</h2><div class="report">${renderMarkdown(report.text, (src) => (art(src) ? artifactHref(run.id, src) : null))}</div>` : ''}
<h2>Artifacts</h2>
<table><thead><tr><th>name</th><th class="num">bytes</th><th>sha256</th></tr></thead><tbody>
${artifacts.map((a) => html`<tr><td><a href="${artifactHref(run.id, a.name)}" download>${a.name}</a></td><td class="num">${a.size}</td><td><code>${a.sha256}</code></td></tr>`)}
</tbody></table>
${results ? html`<h2>results.json</h2>${results.truncated ? html`<p class="muted">first ${INLINE_LIMIT} bytes; download the whole file above</p>` : ''}<pre>${pretty}</pre>` : ''}`,
    'Runs',
  );
}

// ---- Per query ----

async function queryTexts(ctx: PageContext, runId: string): Promise<Map<string, string> | null> {
  if (!ctx.texts.has(runId)) ctx.texts.set(runId, await queryTextsOf(((await resultsJson(ctx, runId)) as Partial<EvalResultsJson> | null)?.dataset));
  return ctx.texts.get(runId)!;
}

export async function queriesPage(ctx: PageContext, id: string, params: URLSearchParams): Promise<Html> {
  const run = await findRun(ctx, id);
  const artifacts = run.artifacts;
  const perQuery = artifacts.find((a) => a.name === 'per_query.jsonl');
  if (!perQuery) throw new NotFound(`per_query.jsonl of run ${id}`);
  const heading = html`<h1>Per query: run <a href="${runHref(run.id)}"><code>${run.id.slice(0, 8)}</code></a></h1>`;
  if (perQuery.size > PER_QUERY_LIMIT)
    return page(
      `Queries of ${run.id.slice(0, 8)}`,
      html`${heading}<p>per_query.jsonl is ${perQuery.size} bytes, more than the dashboard pages through (${PER_QUERY_LIMIT}); <a href="${artifactHref(run.id, 'per_query.jsonl')}" download>download it</a>.</p>`,
      'Runs',
    );
  const read = await ctx.registry.artifact(run.id, 'per_query.jsonl', { maxBytes: PER_QUERY_LIMIT });
  if (!read?.bytes)
    return page(`Queries of ${run.id.slice(0, 8)}`, html`${heading}<p class="warning">per_query.jsonl: ${read?.problem ?? 'missing'}</p>`, 'Runs');
  const table = perQueryTable(ctx, perQuery.sha256, read.bytes);
  const dims = run.dims ?? [];
  const metricNames = [...new Set(run.models.flatMap((m) => metricNamesOf(m.metrics)))];
  const dim = dims.includes(Number(params.get('dim'))) ? Number(params.get('dim')) : Math.min(...dims);
  const metric = metricNames.includes(params.get('metric') ?? '') ? params.get('metric')! : HEADLINE_METRIC;
  const key = metricKey(dim, metric);
  const order = params.get('sort') === 'gain' ? 'gain' : params.get('sort') === 'id' ? 'id' : 'loss';
  const baseColumn = table.base.get(key);
  const tunedColumn = table.tuned.get(key);
  const rows = table.ids.map((qid, q) => {
    const b = baseColumn?.[q] ?? Number.NaN;
    const t = tunedColumn?.[q] ?? Number.NaN;
    return { id: qid, b, t, change: t - b };
  });
  if (order === 'id') rows.sort((a, b) => a.id.localeCompare(b.id));
  else rows.sort((a, b) => (order === 'gain' ? b.change - a.change : a.change - b.change));
  const pageNo = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
  const shown = rows.slice((pageNo - 1) * PAGE_SIZE, pageNo * PAGE_SIZE);
  const texts = await queryTexts(ctx, run.id);
  const link = (p: number) => `${runHref(run.id)}/queries${query({ dim, metric, sort: order, page: p })}`;
  const queryLink = (qid: string) => `${runHref(run.id)}/queries${query({ dim, metric, sort: order, page: pageNo, query: qid })}#retrieved`;
  const detail = params.get('query') ? await retrievedPanel(ctx, run.id, params.get('query')!, dim, texts) : '';
  return page(
    `Queries of ${run.id.slice(0, 8)}`,
    html`${heading}
<form class="filters" method="get">
<label>dim<select name="dim">${dims.map((d) => html`<option${d === dim ? new Html(' selected') : ''}>${d}</option>`)}</select></label>
<label>metric<select name="metric">${metricNames.map((n) => html`<option${n === metric ? new Html(' selected') : ''}>${n}</option>`)}</select></label>
<label>sort<select name="sort">${['loss', 'gain', 'id'].map((s) => html`<option value="${s}"${s === order ? new Html(' selected') : ''}>${s === 'loss' ? 'lost most first' : s === 'gain' ? 'gained most first' : 'query id'}</option>`)}</select></label>
<button type="submit">show</button></form>
<p class="muted">${rows.length} queries; page ${pageNo} of ${Math.max(1, Math.ceil(rows.length / PAGE_SIZE))}${texts ? '' : '; query texts unavailable (the dataset is not where the run read it)'}</p>
${detail}
<table><thead><tr><th>query</th><th>text</th><th class="num">base</th><th class="num">tuned</th><th class="num">change</th></tr></thead><tbody>
${shown.map((r) => html`<tr><td><a href="${queryLink(r.id)}" title="what it retrieved">${r.id}</a></td><td>${texts?.get(r.id) ?? ''}</td><td class="num">${fmt(r.b, 3)}</td><td class="num">${fmt(r.t, 3)}</td><td class="num ${r.change > 0 ? 'better' : r.change < 0 ? 'worse' : ''}">${Number.isNaN(r.change) ? '–' : signed(r.change)}</td></tr>`)}
</tbody></table>
<p class="pager">${pageNo > 1 ? html`<a href="${link(pageNo - 1)}">← previous</a>` : ''}${pageNo * PAGE_SIZE < rows.length ? html`<a href="${link(pageNo + 1)}">next →</a>` : ''}</p>`,
    'Runs',
  );
}

/** One query's retrieved documents (retrieved.jsonl) per model at `dim`, the relevant ones marked, beside its relevant documents. */
async function retrievedPanel(ctx: PageContext, runId: string, qid: string, dim: number, texts: Map<string, string> | null): Promise<Html> {
  const a = await ctx.registry.artifact(runId, 'retrieved.jsonl', { maxBytes: PER_QUERY_LIMIT });
  const head = html`<h2 id="retrieved">Query ${qid}</h2>${texts?.get(qid) ? html`<p>${texts.get(qid)}</p>` : ''}`;
  if (!a) return html`${head}<p class="muted">this run kept no retrieved.jsonl (runs before it existed, or --retrieved-k 0)</p>`;
  if (!a.bytes) return html`${head}<p class="warning">retrieved.jsonl: ${a.problem}</p>`;
  const text = a.bytes.toString('utf8');
  const at = text.indexOf(`{"query_id":${JSON.stringify(qid)},`);
  if (at < 0) return html`${head}<p class="muted">not a scored query of this run</p>`;
  const row = JSON.parse(text.slice(at, text.indexOf('\n', at))) as Record<string, unknown> & { relevant: string[] };
  const relevant = new Set(row.relevant);
  const labels = Object.keys(row).filter((k) => k !== 'query_id' && k !== 'relevant');
  const lists = labels.map((label) => {
    const list = ((row[label] as Record<string, Array<[string, number]>>)[String(dim)] ?? []) as Array<[string, number]>;
    return html`<div class="card"><h3>${label} at dim ${dim}</h3><ol>${list.map(([doc, score]) => html`<li class="${relevant.has(doc) ? 'better' : ''}">${relevant.has(doc) ? '✓ ' : ''}<code>${doc}</code> <span class="muted">${score.toFixed(4)}</span></li>`)}</ol></div>`;
  });
  return html`${head}<div class="cards"><div class="card"><h3>relevant</h3><ul>${row.relevant.map((d) => html`<li><code>${d}</code></li>`)}</ul></div>${lists}</div>`;
}

// ---- Compare ----

interface Side {
  name: string;
  version: number;
  metrics: Record<string, number>;
  run: ShownRun | null;
}

async function side(ctx: PageContext, spec: string | null): Promise<Side | null> {
  if (!spec) return null;
  const at = spec.lastIndexOf('@');
  const name = at > 0 ? spec.slice(0, at) : spec;
  let m: ShownModel;
  try {
    m = await ctx.registry.showModel(name);
  } catch {
    throw new NotFound(`model ${name}`);
  }
  const version = at > 0 ? Number(spec.slice(at + 1)) : m.versions[m.versions.length - 1]?.version;
  const v = m.versions.find((x) => x.version === version);
  if (!v) throw new NotFound(`${name} version ${version}`);
  return { name, version, metrics: v.latestMetrics, run: v.latestRun ? await ctx.registry.showRun(v.latestRun) : null };
}

/** Flattens nested settings into dotted keys, for a side-by-side "what differs" table. */
function flatten(value: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out[prefix] = typeof value === 'string' ? value : JSON.stringify(value);
  return out;
}

function settings(run: Side['run']): Record<string, string> {
  if (!run) return {};
  return flatten({
    dataset: { name: run.datasetName, fingerprint: run.datasetFingerprint, counts: run.datasetCounts },
    dims: run.dims,
    k_lists: run.kLists,
    command: run.command,
    software: run.software,
    hardware: run.hardware,
  });
}

export async function comparePage(ctx: PageContext, params: URLSearchParams): Promise<Html> {
  let a = params.get('a');
  let b = params.get('b');
  const runId = params.get('run');
  let sameRun: ShownRun | null = null;
  if (runId) {
    sameRun = await findRun(ctx, runId);
    const base = sameRun.models.find((m) => m.role === 'base');
    const tuned = sameRun.models.find((m) => m.role === 'tuned');
    if (!base || !tuned) throw new NotFound(`run ${runId} has no base and tuned model`);
    a = `${base.name}@${base.version}`;
    b = `${tuned.name}@${tuned.version}`;
  }
  const versions = await ctx.registry.listVersions();
  const pick = (name: string, current: string | null) =>
    html`<label>${name === 'a' ? 'base' : 'compared'}<select name="${name}"><option value="">choose</option>${versions.map((v) => html`<option${v === current ? new Html(' selected') : ''}>${v}</option>`)}</select></label>`;
  // a run's own base and tuned: its metrics, not each version's latest run
  const ofRun = (role: string): Side | null => {
    const m = sameRun?.models.find((x) => x.role === role);
    return m && sameRun ? { name: m.name, version: m.version, metrics: m.metrics, run: sameRun } : null;
  };
  const left = sameRun ? ofRun('base') : await side(ctx, a);
  const right = sameRun ? ofRun('tuned') : await side(ctx, b);
  const chooser = html`<form class="filters" method="get">${pick('a', a)}${pick('b', b)}<button type="submit">compare</button></form>`;
  if (!left || !right)
    return page(
      'Compare',
      html`<h1>Compare two versions</h1>${chooser}<p class="muted">Choose two model versions, or open a run's comparison from its page.</p>`,
      'Compare',
    );
  const names = metricNamesOf(left.metrics).filter((n) => metricNamesOf(right.metrics).includes(n));
  const metric = names.includes(params.get('metric') ?? '')
    ? params.get('metric')!
    : names.includes(HEADLINE_METRIC)
      ? HEADLINE_METRIC
      : (names[0] ?? HEADLINE_METRIC);
  const dims = [...byDim(left.metrics, metric).keys()].filter((d) => byDim(right.metrics, metric).has(d)).sort((x, y) => y - x);
  // intervals and tests exist when both sides come from one compare run (its results.json)
  let differences: Record<string, { ci_low: number; ci_high: number; p_holm: number; significant: boolean }> = {};
  const pairRun = sameRun ?? (left.run && right.run && left.run.id === right.run.id ? left.run : null);
  let testsFrom = pairRun ? 'from the compare run' : '';
  if (pairRun) differences = ((await resultsJson(ctx, pairRun.id)) as { differences?: typeof differences } | null)?.differences ?? {};
  else if (left.run && right.run && left.run.datasetFingerprint === right.run.datasetFingerprint) {
    // two runs on the same data: the paired tests from the per-query values each run stored
    const roleOf = (x: Side) => x.run!.models.find((m) => m.name === x.name && m.version === x.version)?.role;
    const [ra, rb] = [roleOf(left), roleOf(right)];
    const r = ra && rb ? await storedDifferences(ctx.registry, { run: left.run.id, role: ra }, { run: right.run.id, role: rb }) : { problem: 'no role' };
    if ('differences' in r) {
      differences = Object.fromEntries(
        Object.entries(r.differences).map(([k, d]) => [k, { ci_low: d.ciLow, ci_high: d.ciHigh, p_holm: d.pHolm, significant: d.significant }]),
      );
      testsFrom = "from the two runs' stored per-query values";
    } else testsFrom = `no tests: ${r.problem}`;
  }
  const sa = settings(left.run);
  const sb = settings(right.run);
  const showAll = params.get('settings') === 'all';
  const keys = [...new Set([...Object.keys(sa), ...Object.keys(sb)])].filter((k) => showAll || sa[k] !== sb[k]).sort();
  const differentData = left.run && right.run && left.run.datasetFingerprint !== right.run.datasetFingerprint;
  const la = `${left.name} v${left.version}`;
  const lb = `${right.name} v${right.version}`;
  const series = [
    { label: la, color: COLORS.base, points: dims.map((d) => ({ x: d, y: byDim(left.metrics, metric).get(d)! })) },
    { label: lb, color: COLORS.tuned, points: dims.map((d) => ({ x: d, y: byDim(right.metrics, metric).get(d)! })) },
  ];
  const diffSeries = [
    {
      label: `${lb} − ${la}`,
      color: COLORS.diff,
      points: dims.map((d) => {
        const k = metricKey(d, metric);
        const diff = right.metrics[k] - left.metrics[k];
        return differences[k] ? { x: d, y: diff, low: differences[k].ci_low, high: differences[k].ci_high } : { x: d, y: diff };
      }),
    },
  ];
  const verdict = (k: string) => {
    const d = differences[k];
    if (!d) return html`<span class="muted">–</span>`;
    return d.significant
      ? html`<span class="${right.metrics[k] > left.metrics[k] ? 'better' : 'worse'}">${right.metrics[k] > left.metrics[k] ? 'better' : 'worse'}</span>`
      : 'no significant change';
  };
  const here = { a, b, metric };
  return page(
    'Compare',
    html`<h1>${la} vs ${lb}</h1>
${chooser}
${differentData ? html`<p class="warning">The two evaluations used different datasets (fingerprints ${String(left.run!.datasetFingerprint).slice(0, 12)} and ${String(right.run!.datasetFingerprint).slice(0, 12)}): their numbers are not comparable.</p>` : ''}
<form class="filters" method="get"><input type="hidden" name="a" value="${a}"><input type="hidden" name="b" value="${b}">${runId ? html`<input type="hidden" name="run" value="${runId}">` : ''}
<label>metric<select name="metric">${names.map((n) => html`<option${n === metric ? new Html(' selected') : ''}>${n}</option>`)}</select></label><button type="submit">show</button></form>
<h2>The Matryoshka curve: ${metric}</h2>
${lineChart(series, { yLabel: metric })}
<h2>Difference, with its 95% interval${testsFrom ? ` (${testsFrom})` : ''}</h2>
${lineChart(diffSeries, { yLabel: `Δ ${metric}`, zero: true, height: 220 })}
<h2>Every metric by dim</h2>
<table><thead><tr><th>metric</th><th class="num">dim</th><th class="num">${la}</th><th class="num">${lb}</th><th class="num">difference</th><th>95% CI</th><th class="num">p (Holm)</th><th>verdict</th></tr></thead><tbody>
${names.flatMap((n) =>
  dims.map((d) => {
    const k = metricKey(d, n);
    const diff = differences[k];
    return html`<tr><td>${n}</td><td class="num">${d}</td><td class="num">${fmt(left.metrics[k])}</td><td class="num">${fmt(right.metrics[k])}</td><td class="num">${signed(right.metrics[k] - left.metrics[k])}</td>
<td>${diff ? `[${signed(diff.ci_low)}, ${signed(diff.ci_high)}]` : '–'}</td><td class="num">${diff ? (diff.p_holm < 0.001 ? '<0.001' : diff.p_holm.toFixed(3)) : '–'}</td><td>${verdict(k)}</td></tr>`;
  }),
)}
</tbody></table>
<h2>Settings ${showAll ? '' : '(only what differs)'}</h2>
<p><a href="/compare${query({ ...here, run: runId, settings: showAll ? undefined : 'all' })}">${showAll ? 'only what differs' : 'show all settings'}</a></p>
${keys.length ? html`<table><thead><tr><th>setting</th><th>${la}</th><th>${lb}</th></tr></thead><tbody>${keys.map((k) => html`<tr><td>${k}</td><td><code>${sa[k] ?? '–'}</code></td><td><code>${sb[k] ?? '–'}</code></td></tr>`)}</tbody></table>` : html`<p class="muted">the two runs' settings are the same${pairRun ? ' (one run)' : ''}</p>`}`,
    'Compare',
  );
}

// ---- Suites ----

/** A suite (tag `suite` on its datasets' runs): one table and one chart of datasets by dims, from the runs' stored per-query values. */
export async function suitePage(ctx: PageContext, id: string, params: URLSearchParams): Promise<Html> {
  const s = await storedSuite(ctx.registry, id, params.get('metric') ?? undefined);
  if (!s) throw new NotFound(`suite ${id}`);
  const compare = s.command === 'compare';
  const isMean = (label: string) => !s.members.some((m) => m.name === label);
  const key = (label: string, dim: number) => suiteKey(label, dim, s.metric);
  const runOf = (label: string) => s.runs[s.members.findIndex((m) => m.name === label)];
  const verdict = (label: string, dim: number) => {
    const d = s.differences[key(label, dim)];
    return !d ? '' : !d.significant ? 'no significant difference' : d.diff > 0 ? 'better' : 'worse';
  };
  const series: Series[] = s.labels.map((label, i) => ({
    label,
    color: DIM_COLORS[i % DIM_COLORS.length],
    dashed: isMean(label),
    points: s.dims.map((dim) => {
      const d = s.differences[key(label, dim)];
      return compare && d
        ? { x: dim, y: d.diff * 100, low: d.ciLow * 100, high: d.ciHigh * 100 }
        : { x: dim, y: (s.values.model?.[key(label, dim)] ?? Number.NaN) * 100 };
    }),
  }));
  const worse = compare ? s.labels.flatMap((label) => s.dims.flatMap((dim) => (verdict(label, dim) === 'worse' ? [`${label} at dim ${dim}`] : []))) : [];
  const rows = s.labels.flatMap((label) =>
    s.dims.map((dim) => {
      const k = key(label, dim);
      const d = s.differences[k];
      const name = isMean(label) ? html`<strong>${label}</strong>` : html`<a href="${runHref(runOf(label).id)}">${label}</a>`;
      return compare && d
        ? html`<tr><td>${name}</td><td class="num">${dim}</td><td class="num">${fmt(s.values.base[k])}</td><td class="num">${fmt(s.values.tuned[k])}</td><td class="num ${d.significant ? (d.diff > 0 ? 'better' : 'worse') : ''}">${signed(d.diff)}</td><td class="num">[${signed(d.ciLow)}, ${signed(d.ciHigh)}]</td><td class="num">${fmt(d.pHolm, 3)}</td><td>${verdict(label, dim)}</td></tr>`
        : html`<tr><td>${name}</td><td class="num">${dim}</td><td class="num">${fmt(s.values.model?.[k])}</td></tr>`;
    }),
  );
  return page(
    `Suite ${id.slice(0, 8)}`,
    html`<h1>Suite <code>${id.slice(0, 8)}</code>: ${s.command} on ${s.members.length} datasets</h1>
<p class="muted">${s.runs[0].models ?? ''} · <a href="/runs${query({ tag: `suite=${id}` })}">its runs</a></p>
${s.problems.length ? html`<p class="warning">${s.problems.join('; ')}</p>` : ''}
<form class="filters" method="get"><label>metric<select name="metric">${s.names.map((n) => html`<option${n === s.metric ? new Html(' selected') : ''}>${n}</option>`)}</select></label><button type="submit">show</button></form>
${compare ? html`<p>${worse.length ? html`<span class="worse">Worse, significantly: ${worse.join(', ')}</span>` : 'Nowhere significantly worse on this metric.'}</p>` : ''}
${s.problems.length ? '' : lineChart(series, { yLabel: compare ? `${s.metric} difference x 100` : `${s.metric} x 100`, zero: compare })}
<table><thead><tr><th>dataset</th><th class="num">dim</th>${compare ? html`<th class="num">base</th><th class="num">tuned</th><th class="num">difference</th><th class="num">95% CI</th><th class="num">p (Holm)</th><th>verdict</th>` : html`<th class="num">${s.metric}</th>`}</tr></thead><tbody>
${rows}
</tbody></table>
<p class="muted">Means are plain means over datasets (NanoBEIR_mean over NanoBEIR's, mean over all); a mean's test resamples and flips queries within their datasets, so each dataset counts once. Holm across every dataset and mean at every dim, per metric. Computed from the per-query values each run stored, as the suite run computed them.</p>`,
    'Runs',
  );
}
