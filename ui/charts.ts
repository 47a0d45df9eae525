// Charts as SVG made on the server: no client script, nothing to load from elsewhere.
import { html, type Html } from './html.js';

export interface Series {
  label: string;
  color: string;
  /** Drawn dashed (a reference such as the base model), without markers. */
  dashed?: boolean;
  points: Array<{ x: number; y: number; low?: number; high?: number }>;
}

const nice = (v: number) => (Math.abs(v) >= 10 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toFixed(3));

/**
 * Lines over x on a log2 axis (Matryoshka dims; `xLog: false` for a linear one), y linear; points with low/high draw an interval.
 * `zero` draws y = 0 (for differences).
 */
export function lineChart(series: Series[], { width = 640, height = 300, xLabel = 'dimension', yLabel = '', zero = false, xLog = true } = {}): Html {
  const pts = series.flatMap((s) => s.points);
  if (pts.length === 0) return html`<p class="muted">nothing to draw</p>`;
  const xs = [...new Set(pts.map((p) => p.x))].sort((a, b) => a - b);
  const ys = pts.flatMap((p) => [p.y, p.low ?? p.y, p.high ?? p.y]).concat(zero ? [0] : []);
  let [yMin, yMax] = [Math.min(...ys), Math.max(...ys)];
  if (yMax - yMin < 1e-9) [yMin, yMax] = [yMin - 0.01, yMax + 0.01];
  const pad = (yMax - yMin) * 0.08;
  [yMin, yMax] = [yMin - pad, yMax + pad];
  const m = { left: 64, right: 16, top: 16, bottom: 44 };
  const lx = (x: number) => (xLog ? Math.log2(x) : x);
  const [x0, x1] = [lx(xs[0]), lx(xs[xs.length - 1])];
  const X = (x: number) => m.left + (x1 === x0 ? 0.5 : (lx(x) - x0) / (x1 - x0)) * (width - m.left - m.right);
  const Y = (y: number) => m.top + (1 - (y - yMin) / (yMax - yMin)) * (height - m.top - m.bottom);
  const ticks = Array.from({ length: 5 }, (_, i) => yMin + ((yMax - yMin) * i) / 4);
  return html`<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${yLabel} by ${xLabel}">
<g class="axes">
${ticks.map((t) => html`<line x1="${m.left}" x2="${width - m.right}" y1="${Y(t).toFixed(1)}" y2="${Y(t).toFixed(1)}" class="grid"/><text x="${m.left - 6}" y="${(Y(t) + 4).toFixed(1)}" text-anchor="end">${nice(t)}</text>`)}
${xs.map((x) => html`<text x="${X(x).toFixed(1)}" y="${height - m.bottom + 16}" text-anchor="middle">${x}</text>`)}
${zero ? html`<line x1="${m.left}" x2="${width - m.right}" y1="${Y(0).toFixed(1)}" y2="${Y(0).toFixed(1)}" class="zero"/>` : ''}
<text x="${(m.left + width - m.right) / 2}" y="${height - 6}" text-anchor="middle">${xLabel}${xLog ? ' (log scale)' : ''}</text>
<text x="14" y="${(m.top + height - m.bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(m.top + height - m.bottom) / 2})">${yLabel}</text>
</g>
${series.map((s) => {
  const sorted = [...s.points].sort((a, b) => a.x - b.x);
  const d = sorted.map((p, i) => `${i ? 'L' : 'M'}${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ');
  return html`<g class="series" data-label="${s.label}">
${sorted.filter((p) => p.low !== undefined && p.high !== undefined).map((p) => html`<line x1="${X(p.x).toFixed(1)}" x2="${X(p.x).toFixed(1)}" y1="${Y(p.low!).toFixed(1)}" y2="${Y(p.high!).toFixed(1)}" stroke="${s.color}" class="interval"/>`)}
<path d="${d}" stroke="${s.color}" fill="none" stroke-width="2"${s.dashed ? html` stroke-dasharray="6 4"` : ''}/>
${(s.dashed ? [] : sorted).map((p) => html`<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="3.5" fill="${s.color}"><title>${s.label} at ${p.x}: ${p.y.toFixed(4)}</title></circle>`)}
</g>`;
})}
</svg>
<p class="legend">${series.map((s) => html`<span><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="${s.color}"/></svg> ${s.label}</span> `)}</p>`;
}

export interface ScatterSeries {
  label: string;
  color: string;
  points: Array<{ x: number; y: number; label: string; front: boolean }>;
}

/**
 * Points over a log2 x axis (bytes per vector), y linear; each series' front points filled and
 * joined by a dashed line, the others hollow.
 */
export function scatterChart(series: ScatterSeries[], { width = 720, height = 340, xLabel = 'bytes per vector', yLabel = '' } = {}): Html {
  const pts = series.flatMap((s) => s.points);
  if (pts.length === 0) return html`<p class="muted">nothing to draw</p>`;
  const lx = pts.map((p) => Math.log2(p.x));
  const [x0, x1] = [Math.floor(Math.min(...lx)), Math.ceil(Math.max(...lx) + 1e-9)];
  let [yMin, yMax] = [Math.min(...pts.map((p) => p.y)), Math.max(...pts.map((p) => p.y))];
  if (yMax - yMin < 1e-9) [yMin, yMax] = [yMin - 0.01, yMax + 0.01];
  const pad = (yMax - yMin) * 0.08;
  [yMin, yMax] = [yMin - pad, yMax + pad];
  const m = { left: 64, right: 16, top: 16, bottom: 44 };
  const X = (x: number) => m.left + ((Math.log2(x) - x0) / Math.max(1, x1 - x0)) * (width - m.left - m.right);
  const Y = (y: number) => m.top + (1 - (y - yMin) / (yMax - yMin)) * (height - m.top - m.bottom);
  const yTicks = Array.from({ length: 5 }, (_, i) => yMin + ((yMax - yMin) * i) / 4);
  const xTicks = Array.from({ length: x1 - x0 + 1 }, (_, i) => 2 ** (x0 + i));
  return html`<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${yLabel} against ${xLabel}">
<g class="axes">
${yTicks.map((t) => html`<line x1="${m.left}" x2="${width - m.right}" y1="${Y(t).toFixed(1)}" y2="${Y(t).toFixed(1)}" class="grid"/><text x="${m.left - 6}" y="${(Y(t) + 4).toFixed(1)}" text-anchor="end">${nice(t)}</text>`)}
${xTicks.map((x) => html`<text x="${X(x).toFixed(1)}" y="${height - m.bottom + 16}" text-anchor="middle">${x}</text>`)}
<text x="${(m.left + width - m.right) / 2}" y="${height - 6}" text-anchor="middle">${xLabel} (log scale)</text>
<text x="14" y="${(m.top + height - m.bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(m.top + height - m.bottom) / 2})">${yLabel}</text>
</g>
${series.map((s) => {
  const front = s.points.filter((p) => p.front).sort((a, b) => a.x - b.x);
  const d = front.map((p, i) => `${i ? 'L' : 'M'}${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ');
  return html`<g class="series" data-label="${s.label}">
<path d="${d}" stroke="${s.color}" fill="none" stroke-width="2" stroke-dasharray="6 4"/>
${s.points.map((p) => html`<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="${p.front ? 4.5 : 3.5}" fill="${p.front ? s.color : 'white'}" stroke="${s.color}" stroke-width="2" data-front="${p.front ? 'yes' : 'no'}"><title>${s.label}: ${p.label}, ${p.x} bytes, ${p.y.toFixed(4)}</title></circle>`)}
</g>`;
})}
</svg>
<p class="legend">${series.map((s) => html`<span><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="${s.color}"/></svg> ${s.label}</span> `)} (filled and joined: the model's Pareto front)</p>`;
}
