// Plain-text tables for the terminal: one row per metric, one column per dim.
import { metricKey, metricNames, type KLists } from '../metrics/index.js';

export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function metricsTable(metrics: Record<string, number>, dims: number[], kLists: KLists): string {
  const names = metricNames(kLists);
  const rows = names.map((name) => [name, ...dims.map((d) => metrics[metricKey(d, name)].toFixed(4))]);
  return formatTable(['metric', ...dims.map((d) => `dim ${d}`)], rows);
}
