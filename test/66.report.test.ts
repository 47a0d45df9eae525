// The report's parts on their own (lib/report/markdown.ts, lib/report/chart.ts, ui/markdown.ts):
// the numbers report.md prints are the differences' own, hostile names stay text, the queries
// that moved are ordered by their change, the chart draws what it is given, and the dashboard's
// markdown renders a report's structures while raw HTML stays escaped.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadImage } from '@napi-rs/canvas';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CompareResult } from '../lib/compare.js';
import type { Dataset } from '../lib/data/dataset.js';
import { writeDemo } from '../lib/demo/data.js';
import { metricKey } from '../lib/metrics/index.js';
import { renderChart } from '../lib/report/chart.js';
import { compareMarkdown, differenceTable, movers } from '../lib/report/markdown.js';
import { runCompare } from '../lib/runs/index.js';
import { renderMarkdown } from '../ui/markdown.js';

describe('report.md and chart.png', () => {
  let result: CompareResult;
  let dataset: Dataset;

  beforeAll(async () => {
    const demo = writeDemo(mkdtempSync(join(tmpdir(), 'emb-report-')));
    const run = await runCompare({
      base: demo.base,
      tuned: demo.tuned,
      data: demo.data,
      dims: [32, 8],
      out: join(demo.data, '..', 'out'),
      registry: null,
      cacheDir: null,
    });
    if (run.kind !== 'compare') throw new Error('expected a compare run');
    result = run.result;
    dataset = run.dataset;
  }, 60_000);

  it("the headline table prints each dim's difference, interval and verdict (x 100)", () => {
    const rows = differenceTable(result, 'ndcg@10').split('\n').slice(2);
    expect(rows).toHaveLength(2);
    result.dims.forEach((dim, i) => {
      const d = result.differences[metricKey(dim, 'ndcg@10')];
      const cells = rows[i].split('|').map((c) => c.trim());
      expect(cells.slice(1, 5)).toEqual([
        String(dim),
        (d.base * 100).toFixed(2),
        (d.tuned * 100).toFixed(2),
        `${d.diff >= 0 ? '+' : ''}${(d.diff * 100).toFixed(2)}`,
      ]);
      expect(cells[7]).toBe(d.significant ? (d.diff > 0 ? 'better' : 'worse') : 'no significant change');
    });
  });

  it('the queries that gained and lost most are ordered by their change at the smallest dim', () => {
    const m = movers(result, dataset, 'ndcg@10', 50);
    expect(m.dim).toBe(8);
    const changes = (table: string) =>
      table
        .split('\n')
        .slice(2)
        .map((r) => Number(r.split('|')[5]));
    const gained = changes(m.gained);
    const lost = changes(m.lost);
    expect(gained.every((c) => c > 0) && lost.every((c) => c < 0)).toBe(true);
    expect(gained).toEqual([...gained].sort((a, b) => b - a));
    expect(lost).toEqual([...lost].sort((a, b) => a - b));
  });

  it('a hostile model name stays text in report.md; every metric is listed at every dim', () => {
    const md = compareMarkdown(result, dataset, 'ndcg@10', { base: '<img src=x onerror=alert(1)>|x', tuned: 'tuned' });
    expect(md).not.toContain('<img src=x');
    expect(md.split('\n')[0]).toMatch(/^# emb-bench compare: .*\\\|x vs tuned$/);
    const every = md.slice(md.indexOf('## Every metric'), md.indexOf('## Queries that gained'));
    expect(every).toContain(`| map@100 | ${result.base.metrics[metricKey(32, 'map@100')].toFixed(4)} |`);
  });

  it('the chart is a PNG of the size it claims, drawn (not blank), and another metric draws another chart', async () => {
    const png = renderChart(result, 'ndcg@10', { base: 'base', tuned: 'tuned' });
    const image = await loadImage(png);
    expect(image.width).toBeGreaterThan(500);
    expect(image.height).toBeGreaterThan(300);
    expect(png.equals(renderChart(result, 'mrr@10', { base: 'base', tuned: 'tuned' }))).toBe(false);
    expect(new Set(png.subarray(png.length / 2, png.length / 2 + 4096)).size).toBeGreaterThan(8);
  });
});

describe("the dashboard's markdown", () => {
  it("renders a report's headings, tables, lists, bold and images; raw HTML stays text", () => {
    const md =
      '# Title\n\n| name | value |\n|---|---:|\n| <b>x</b> | 1.5 |\n\n- one **bold**\n- two\n\n![chart](chart.png) ![other](other.png)\n\n<script>alert(1)</script>';
    const html = String(renderMarkdown(md, (src) => (src === 'chart.png' ? '/runs/r/artifacts/chart.png' : null)));
    expect(html).toContain('<h2>Title</h2>');
    expect(html).toContain('<th class="num">value</th>');
    expect(html).toContain('<td>&lt;b&gt;x&lt;/b&gt;</td><td class="num">1.5</td>');
    expect(html).toContain('<li>one <strong>bold</strong></li><li>two</li>');
    expect(html).toContain('<img alt="chart" src="/runs/r/artifacts/chart.png">');
    expect(html).not.toContain('other.png');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
  });
});
