// Text from the data or the user in every output: escaped in report.md, stripped of control
// characters on the terminal, drawn in any script on the chart, long texts cut without harm.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCanvas, GlobalFonts, loadImage } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { encodeWith, model, tmp } from './helpers/reliability.js';

describe('untrusted text', () => {
  it('model names, ids and texts are escaped in report.md and stripped of control characters on the terminal', async () => {
    const data = writeTinyBeir();
    const qpath = join(data, 'queries.jsonl');
    const lines = readFileSync(qpath, 'utf8').trim().split('\n');
    lines[0] = JSON.stringify({ _id: 'q<img src=x onerror=alert(1)>|x', text: 'what <script>alert(1)</script> | is' });
    writeFileSync(qpath, lines.join('\n') + '\n');
    const qrels = join(data, 'qrels', 'test.tsv');
    const id0 = JSON.parse(readFileSync(join(data, 'corpus.jsonl'), 'utf8').split('\n')[0])._id;
    writeFileSync(qrels, `${readFileSync(qrels, 'utf8').trimEnd()}\nq<img src=x onerror=alert(1)>|x\t${id0}\t1\n`);
    const out = join(tmp(), 'o');
    const r = await cli([
      'compare',
      model(),
      model({ seed: 3 }),
      '--data',
      data,
      '--out',
      out,
      '--no-log',
      '--no-cache',
      '--base-name',
      '\x1b]0;owned\x07<b>base|</b>\x1b[31m',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/\x1b/);
    expect(r.stdout).toContain('<b>base|</b>');
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).not.toMatch(/<script>|<img|<b>|\x1b/);
    expect(report).toContain('&lt;b&gt;base\\|&lt;/b&gt;');
    for (const row of report.split('\n').filter((l) => l.includes('onerror'))) expect(row.split(/(?<!\\)\|/)).toHaveLength(7);
  });
});

describe('model names in any script', () => {
  const cjkFont = ['Noto Sans CJK SC', 'Noto Sans CJK JP', 'WenQuanYi Zen Hei', 'WenQuanYi Micro Hei', 'Droid Sans Fallback'].some((f) =>
    GlobalFonts.families.some((x) => x.family === f),
  );
  // The package ships DejaVu (no CJK glyphs); a CJK name falls back, glyph by glyph, to a CJK
  // font of the host's (Debian: fonts-noto-cjk or fonts-wqy-zenhei; .ci/run installs one).
  it.skipIf(!cjkFont)("CJK model names are drawn in chart.png with real glyphs (the host's CJK font), not boxes", async () => {
    const data = writeTinyBeir();
    const legend = async (name: string) => {
      const out = join(tmp(), 'o');
      const r = await cli(['compare', model(), model({ seed: 3 }), '--data', data, '--out', out, '--no-log', '--no-cache', '--base-name', name]);
      expect(r.code, r.stderr).toBe(0);
      const img = await loadImage(readFileSync(join(out, 'chart.png')));
      const canvas = createCanvas(img.width, img.height);
      const ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0);
      return Buffer.from(ctx.getImageData(40, 50, 200, 24).data);
    };
    // missing glyphs all draw the same box: two different ideographs must differ
    const [a, b] = [await legend('中中中中中'), await legend('文文文文文')];
    expect(a.equals(b)).toBe(false);
  });
});

describe('long texts', () => {
  it('a text far longer than max_seq_length is cut before tokenizing, with the same embedding', async () => {
    const m = model();
    const words = 'what is the query of a wing lift flow ';
    const long = words.repeat(200_000); // 7.6 MB
    const short = words.repeat(200);
    const spaced = ' '.repeat(3_000_000) + 'wing lift';
    const [a, b] = [await encodeWith(m, [long, spaced], null), await encodeWith(m, [short, 'wing lift'], null)];
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});
