// Several runs' models side by side, from what the registry keeps: their metrics per dataset,
// and paired tests against a reference computed from the per-query values each run stored
// (per_query.jsonl, kept as its bytes): the same intervals and p-values a compare of the same two
// models on the same data gives, with the same seed.
import { UserError } from '../errors.js';
import { metricKey, parseMetricKey, sortMetricNames } from '../metrics/index.js';
import { compareMetrics, DEFAULT_STATS, type Difference, holm, type StatsOptions } from '../stats/index.js';
import { distinctNames, type SuiteDifference, type SuiteMember, suiteDifferences, suiteLabels, suiteMetrics } from '../suite.js';
import type { ListedRun, Registry } from './registry.js';

/** One model of one run: `run` an id or prefix, `role` its role in the run (default: its only model, else `tuned`). */
export interface SelectionItem {
  run: string;
  role?: string;
}

export interface StoredPerQuery {
  ids: string[];
  /** Metric key -> one value per query (in `ids` order). */
  values: Record<string, Float64Array>;
}

/** A run's stored per-query values for one of its models (per_query.jsonl's column of that role), or why there are none. */
export async function storedPerQuery(registry: Registry, runId: string, role: string): Promise<StoredPerQuery | { problem: string }> {
  const a = await registry.artifact(runId, 'per_query.jsonl');
  if (!a) return { problem: `run ${runId.slice(0, 8)} stored no per-query values` };
  if (!a.bytes) return { problem: `run ${runId.slice(0, 8)}'s per_query.jsonl: ${a.problem}` };
  const lines = a.bytes.toString('utf8').split('\n').filter(Boolean);
  const ids: string[] = [];
  const values: Record<string, Float64Array> = {};
  for (const [q, line] of lines.entries()) {
    const row = JSON.parse(line) as Record<string, unknown>;
    ids.push(String(row.query_id));
    const side = row[role] as Record<string, number> | undefined;
    if (!side) return { problem: `run ${runId.slice(0, 8)}'s per_query.jsonl has no values for ${role}` };
    for (const [key, v] of Object.entries(side)) (values[key] ??= new Float64Array(lines.length).fill(Number.NaN))[q] = v;
  }
  return { ids, values };
}

/** `b` reordered to `a`'s query order; null when the two scored different queries. */
function aligned(a: StoredPerQuery, b: StoredPerQuery): StoredPerQuery | null {
  if (a.ids.length !== b.ids.length) return null;
  const at = new Map(b.ids.map((id, i) => [id, i]));
  const order = a.ids.map((id) => at.get(id));
  if (order.some((i) => i === undefined)) return null;
  const values: Record<string, Float64Array> = {};
  for (const [key, col] of Object.entries(b.values)) values[key] = Float64Array.from(order, (i) => col[i!]);
  return { ids: a.ids, values };
}

/**
 * Paired tests of `b` against `a` (tuned = b, base = a) at every dim and metric both stored, Holm
 * across dims per metric as compare does, from the runs' stored per-query values; or why not
 * (a different dataset, no stored values, other queries).
 */
export async function storedDifferences(
  registry: Registry,
  a: { run: string; role: string },
  b: { run: string; role: string },
  options: { stats?: StatsOptions; signal?: AbortSignal; metrics?: string[] } = {},
): Promise<{ differences: Record<string, Difference> } | { problem: string }> {
  const [ra, rb] = [await registry.showRun(a.run), await registry.showRun(b.run)];
  if (ra.datasetFingerprint !== rb.datasetFingerprint) return { problem: 'the two runs read different datasets' };
  const pa = await storedPerQuery(registry, ra.id, a.role);
  if ('problem' in pa) return pa;
  const pb = await storedPerQuery(registry, rb.id, b.role);
  if ('problem' in pb) return pb;
  const bb = aligned(pa, pb);
  if (!bb) return { problem: 'the two runs scored different queries' };
  const keys = Object.keys(pa.values).filter((k) => k in bb.values);
  const parsed = keys.map((k) => parseMetricKey(k)!).filter(Boolean);
  const dims = [...new Set(parsed.map((p) => p.dim))].sort((x, y) => y - x);
  const names = sortMetricNames([...new Set(parsed.map((p) => p.name))]).filter(
    (n) => dims.every((d) => keys.includes(metricKey(d, n))) && (!options.metrics || options.metrics.includes(n)),
  );
  return { differences: await compareMetrics(dims, names, pa.values, bb.values, { ...DEFAULT_STATS, ...options.stats }, options.signal) };
}

export interface SelectionRow {
  /** `name vVERSION (role, run 1a2b3c4d)`. */
  label: string;
  run: string;
  role: string;
  model: string;
  version: number;
  /** `metric` at each dim the run measured. */
  values: Record<number, number>;
  /** Against the group's reference at each dim (Holm across the whole selection); null for the reference. */
  tests: Record<number, Difference> | null;
  /** Why there are no tests, when there are none. */
  problem?: string;
}

export interface SelectionGroup {
  dataset: string | null;
  fingerprint: string | null;
  reference: string;
  dims: number[];
  rows: SelectionRow[];
}

/**
 * Several runs' models on one table per dataset: `metric` at every dim, and each against its
 * dataset's reference (the one given, else the group's first) from stored per-query values, Holm
 * across every test of the selection.
 */
export async function compareSelection(
  registry: Registry,
  items: SelectionItem[],
  o: { metric: string; reference?: number; stats?: StatsOptions; signal?: AbortSignal },
): Promise<{ metric: string; groups: SelectionGroup[]; correction: string }> {
  if (items.length < 2) throw new UserError('runs: give at least two runs to compare', 'ERR_OPTION', 'runs');
  const picked = [];
  for (const item of items) {
    const run = await registry.showRun(item.run);
    const model = item.role
      ? run.models.find((m) => m.role === item.role)
      : run.models.length === 1
        ? run.models[0]
        : run.models.find((m) => m.role === 'tuned');
    if (!model)
      throw new UserError(
        `run ${run.id.slice(0, 8)} has no model ${item.role ? `in role "${item.role}"` : 'to pick'} (roles: ${run.models.map((m) => m.role).join(', ') || 'none'}); give RUN:ROLE`,
        'ERR_OPTION',
        'runs',
      );
    picked.push({ run, model });
  }
  const groups = new Map<string, typeof picked>();
  for (const p of picked) {
    const key = p.run.datasetFingerprint ?? '';
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  const reference = o.reference !== undefined ? picked[o.reference] : undefined;
  const out: SelectionGroup[] = [];
  const tests: Array<{ row: SelectionRow; dim: number; d: Difference }> = [];
  for (const members of groups.values()) {
    const ref = reference && members.includes(reference) ? reference : members[0];
    const dims = [
      ...new Set(
        members
          .flatMap((m) => Object.keys(m.model.metrics).map((k) => parseMetricKey(k)!))
          .filter((p) => p.name === o.metric)
          .map((p) => p.dim),
      ),
    ].sort((a, b) => b - a);
    const rows: SelectionRow[] = [];
    for (const m of members) {
      const row: SelectionRow = {
        label: `${m.model.name} v${m.model.version} (${m.model.role}, run ${m.run.id.slice(0, 8)})`,
        run: m.run.id,
        role: m.model.role,
        model: m.model.name,
        version: m.model.version,
        values: Object.fromEntries(dims.flatMap((d) => (metricKey(d, o.metric) in m.model.metrics ? [[d, m.model.metrics[metricKey(d, o.metric)]]] : []))),
        tests: null,
      };
      if (m !== ref) {
        const r = await storedDifferences(
          registry,
          { run: ref.run.id, role: ref.model.role },
          { run: m.run.id, role: m.model.role },
          { ...o, metrics: [o.metric] },
        );
        if ('problem' in r) row.problem = r.problem;
        else {
          row.tests = {};
          for (const d of dims) {
            const diff = r.differences[metricKey(d, o.metric)];
            if (diff) {
              row.tests[d] = diff;
              tests.push({ row, dim: d, d: diff });
            }
          }
        }
      }
      rows.push(row);
    }
    out.push({ dataset: ref.run.datasetName, fingerprint: ref.run.datasetFingerprint, reference: rows[members.indexOf(ref)].label, dims, rows });
  }
  const alpha = o.stats?.alpha ?? DEFAULT_STATS.alpha;
  const adjusted = holm(tests.map((t) => t.d.pValue));
  tests.forEach((t, i) => (t.row.tests![t.dim] = { ...t.d, pHolm: adjusted[i], significant: adjusted[i] < alpha }));
  return { metric: o.metric, groups: out, correction: `Holm across all ${tests.length} tests of the selection` };
}

/** A suite as the registry holds it: its datasets' runs (tag `suite`), and its numbers for one metric from their stored per-query values. */
export interface StoredSuite {
  id: string;
  command: string;
  runs: ListedRun[];
  members: SuiteMember[];
  /** The table's rows: each dataset, then each mean. */
  labels: string[];
  dims: number[];
  metric: string;
  /** The metrics the runs stored. */
  names: string[];
  /** Suite keys -> value, per role (`model` for eval; `base` and `tuned` for compare). */
  values: Record<string, Record<string, number>>;
  /** compare: the suite's tests of `metric` (Holm across its datasets and means at every dim). */
  differences: Record<string, SuiteDifference>;
  /** Why a dataset's values could not be read (then the suite's numbers are not shown). */
  problems: string[];
}

/**
 * The suite `id` from its runs' stored per-query values: the same keys, means and tests the suite
 * run wrote (same queries, same seed). null when no run carries the id.
 */
export async function storedSuite(registry: Registry, id: string, asked?: string, stats: StatsOptions = {}): Promise<StoredSuite | null> {
  const runs = (await registry.listRuns(10_000, { tag: `suite=${id}` })).sort((a, b) => Number(a.tags.suite_index) - Number(b.tags.suite_index));
  if (runs.length === 0) return null;
  const command = runs[0].command;
  const roles = command === 'compare' ? ['base', 'tuned'] : ['model'];
  const members: SuiteMember[] = runs.map((r) => ({ name: r.datasetName ?? r.id.slice(0, 8), nanoBeir: r.tags.suite_nanobeir === '1' }));
  distinctNames(members);
  const dims = runs[0].dims ?? [];
  const problems: string[] = [];
  const perQuery: Array<Record<string, Record<string, Float64Array>>> = [];
  for (const run of runs) {
    const sides: Record<string, Record<string, Float64Array>> = {};
    for (const role of roles) {
      const stored = await storedPerQuery(registry, run.id, role);
      if ('problem' in stored) problems.push(stored.problem);
      else sides[role] = stored.values;
    }
    perQuery.push(sides);
  }
  const stored = perQuery.flatMap((p) => Object.values(p).flatMap((v) => Object.keys(v)));
  const names = sortMetricNames(stored.flatMap((k) => parseMetricKey(k)?.name ?? []));
  // the asked metric, else the conventions' headline, else the first
  const metric = [asked, 'ndcg@10', 'ndcg_at_10'].find((m) => m !== undefined && names.includes(m)) ?? names[0] ?? asked ?? 'ndcg@10';
  const base = { id, command, runs, members, labels: suiteLabels(members), dims, metric, names, values: {}, differences: {}, problems };
  if (problems.length) return base;
  const mean = (x: Float64Array | undefined) => (x?.length ? x.reduce((s, v) => s + v, 0) / x.length : Number.NaN);
  const values = Object.fromEntries(
    roles.map((role) => [
      role,
      suiteMetrics(
        members,
        perQuery.map((p) => Object.fromEntries(dims.map((d) => [metricKey(d, metric), mean(p[role][metricKey(d, metric)])]))),
        dims,
        [metric],
      ),
    ]),
  );
  const differences =
    command === 'compare'
      ? suiteDifferences(
          members,
          perQuery.map((p) => ({ base: p.base, tuned: p.tuned })),
          dims,
          [metric],
          stats,
        )
      : {};
  return { ...base, values, differences };
}
