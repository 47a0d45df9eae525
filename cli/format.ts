// What the terminal shows: plain-text tables, and text from data or users with control
// characters removed (an escape sequence in a model name must not reach the terminal).
import { deployPoints, type EvalResult, humanBytes, type KLists, metricKey, metricNames, stripControl } from '../lib/index.js';

export { stripControl };

export function formatTable(header: string[], rows: string[][]): string {
  const cells = rows.map((r) => r.map(stripControl));
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c].length)));
  const line = (row: string[]) => row.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** A metric as every table on the terminal shows it: x 100, two decimals (as sentence-transformers prints percentages). */
export const pct = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '-' : (v * 100).toFixed(2));

/** Every metric at every dim, x 100 (the header says so). */
export function metricsTable(metrics: Record<string, number>, dims: number[], kLists: KLists): string {
  const rows = metricNames(kLists).map((name) => [name, ...dims.map((d) => pct(metrics[metricKey(d, name)]))]);
  return formatTable(['metric (x 100)', ...dims.map((d) => `dim ${d}`)], rows);
}

/** With quantized precisions: `metric` for every (dim, precision), fewest bytes first, with its loss against float32 and the Pareto front. */
export function deployTable(results: Array<{ label: string; result: EvalResult }>, metric: string): string {
  const [first, ...rest] = results;
  const others = rest.map((r) => new Map(deployPoints(r.result, metric).map((p) => [`${p.dim}/${p.precision}`, p])));
  const loss = (p: ReturnType<typeof deployPoints>[number] | undefined) =>
    p?.versusFloat32
      ? `${p.versusFloat32.diff >= 0 ? '+' : ''}${(p.versusFloat32.diff * 100).toFixed(2)}${p.versusFloat32.significant ? (p.versusFloat32.diff < 0 ? ' v' : ' ^') : ''}`
      : '';
  const rows = deployPoints(first.result, metric).map((p) => {
    const o = others.map((m) => m.get(`${p.dim}/${p.precision}`));
    const front = [p, ...o].map((q, i) => (q?.pareto ? results[i].label : '')).filter(Boolean);
    return [
      String(p.dim),
      p.precision,
      String(p.bytesPerVector),
      humanBytes(p.indexBytes),
      pct(p.value),
      loss(p),
      ...o.flatMap((q) => [pct(q?.value), loss(q)]),
      front.join(', '),
    ];
  });
  const header = ['dim', 'precision', 'bytes', 'index', ...results.flatMap((r) => [`${r.label} ${metric}`, 'vs float32'])];
  return `${formatTable([...header, 'Pareto front'], rows)}
(x 100; v / ^: significantly worse / better than float32 at the same dim, Holm across every dim and precision)`;
}

/** Fields whose values are data as stored (user metadata, metric keys, tags...): their keys stay as they are. */
const OPAQUE = new Set([
  'metadata',
  'metrics',
  'latestMetrics',
  'tags',
  'prompts',
  'hardware',
  'software',
  'datasetCounts',
  'kLists',
  'card',
  'old',
  'new',
  'values',
  'tests',
]);

/** The library's camelCase rows as the CLI's JSON prints them: snake_case keys, data fields untouched. */
export function snakeCase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCase);
  if (value instanceof Map) return snakeCase(Object.fromEntries(value));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), OPAQUE.has(k) ? v : snakeCase(v)]),
  );
}
