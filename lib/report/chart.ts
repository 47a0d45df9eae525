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
  const scaleMax = Math.min(100, Math.ceil((maxValue * 1.1) / 10) * 10 || 10);
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

  // grid and x axis
  ctx.strokeStyle = '#ddd';
  ctx.lineWidth = 1;
  ctx.font = `13px "${FONT}"`;
  for (let v = 0; v <= scaleMax; v += scaleMax / 5) {
    ctx.beginPath();
    ctx.moveTo(x(v), top - 6);
    ctx.lineTo(x(v), top + group * dims.length);
    ctx.stroke();
    ctx.fillStyle = '#444';
    ctx.fillText(v.toFixed(0), x(v) - 8, top + group * dims.length + 20);
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
