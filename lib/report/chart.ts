// chart.png: horizontal grouped bars of a metric x 100 per dim (base blue, fine-tuned red),
// value labels, and the difference with its 95% interval beside each group. The font ships
// with the package (dejavu-fonts-ttf) and is registered, so text renders on hosts without
// system fonts.
import { HEADLINE_METRIC } from '../defaults.js';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import type { CompareResult } from '../compare.js';
import { metricKey } from '../metrics/index.js';
import type { TrainingResult } from '../training.js';
import { deployPoints } from './deploy.js';

const FONT = 'EmbBench DejaVu Sans';
let fontReady = false;

function registerFont(): void {
  if (fontReady) return;
  const dir = join(dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  const ok = GlobalFonts.registerFromPath(join(dir, 'DejaVuSans.ttf'), FONT) && GlobalFonts.registerFromPath(join(dir, 'DejaVuSans-Bold.ttf'), FONT);
  if (!ok) throw new Error(`cannot register the chart font from ${dir}`);
  fontReady = true;
}

const CHART_COLORS = { base: '#1f77b4', tuned: '#d62728', background: '#ffffff' };

export function renderChart(result: CompareResult, metric = HEADLINE_METRIC, names = { base: 'base', tuned: 'fine-tuned' }): Buffer {
  registerFont();
  const dims = result.dims;
  const width = 1100;
  const top = 90;
  const group = 96;
  const height = top + group * dims.length + 70;
  const left = 110;
  const plotWidth = 620;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = CHART_COLORS.background;
  ctx.fillRect(0, 0, width, height);

  const values = dims.flatMap((d) => [result.base.metrics[metricKey(d, metric)], result.tuned.metrics[metricKey(d, metric)]]);
  const maxValue = Math.max(1e-9, ...values) * 100;
  // round ticks (1, 2 or 5 x 10^n) from 0 past the largest bar, room for its label
  const ticks = niceTicks(0, Math.min(100, maxValue * 1.08));
  const scaleMax = ticks[ticks.length - 1];
  const x = (v: number) => left + (plotWidth * v) / scaleMax;

  ctx.fillStyle = '#000';
  ctx.font = `bold 22px "${FONT}"`;
  ctx.fillText(`${metric} x 100 by Matryoshka dimension`, 20, 36);
  // legend
  ctx.font = `15px "${FONT}"`;
  [
    [names.base, CHART_COLORS.base],
    [names.tuned, CHART_COLORS.tuned],
  ].forEach(([label, color], i) => {
    const lx = 20 + i * 260;
    ctx.fillStyle = color;
    ctx.fillRect(lx, 52, 16, 16);
    ctx.fillStyle = '#000';
    ctx.fillText(label, lx + 22, 66);
  });
  ctx.fillText('difference [95% CI]', left + plotWidth + 40, 66);
  ctx.font = `13px "${FONT}"`;
  ctx.fillStyle = '#555';
  ctx.fillText(`* significant: p < ${result.stats.alpha} after Holm across dims`, left + plotWidth + 40, height - 22);

  // grid and x axis
  ctx.strokeStyle = '#ddd';
  ctx.lineWidth = 1;
  ctx.font = `13px "${FONT}"`;
  for (const v of ticks) {
    ctx.beginPath();
    ctx.moveTo(x(v), top - 6);
    ctx.lineTo(x(v), top + group * dims.length);
    ctx.stroke();
    ctx.fillStyle = '#444';
    ctx.fillText(String(v), x(v) - ctx.measureText(String(v)).width / 2, top + group * dims.length + 20);
  }
  ctx.fillStyle = '#000';
  ctx.font = `15px "${FONT}"`;
  ctx.fillText(`${metric} x 100`, left + plotWidth / 2 - 50, top + group * dims.length + 48);
  ctx.save();
  ctx.translate(24, top + (group * dims.length) / 2 + 50);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText('dimension', 0, 0);
  ctx.restore();

  dims.forEach((dim, i) => {
    const y0 = top + i * group + 10;
    const key = metricKey(dim, metric);
    const bars: Array<[number, string]> = [
      [result.base.metrics[key] * 100, CHART_COLORS.base],
      [result.tuned.metrics[key] * 100, CHART_COLORS.tuned],
    ];
    ctx.fillStyle = '#000';
    ctx.font = `bold 16px "${FONT}"`;
    ctx.fillText(String(dim), 50, y0 + 42);
    bars.forEach(([value, color], b) => {
      const y = y0 + b * 36;
      ctx.fillStyle = color;
      ctx.fillRect(left, y, Math.max(1, x(value) - left), 30);
      ctx.fillStyle = '#000';
      ctx.font = `14px "${FONT}"`;
      ctx.fillText(value.toFixed(1), x(value) + 6, y + 20);
    });
    const d = result.differences[key];
    if (d) {
      const sign = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}`;
      ctx.font = `${d.significant ? 'bold ' : ''}15px "${FONT}"`;
      ctx.fillStyle = d.significant ? (d.diff > 0 ? '#1a7f37' : '#b42318') : '#555';
      ctx.fillText(`${sign(d.diff)} [${sign(d.ciLow)}, ${sign(d.ciHigh)}]${d.significant ? ' *' : ''}`, left + plotWidth + 40, y0 + 32);
      ctx.font = `13px "${FONT}"`;
      ctx.fillStyle = '#555';
      ctx.fillText(`p ${d.pHolm < 0.001 ? '< 0.001' : `= ${d.pHolm.toFixed(3)}`} (Holm)`, left + plotWidth + 40, y0 + 52);
    }
  });
  return canvas.toBuffer('image/png');
}

/** Tick values at round steps (1, 2 or 5 x 10^n) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  const span = Math.max(hi - lo, 1e-9);
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  const last = Math.ceil(hi / step - 1e-9) * step;
  for (let v = Math.floor(lo / step + 1e-9) * step; v <= last + step * 1e-9; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

const DIM_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

/**
 * chart.png of a training run: `metric` x 100 against the training step, one line per dim, the
 * base model as a dashed line per dim, the best checkpoint per dim ringed.
 */
export function renderTrainingChart(result: TrainingResult, names: { run: string; base?: string }): Buffer {
  registerFont();
  const width = 1100;
  const height = 620;
  const plot = { left: 90, right: 310, top: 80, bottom: 70 };
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = CHART_COLORS.background;
  ctx.fillRect(0, 0, width, height);
  const metric = result.metric;
  const points = result.checkpoints.filter((c) => c.checkpoint.step !== null);
  const steps = points.map((c) => c.checkpoint.step!);
  const values = result.dims.flatMap((d) => [
    ...points.map((c) => c.result.metrics[metricKey(d, metric)] * 100),
    ...(result.base ? [result.base.metrics[metricKey(d, metric)] * 100] : []),
  ]);
  ctx.fillStyle = '#000';
  ctx.font = `bold 22px "${FONT}"`;
  ctx.fillText(`${metric} x 100 by training step: ${names.run}`, 20, 36);
  ctx.font = `14px "${FONT}"`;
  ctx.fillText(`one line per Matryoshka dim; ${result.base ? `dashed: ${names.base ?? 'base'}; ` : ''}ringed: the best checkpoint at that dim`, 20, 60);
  if (!values.length) return canvas.toBuffer('image/png');
  const yTicks = niceTicks(Math.min(...values), Math.max(...values));
  const [y0, y1] = [yTicks[0], yTicks[yTicks.length - 1] === yTicks[0] ? yTicks[0] + 1 : yTicks[yTicks.length - 1]];
  const xTicks = steps.length ? niceTicks(Math.min(...steps), Math.max(...steps)) : [0, 1];
  const [x0, x1] = [xTicks[0], xTicks[xTicks.length - 1] === xTicks[0] ? xTicks[0] + 1 : xTicks[xTicks.length - 1]];
  const pw = width - plot.left - plot.right;
  const ph = height - plot.top - plot.bottom;
  const X = (v: number) => plot.left + ((v - x0) / (x1 - x0)) * pw;
  const Y = (v: number) => plot.top + (1 - (v - y0) / (y1 - y0)) * ph;
  ctx.strokeStyle = '#ddd';
  ctx.lineWidth = 1;
  ctx.font = `13px "${FONT}"`;
  ctx.fillStyle = '#444';
  for (const t of yTicks) {
    ctx.beginPath();
    ctx.moveTo(plot.left, Y(t));
    ctx.lineTo(plot.left + pw, Y(t));
    ctx.stroke();
    ctx.fillText(String(t), plot.left - 10 - ctx.measureText(String(t)).width, Y(t) + 4);
  }
  for (const t of xTicks) ctx.fillText(String(t), X(t) - ctx.measureText(String(t)).width / 2, plot.top + ph + 20);
  ctx.fillStyle = '#000';
  ctx.font = `15px "${FONT}"`;
  ctx.fillText('training step', plot.left + pw / 2 - 45, height - 20);
  result.dims.forEach((dim, i) => {
    const color = DIM_COLORS[i % DIM_COLORS.length];
    const key = metricKey(dim, metric);
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    if (result.base) {
      ctx.setLineDash([8, 6]);
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(plot.left, Y(result.base.metrics[key] * 100));
      ctx.lineTo(plot.left + pw, Y(result.base.metrics[key] * 100));
      ctx.stroke();
      ctx.setLineDash([]);
    }
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    points.forEach((c, j) => (j ? ctx.lineTo : ctx.moveTo).call(ctx, X(c.checkpoint.step!), Y(c.result.metrics[key] * 100)));
    ctx.stroke();
    const best = result.picks.find((p) => p.dim === dim)?.best;
    for (const c of points) {
      ctx.beginPath();
      ctx.arc(X(c.checkpoint.step!), Y(c.result.metrics[key] * 100), 4, 0, Math.PI * 2);
      ctx.fill();
      if (c.checkpoint.name === best) {
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.arc(X(c.checkpoint.step!), Y(c.result.metrics[key] * 100), 10, 0, Math.PI * 2);
        ctx.stroke();
      }
    }
    ctx.fillRect(width - plot.right + 30, plot.top + i * 26, 16, 16);
    ctx.fillStyle = '#000';
    ctx.font = `15px "${FONT}"`;
    ctx.fillText(`dim ${dim}${best ? ` (best: ${best})` : ''}`, width - plot.right + 52, plot.top + i * 26 + 13);
  });
  return canvas.toBuffer('image/png');
}

/** One cell of a suite chart: its label and its fill. */
export interface SuiteCell {
  text: string;
  fill: string;
  bold?: boolean;
}

/**
 * chart.png of a suite: a grid of datasets (rows, the means last) by dims (columns), each cell
 * the value `cell` gives (a compare: the difference x 100 with its verdict's colour; an eval:
 * the metric x 100), a title and a footnote.
 */
export function renderSuiteChart(title: string, rows: string[], dims: number[], cell: (row: string, dim: number) => SuiteCell, footnote: string): Buffer {
  registerFont();
  const left = 220;
  const cw = 110;
  const ch = 34;
  const top = 86;
  const width = Math.max(760, left + cw * dims.length + 40);
  const height = top + ch * rows.length + 60;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = CHART_COLORS.background;
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#000';
  ctx.font = `bold 20px "${FONT}"`;
  ctx.fillText(title, 20, 34);
  ctx.font = `bold 14px "${FONT}"`;
  dims.forEach((d, j) => {
    const label = `dim ${d}`;
    ctx.fillText(label, left + j * cw + (cw - ctx.measureText(label).width) / 2, top - 12);
  });
  rows.forEach((row, i) => {
    const y = top + i * ch;
    ctx.fillStyle = '#000';
    ctx.font = `${/mean$/.test(row) ? 'bold ' : ''}14px "${FONT}"`;
    const name = row.length > 28 ? `${row.slice(0, 27)}…` : row;
    ctx.fillText(name, 20, y + 22);
    dims.forEach((d, j) => {
      const c = cell(row, d);
      ctx.fillStyle = c.fill;
      ctx.fillRect(left + j * cw + 2, y + 2, cw - 4, ch - 4);
      ctx.fillStyle = '#000';
      ctx.font = `${c.bold ? 'bold ' : ''}14px "${FONT}"`;
      ctx.fillText(c.text, left + j * cw + (cw - ctx.measureText(c.text).width) / 2, y + 22);
    });
  });
  ctx.font = `13px "${FONT}"`;
  ctx.fillStyle = '#555';
  ctx.fillText(footnote, 20, height - 22);
  return canvas.toBuffer('image/png');
}

const PRECISION_MARKS: Record<string, 'circle' | 'square' | 'diamond' | 'triangle' | 'cross'> = {
  float32: 'circle',
  int8: 'square',
  uint8: 'diamond',
  binary: 'cross',
  ubinary: 'triangle',
};

/**
 * chart.png of a compare with quantized precisions: `metric` x 100 against bytes per vector (log
 * scale) for every (dim, precision) pair, base blue and fine-tuned red, a mark per precision, each
 * model's Pareto front joined by a line.
 */
export function renderDeployChart(result: CompareResult, metric: string, names = { base: 'base', tuned: 'fine-tuned' }): Buffer {
  registerFont();
  const width = 1100;
  const height = 720;
  const left = 90;
  const top = 96;
  const plotW = 720;
  const plotH = 520;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = CHART_COLORS.background;
  ctx.fillRect(0, 0, width, height);
  const models = [
    { points: deployPoints(result.base, metric), color: CHART_COLORS.base, label: names.base },
    { points: deployPoints(result.tuned, metric), color: CHART_COLORS.tuned, label: names.tuned },
  ];
  const all = models.flatMap((m) => m.points);
  const lx0 = Math.floor(Math.log2(Math.min(...all.map((p) => p.bytesPerVector))));
  const lx1 = Math.ceil(Math.log2(Math.max(...all.map((p) => p.bytesPerVector))) + 1e-9);
  const yTicks = niceTicks(0, Math.min(100, Math.max(1e-9, ...all.map((p) => p.value)) * 100 * 1.08));
  const yMax = yTicks[yTicks.length - 1];
  const x = (bytes: number) => left + (plotW * (Math.log2(bytes) - lx0)) / Math.max(1, lx1 - lx0);
  const y = (v: number) => top + plotH - (plotH * v * 100) / yMax;

  ctx.fillStyle = '#000';
  ctx.font = `bold 22px "${FONT}"`;
  ctx.fillText(`${metric} x 100 against bytes per vector, every dimension and precision`, 20, 36);
  ctx.font = `15px "${FONT}"`;
  models.forEach((m, i) => {
    const lx = 20 + i * 300;
    ctx.fillStyle = m.color;
    ctx.fillRect(lx, 52, 16, 16);
    ctx.fillStyle = '#000';
    ctx.fillText(m.label, lx + 22, 66);
  });
  // grid
  ctx.strokeStyle = '#ddd';
  ctx.lineWidth = 1;
  ctx.font = `13px "${FONT}"`;
  for (let e = lx0; e <= lx1; e++) {
    ctx.beginPath();
    ctx.moveTo(x(2 ** e), top);
    ctx.lineTo(x(2 ** e), top + plotH);
    ctx.stroke();
    ctx.fillStyle = '#444';
    const t = String(2 ** e);
    ctx.fillText(t, x(2 ** e) - ctx.measureText(t).width / 2, top + plotH + 20);
  }
  for (const v of yTicks) {
    ctx.beginPath();
    ctx.moveTo(left, y(v / 100));
    ctx.lineTo(left + plotW, y(v / 100));
    ctx.stroke();
    ctx.fillStyle = '#444';
    ctx.fillText(String(v), left - 10 - ctx.measureText(String(v)).width, y(v / 100) + 4);
  }
  ctx.fillStyle = '#000';
  ctx.font = `15px "${FONT}"`;
  ctx.fillText('bytes per vector (log scale)', left + plotW / 2 - 90, top + plotH + 48);
  ctx.save();
  ctx.translate(30, top + plotH / 2 + 60);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(`${metric} x 100`, 0, 0);
  ctx.restore();

  const mark = (shape: string, cx: number, cy: number, r: number) => {
    ctx.beginPath();
    if (shape === 'circle') ctx.arc(cx, cy, r, 0, 2 * Math.PI);
    else if (shape === 'square') ctx.rect(cx - r, cy - r, 2 * r, 2 * r);
    else if (shape === 'diamond') {
      ctx.moveTo(cx, cy - r * 1.3);
      ctx.lineTo(cx + r * 1.3, cy);
      ctx.lineTo(cx, cy + r * 1.3);
      ctx.lineTo(cx - r * 1.3, cy);
      ctx.closePath();
    } else if (shape === 'triangle') {
      ctx.moveTo(cx, cy - r * 1.3);
      ctx.lineTo(cx + r * 1.2, cy + r);
      ctx.lineTo(cx - r * 1.2, cy + r);
      ctx.closePath();
    } else {
      ctx.moveTo(cx - r, cy - r);
      ctx.lineTo(cx + r, cy + r);
      ctx.moveTo(cx + r, cy - r);
      ctx.lineTo(cx - r, cy + r);
    }
  };
  for (const m of models) {
    // the Pareto front, fewest bytes first
    const front = m.points.filter((p) => p.pareto);
    ctx.strokeStyle = m.color;
    ctx.lineWidth = 2;
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    front.forEach((p, i) => (i ? ctx.lineTo(x(p.bytesPerVector), y(p.value)) : ctx.moveTo(x(p.bytesPerVector), y(p.value))));
    ctx.stroke();
    ctx.setLineDash([]);
    for (const p of m.points) {
      const shape = PRECISION_MARKS[p.precision];
      mark(shape, x(p.bytesPerVector), y(p.value), p.pareto ? 6 : 4.5);
      ctx.strokeStyle = m.color;
      ctx.fillStyle = m.color;
      ctx.lineWidth = 2;
      if (shape === 'cross') ctx.stroke();
      else if (p.pareto) ctx.fill();
      else ctx.stroke();
      if (p.pareto) {
        ctx.font = `11px "${FONT}"`;
        ctx.fillStyle = '#333';
        ctx.fillText(`${p.dim} ${p.precision}`, x(p.bytesPerVector) + 8, y(p.value) - 6);
      }
    }
  }
  // key of marks
  ctx.font = `14px "${FONT}"`;
  const kx = left + plotW + 30;
  Object.entries(PRECISION_MARKS).forEach(([precision, shape], i) => {
    const ky = top + 20 + i * 28;
    mark(shape, kx + 6, ky - 5, 5);
    ctx.strokeStyle = '#333';
    ctx.fillStyle = '#333';
    ctx.lineWidth = 2;
    if (shape === 'cross') ctx.stroke();
    else ctx.fill();
    ctx.fillText(precision, kx + 20, ky);
  });
  ctx.font = `13px "${FONT}"`;
  ctx.fillStyle = '#555';
  ['filled, labelled, joined:', "the model's Pareto front", '(no pair as small and', 'as good, one strictly)'].forEach((t, i) =>
    ctx.fillText(t, kx, top + 190 + i * 18),
  );
  return canvas.toBuffer('image/png');
}
