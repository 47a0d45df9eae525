// Is a per-query difference real? Paired bootstrap intervals, paired randomization (sign-flip)
// tests, and Holm's correction; seeded, so a rerun gives the same numbers.
import { checkAborted } from '../errors.js';
import { metricKey, splitQualified } from '../metrics/keys.js';
import { seededRandom } from '../random.js';

function mean(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return x.length ? s / x.length : 0;
}

function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

// Each test is a generator that yields between chunks of about CHUNK_OPS additions: the
// synchronous functions run it straight through, compareMetrics yields to the event loop at
// each pause (so SIGINT is seen) with the same random stream, hence the same numbers.
const CHUNK_OPS = 2_000_000;

function run<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

function* bootstrapSteps(diffs: ArrayLike<number>, samples: number, seed: number, level: number): Generator<void, [number, number]> {
  const n = diffs.length;
  if (n === 0) return [0, 0];
  const rand = seededRandom(seed);
  const means = new Float64Array(samples);
  const perChunk = Math.max(1, Math.floor(CHUNK_OPS / n));
  for (let b = 0; b < samples; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += diffs[Math.floor(rand() * n)];
    means[b] = s / n;
    if ((b + 1) % perChunk === 0) yield;
  }
  means.sort();
  return [quantile(means, (1 - level) / 2), quantile(means, 1 - (1 - level) / 2)];
}

function* randomizationSteps(diffs: ArrayLike<number>, permutations: number, seed: number): Generator<void, number> {
  const n = diffs.length;
  if (n === 0) return 1;
  const observed = Math.abs(mean(diffs));
  const tol = 1e-12 * Math.max(1, observed);
  if (n <= 16) {
    let hits = 0;
    for (let mask = 0; mask < 1 << n; mask++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += mask & (1 << i) ? -diffs[i] : diffs[i];
      if (Math.abs(s / n) >= observed - tol) hits++;
    }
    return hits / (1 << n);
  }
  const rand = seededRandom(seed);
  const perChunk = Math.max(1, Math.floor(CHUNK_OPS / n));
  let hits = 0;
  for (let p = 0; p < permutations; p++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += rand() < 0.5 ? -diffs[i] : diffs[i];
    if (Math.abs(s / n) >= observed - tol) hits++;
    if ((p + 1) % perChunk === 0) yield;
  }
  return (hits + 1) / (permutations + 1);
}

/** Percentile interval of the mean paired difference over `samples` bootstrap resamples of queries. */
export function pairedBootstrapCI(diffs: ArrayLike<number>, { samples = 10000, seed = 0, level = 0.95 } = {}): [number, number] {
  return run(bootstrapSteps(diffs, samples, seed, level));
}

/** Two-sided p-value of the paired randomization test: exact over all 2^n sign flips when
 * n <= 16, else over `permutations` seeded random flips (p = (hits + 1) / (permutations + 1)). */
export function pairedRandomizationTest(diffs: ArrayLike<number>, { permutations = 10000, seed = 0 } = {}): number {
  return run(randomizationSteps(diffs, permutations, seed));
}

/** Holm-Bonferroni adjusted p-values, in the input order. */
export function holm(pValues: number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

export interface Difference {
  base: number;
  tuned: number;
  diff: number;
  ciLow: number;
  ciHigh: number;
  pValue: number;
  pHolm: number;
  significant: boolean;
}

export interface StatsOptions {
  /** Bootstrap resamples. */
  samples?: number;
  /** Random sign flips of the randomization test (exact enumeration up to 16 queries). */
  permutations?: number;
  seed?: number;
  alpha?: number;
}

export const DEFAULT_STATS: Required<StatsOptions> = { samples: 10000, permutations: 10000, seed: 0, alpha: 0.05 };

export const STATS_METHODS = {
  interval: (o: Required<StatsOptions>) => `${o.samples}-sample paired bootstrap, 95% percentile interval`,
  test: 'paired randomization (sign-flip) test, two-sided',
  correction: 'Holm across dims, per metric',
};

/** Runs the steps, yielding to the event loop at each pause so a pending SIGINT/SIGTERM
 * handler runs, and stops with InterruptedError once the signal has fired. */
async function runAsync<T>(steps: Generator<void, T>, signal?: AbortSignal): Promise<T> {
  for (;;) {
    checkAborted(signal);
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * For each metric name, the difference (tuned - base) at every dim, Holm-corrected across the
 * dims; a quantized precision's names (`int8:ndcg@10`) are corrected with their metric's, across
 * every (dim, precision). Stops with InterruptedError between tests once `signal` fires.
 */
export async function compareMetrics(
  dims: number[],
  names: string[],
  base: Record<string, Float64Array>,
  tuned: Record<string, Float64Array>,
  options: StatsOptions = {},
  signal?: AbortSignal,
): Promise<Record<string, Difference>> {
  const pairs = names.flatMap((name) => dims.map((dim) => ({ key: metricKey(dim, name), family: splitQualified(name).metric })));
  return pairedTests(
    pairs.map((p) => ({ ...p, a: base[p.key], b: tuned[p.key] })),
    options,
    signal,
  );
}

/**
 * Paired tests of b - a for each entry (bootstrap interval, sign-flip p-value), Holm-corrected
 * within each family, in the entries' order.
 */
export async function pairedTests(
  entries: Array<{ key: string; family: string; a: Float64Array; b: Float64Array }>,
  options: StatsOptions = {},
  signal?: AbortSignal,
): Promise<Record<string, Difference>> {
  const { samples, permutations, seed, alpha } = { ...DEFAULT_STATS, ...options };
  const rows = [];
  for (const { key, family, a, b } of entries) {
    const diffs = Float64Array.from(b, (v, i) => v - a[i]);
    const [lo, hi] = await runAsync(bootstrapSteps(diffs, samples, seed, 0.95), signal);
    const p = await runAsync(randomizationSteps(diffs, permutations, seed), signal);
    rows.push({ key, family, b: mean(a), t: mean(b), d: mean(diffs), lo, hi, p });
  }
  const out: Record<string, Difference> = {};
  for (const family of new Set(rows.map((r) => r.family))) {
    const members = rows.filter((r) => r.family === family);
    const adjusted = holm(members.map((r) => r.p));
    members.forEach((r, i) => {
      out[r.key] = { base: r.b, tuned: r.t, diff: r.d, ciLow: r.lo, ciHigh: r.hi, pValue: r.p, pHolm: adjusted[i], significant: adjusted[i] < alpha };
    });
  }
  // the entries' order
  return Object.fromEntries(entries.map((e) => [e.key, out[e.key]]));
}

/**
 * The mean over groups (datasets) of each group's mean paired difference, tested as the groups
 * were sampled: a stratified bootstrap (queries resampled within each group) for the interval,
 * and the paired sign-flip test of that weighted mean for the p-value (each query's difference
 * weighted 1 / (groups x its group's queries), so every dataset counts once, as a suite's mean
 * of means counts it).
 */
export function groupedMeanTest(
  groups: ArrayLike<number>[],
  { samples = 10000, permutations = 10000, seed = 0, level = 0.95 } = {},
): { diff: number; ciLow: number; ciHigh: number; pValue: number } {
  const live = groups.filter((g) => g.length > 0);
  const G = live.length;
  if (G === 0) return { diff: 0, ciLow: 0, ciHigh: 0, pValue: 1 };
  const diff = live.reduce((s, g) => s + mean(g), 0) / G;
  const rand = seededRandom(seed);
  const means = new Float64Array(samples);
  for (let b = 0; b < samples; b++) {
    let total = 0;
    for (const g of live) {
      let s = 0;
      for (let i = 0; i < g.length; i++) s += g[Math.floor(rand() * g.length)];
      total += s / g.length;
    }
    means[b] = total / G;
  }
  means.sort();
  // sign flips of x_i = d_i N / (G n_g): mean(x) is the mean of means, a flip of x_i is a flip of d_i
  const n = live.reduce((s, g) => s + g.length, 0);
  const scaled = new Float64Array(n);
  let at = 0;
  for (const g of live) for (let i = 0; i < g.length; i++) scaled[at++] = (g[i] * n) / (G * g.length);
  const pValue = run(randomizationSteps(scaled, permutations, seed));
  return { diff, ciLow: quantile(means, (1 - level) / 2), ciHigh: quantile(means, 1 - (1 - level) / 2), pValue };
}
