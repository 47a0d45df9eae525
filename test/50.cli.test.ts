// The command line: help, and bad input met with one clear line and exit code 2.
import { mkdtempSync, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeNpy } from '../lib/data/npy.js';
import { cli } from './helpers/shared.js';

function tinyBeir() {
  const dir = mkdtempSync(join(tmpdir(), 'emb-beir-'));
  writeFileSync(join(dir, 'corpus.jsonl'), ['{"_id":"d1","title":"","text":"a"}', '{"_id":"d2","text":"b"}'].join('\n'));
  writeFileSync(join(dir, 'queries.jsonl'), '{"_id":"q1","text":"x"}\n');
  mkdirSync(join(dir, 'qrels'));
  writeFileSync(join(dir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td2\t1\n');
  writeNpy(join(dir, 'q.npy'), { data: Float32Array.from([0, 1, 0, 0]), rows: 1, cols: 4 });
  writeNpy(join(dir, 'c.npy'), { data: Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0]), rows: 2, cols: 4 });
  return dir;
}

const scoreArgs = (dir: string, ...extra: string[]) => [
  'score',
  '--data',
  dir,
  '--query-embeddings',
  join(dir, 'q.npy'),
  '--corpus-embeddings',
  join(dir, 'c.npy'),
  '--out',
  join(dir, 'out'),
  ...extra,
];

describe('cli', () => {
  it('prints help listing every command, and each command has its own help', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    const listed = [...stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]).filter((c) => c !== 'help');
    expect(listed.sort()).toEqual(['cache', 'compare', 'demo', 'doctor', 'encode', 'eval', 'merge', 'models', 'registry', 'runs', 'score', 'ui']);
    for (const [group, subs] of [
      ['models', ['list', 'show', 'promote', 'log-metadata']],
      ['runs', ['list', 'show', 'diff', 'prune']],
      ['cache', ['compact']],
      ['registry', ['copy']],
    ] as const) {
      const help = await cli([group, '--help']);
      for (const sub of subs) expect(help.stdout, `${group} ${sub}`).toMatch(new RegExp(`^ {2}${sub}\\b`, 'm'));
    }
  });

  it('scores a tiny dataset end to end', async () => {
    const dir = tinyBeir();
    const { code, stdout } = await cli(scoreArgs(dir, '--dims', '4,2'));
    expect(code).toBe(0);
    expect(stdout).toMatch(/ndcg@10\s+100\.00\s+100\.00/); // x 100, as every terminal table
  });

  it.each([
    [['--dims', '4,abc'], /--dims: "abc" is not a positive integer/],
    [['--dims', '8'], /--dims: 8 is larger than the embedding width 4/],
    [['--dims', '2,2'], /--dims: 2 is listed twice/],
    [['--split', 'dev'], /qrels\/dev\.tsv: not found/],
  ])('rejects %j with exit 2 and one line, writing nothing', async (extra, message) => {
    const dir = tinyBeir();
    const { code, stderr } = await cli(scoreArgs(dir, ...extra));
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'out', 'results.json'))).toBe(false);
  });

  it('names the file and line of malformed JSONL', async () => {
    const dir = tinyBeir();
    writeFileSync(join(dir, 'queries.jsonl'), '{"_id":"q1","text":"x"}\n{"_id": oops}\n');
    const { code, stderr } = await cli(scoreArgs(dir));
    expect(code).toBe(2);
    expect(stderr).toMatch(/queries\.jsonl:2: malformed JSON/);
  });

  it('names a row-count mismatch between embeddings and the dataset', async () => {
    const dir = tinyBeir();
    writeNpy(join(dir, 'c.npy'), { data: new Float32Array(12), rows: 3, cols: 4 });
    const { code, stderr } = await cli(scoreArgs(dir));
    expect(code).toBe(2);
    expect(stderr).toMatch(/corpus embeddings have 3 rows but the dataset has 2 documents/);
  });
});

describe("demo (the README's main command)", () => {
  it('runs compare on its own synthetic set and models, writing every output', async () => {
    const out = mkdtempSync(join(tmpdir(), 'emb-demo-'));
    const { code, stdout, stderr } = await cli(['demo', '--out', out, '--no-log']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/\| 64 \| .* \| better \|/);
    for (const f of ['results.json', 'report.md', 'chart.png', 'per_query.jsonl']) expect(existsSync(join(out, f)), f).toBe(true);
    // report.md: the headline table at every demo dim, each row consistent with results.json
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    for (const dim of [64, 32, 16, 8]) {
      const d = results.differences[`dim_${dim}_cosine_ndcg@10`];
      const row = `| ${dim} | ${(d.base * 100).toFixed(2)} | ${(d.tuned * 100).toFixed(2)} | ${d.diff >= 0 ? '+' : ''}${(d.diff * 100).toFixed(2)} |`;
      expect(report, `dim ${dim}`).toContain(row);
    }
    expect(report).toMatch(/## Queries that gained most at dim 8 \(ndcg@10;/);
    expect(report).toContain('![chart](chart.png)');
  });
});
