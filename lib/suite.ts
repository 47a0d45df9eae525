// A suite's numbers from its datasets' results, one place for the run (lib/runs/suite.ts) and for
// the dashboard (from the per-query values each dataset's run stored): the keys
// sentence-transformers' NanoBEIREvaluator writes with truncate_dim (read at
// UKPLab/sentence-transformers 85ec645), the plain means over datasets, and compare's tests of
// each difference, per dataset and on each mean, Holm across every test of a metric.
import { metricKey } from './metrics/index.js';
import { DEFAULT_STATS, type Difference, groupedMeanTest, holm, pairedBootstrapCI, pairedRandomizationTest, type StatsOptions } from './stats/index.js';

/** A dataset of a suite as its keys need it: its name, and whether it is one of NanoBEIR's. */
export interface SuiteMember {
  name: string;
  nanoBeir: boolean;
}

/** A suite difference: Difference without the two values (the suite's base and tuned metrics hold them). */
export type SuiteDifference = Omit<Difference, 'base' | 'tuned'>;

/** A dataset's name in the suite's keys: letters, digits, `.`, `-` (others become `_`). */
const keyName = (name: string) => name.replace(/[^A-Za-z0-9.-]/g, '_');

/** A suite key, as NanoBEIREvaluator with truncate_dim writes it: `NanoSciFact_256_cosine_ndcg@10`, `NanoBEIR_mean_256_cosine_ndcg@10`. */
export const suiteKey = (dataset: string, dim: number, metric: string) => `${keyName(dataset)}_${dim}_cosine_${metric}`;

/**
 * Members whose names would give the same keys (the same dataset from two places, or names equal
 * once sanitized) told apart by their place in the suite: `scifact-1`, `scifact-3`. In place.
 */
export function distinctNames(members: SuiteMember[]): void {
  const keys = members.map((d) => keyName(d.name));
  members.forEach((d, i) => {
    if (keys.indexOf(keys[i]) !== keys.lastIndexOf(keys[i])) d.name = `${d.name}-${i + 1}`;
  });
}

/** The means a suite reports: over NanoBEIR's members as `NanoBEIR_mean`, over all as `mean` when there are others. */
export function meanGroups(members: SuiteMember[]): Array<{ label: string; members: number[] }> {
  const nano = members.flatMap((d, i) => (d.nanoBeir ? [i] : []));
  const groups: Array<{ label: string; members: number[] }> = [];
  if (nano.length) groups.push({ label: 'NanoBEIR_mean', members: nano });
  if (nano.length < members.length) groups.push({ label: 'mean', members: members.map((_, i) => i) });
  return groups;
}

/** The rows of a suite's table: each dataset, then each mean. */
export const suiteLabels = (members: SuiteMember[]) => [...members.map((d) => d.name), ...meanGroups(members).map((g) => g.label)];

/** Per-dataset and mean metrics in the suite's keys, from each dataset's `dim_<d>_cosine_<m>` metrics. */
export function suiteMetrics(members: SuiteMember[], metrics: Array<Record<string, number>>, dims: number[], names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  members.forEach((d, i) => {
    for (const dim of dims) for (const n of names) out[suiteKey(d.name, dim, n)] = metrics[i][metricKey(dim, n)];
  });
  for (const g of meanGroups(members))
    for (const dim of dims)
      for (const n of names) out[suiteKey(g.label, dim, n)] = g.members.reduce((s, i) => s + metrics[i][metricKey(dim, n)], 0) / g.members.length;
  return out;
}

/**
 * The tests of a compare over a suite, from each dataset's per-query values (`base` and `tuned`,
 * keyed `dim_<d>_cosine_<m>`, the same queries in the same order): per dataset the paired
 * bootstrap and randomization test its own compare makes (same seed, same numbers), per mean the
 * grouped test (groupedMeanTest), Holm across all of a metric's tests. `known`: each dataset's
 * tests as its compare already made them (keyed `dim_<d>_cosine_<m>`), used instead of making
 * them again.
 */
export function suiteDifferences(
  members: SuiteMember[],
  perQuery: Array<{ base: Record<string, ArrayLike<number>>; tuned: Record<string, ArrayLike<number>> }>,
  dims: number[],
  names: string[],
  options: StatsOptions = {},
  known?: Array<Record<string, Omit<SuiteDifference, 'pHolm' | 'significant'>>>,
): Record<string, SuiteDifference> {
  const stats = { ...DEFAULT_STATS, ...options };
  const out: Record<string, SuiteDifference> = {};
  for (const name of names) {
    const tests: Array<{ key: string; diff: number; ciLow: number; ciHigh: number; pValue: number }> = [];
    for (const dim of dims) {
      const k = metricKey(dim, name);
      const diffs = perQuery.map((p) => Float64Array.from(p.tuned[k], (v, q) => v - p.base[k][q]));
      diffs.forEach((d, i) => {
        const own = known?.[i]?.[k];
        if (own) {
          tests.push({ key: suiteKey(members[i].name, dim, name), diff: own.diff, ciLow: own.ciLow, ciHigh: own.ciHigh, pValue: own.pValue });
          return;
        }
        const [ciLow, ciHigh] = pairedBootstrapCI(d, { samples: stats.samples, seed: stats.seed });
        const diff = d.reduce((s, v) => s + v, 0) / (d.length || 1);
        tests.push({
          key: suiteKey(members[i].name, dim, name),
          diff,
          ciLow,
          ciHigh,
          pValue: pairedRandomizationTest(d, { permutations: stats.permutations, seed: stats.seed }),
        });
      });
      for (const g of meanGroups(members))
        tests.push({
          key: suiteKey(g.label, dim, name),
          ...groupedMeanTest(
            g.members.map((i) => diffs[i]),
            stats,
          ),
        });
    }
    const adjusted = holm(tests.map((t) => t.pValue));
    tests.forEach((t, i) => {
      out[t.key] = { diff: t.diff, ciLow: t.ciLow, ciHigh: t.ciHigh, pValue: t.pValue, pHolm: adjusted[i], significant: adjusted[i] < stats.alpha };
    });
  }
  return out;
}
