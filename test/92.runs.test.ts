// Runs (lib/runs, lib/registry/record.ts, lib/report/outputs.ts): interruption in every phase,
// runs left by dead processes, the record committed before the outputs move, outputs written as a
// set, and values that must be refused.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { InterruptedError, UserError } from '../lib/errors.js';
import { loggedRun, Registry } from '../lib/registry/index.js';
import { runEval } from '../lib/runs/index.js';
import { writeOutputSet } from '../lib/report/outputs.js';
import { compareMetrics } from '../lib/stats/index.js';
import { cli, rng } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { model, tmp } from './helpers/reliability.js';

describe('interruption in every phase', () => {
  it('the statistics stop at the next metric once the signal fires', async () => {
    const n = 3000;
    const r = rng(5);
    const perQuery = (shift: number) => ({ 'dim_8_cosine_ndcg@10': Float64Array.from({ length: n }, () => r() + shift) });
    const controller = new AbortController();
    setTimeout(() => controller.abort('SIGINT'), 30);
    const t0 = performance.now();
    await expect(compareMetrics([8], ['ndcg@10'], perQuery(0), perQuery(0.01), { samples: 10_000_000 }, controller.signal)).rejects.toThrow(InterruptedError);
    expect(performance.now() - t0).toBeLessThan(60_000);
    const already = AbortSignal.abort('SIGTERM');
    await expect(compareMetrics([8], ['ndcg@10'], perQuery(0), perQuery(0), {}, already)).rejects.toThrow(/interrupted \(SIGTERM\)/);
  });
});

describe('runs, outputs and values', () => {
  it('compare M M (the A/A check): both sides recorded, differences exactly 0, p = 1', async () => {
    const data = writeTinyBeir();
    const m = model();
    const out = join(tmp(), 'o');
    const reg = join(tmp(), 'r.db');
    const r = await cli(['--registry', reg, 'compare', m, m, '--data', data, '--out', out, '--json', '--no-cache']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    for (const d of Object.values(json.differences) as Array<{ diff: number; p_value: number; ci_low: number; ci_high: number }>) {
      expect(d.diff).toBe(0);
      expect(d.p_value).toBe(1);
      expect([d.ci_low, d.ci_high]).toEqual([0, 0]);
    }
    const registry = await Registry.open(reg, { readonly: true });
    const run = await registry.showRun(json.run_id);
    await registry.close();
    expect(run.status).toBe('succeeded');
    expect(run.models.map((x) => x.role)).toEqual(['base', 'tuned']);
    expect(run.models[0].metrics).toEqual(run.models[1].metrics);
  });

  it('--ndcg-at 5 --chart-metric ndcg@5: every headline uses ndcg@5; a metric not computed is refused before any work', async () => {
    const data = writeTinyBeir();
    const m = model();
    const out = join(tmp(), 'o');
    const r = await cli([
      'compare',
      m,
      model({ seed: 2 }),
      '--data',
      data,
      '--out',
      out,
      '--no-log',
      '--no-cache',
      '--ndcg-at',
      '5',
      '--chart-metric',
      'ndcg@5',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toMatch(/Queries that gained most at dim \d+ \(ndcg@5;/);
    expect(report).not.toMatch(/ndcg@10/);
    const bad = join(tmp(), 'never');
    const refused = await cli(['compare', m, m, '--data', data, '--out', bad, '--no-log', '--chart-metric', 'ndcg@5']);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toMatch(/^emb-bench: --chart-metric: "ndcg@5" is not one of/);
    expect(existsSync(bad)).toBe(false);
  });

  it('a run that fails before it starts creates no --out folder', async () => {
    const out = join(tmp(), 'never');
    const r = await cli(['eval', model(), '--data', join(tmp(), 'missing'), '--out', out, '--no-log']);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('outputs are written as a set: a failure on the third file leaves the old set and no temporary file', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.txt'), 'old a');
    writeFileSync(join(dir, 'b.txt'), 'old b');
    expect(() =>
      writeOutputSet(dir, {
        'a.txt': () => 'new a',
        'b.txt': () => 'new b',
        'c.txt': () => {
          throw new Error('disk full');
        },
      }),
    ).toThrow(UserError);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('old a');
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('old b');
    expect(readdirSync(dir).sort()).toEqual(['a.txt', 'b.txt']);
    writeOutputSet(dir, { 'a.txt': () => 'new a', 'b.txt': () => 'new b' });
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('new a');
    expect(readdirSync(dir).sort()).toEqual(['a.txt', 'b.txt']);
  });

  it('the registry record is written before the outputs move: a record that fails leaves the previous outputs, a failed run and nothing staged', async () => {
    const reg = join(tmp(), 'r.db');
    const data = writeTinyBeir();
    const out = tmp();
    const m = model();
    await runEval({ model: m, data, out, registry: reg, cacheDir: null });
    const before = readFileSync(join(out, 'results.json'));
    // a real failure inside the record's transaction (as a full disk or a lost server would fail it)
    const db = new Database(reg);
    db.exec(`CREATE TRIGGER full BEFORE INSERT ON run_models BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END`);
    db.close();
    await expect(runEval({ model: model({ seed: 5 }), data, out, registry: reg, cacheDir: null })).rejects.toThrow(/disk is full/);
    expect(readFileSync(join(out, 'results.json')).equals(before)).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['per_query.jsonl', 'results.json', 'retrieved.jsonl']);
    const r = await Registry.open(reg, { readonly: true });
    const [last] = await r.listRuns();
    expect([last.status, (await r.showRun(last.id!)).error]).toEqual(['failed', expect.stringMatching(/^recording the results failed: .*disk is full/)]);
    await r.close();
  });

  it('outputs that cannot be put in place after the record take the record back: failed, with no metrics or artifacts', async () => {
    const reg = join(tmp(), 'r.db');
    const staged = join(tmp(), 'report.md');
    writeFileSync(staged, '# report');
    const record = { role: 'model', model: { name: 'm', sha256: 'a'.repeat(64), path: '/m' }, metrics: { 'dim_8_cosine_ndcg@10': 0.5 } };
    const outputs = {
      files: [{ staged, target: join(tmp(), 'report.md') }],
      commit(): string[] {
        throw new UserError('out: cannot move the outputs into place (EXDEV)', 'ERR_OUT');
      },
      discard() {},
    };
    await expect(loggedRun(reg, { command: 'eval', argv: [] }, async () => ({ models: [record], outputs }))).rejects.toThrow(/EXDEV/);
    const r = await Registry.open(reg, { readonly: true });
    const [run] = await r.listRuns();
    const shown = await r.showRun(run.id!);
    expect([shown.status, shown.error, shown.models, shown.artifacts]).toEqual([
      'failed',
      expect.stringMatching(/^the outputs could not be put in place/),
      [],
      [],
    ]);
    await r.close();
  });

  it('a run left running by a process that is gone is listed as abandoned, and prune marks it failed', async () => {
    const reg = join(tmp(), 'r.db');
    const registry = await Registry.open(reg);
    const id = await registry.startRun({ command: 'eval', argv: [] });
    await registry.close();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const db = new Database(reg);
    db.prepare('UPDATE runs SET pid = ? WHERE id = ?').run(Number(dead), id);
    db.close();
    const listed = await cli(['--registry', reg, 'runs', 'list', '--json']);
    expect(JSON.parse(listed.stdout)[0].status).toBe('abandoned');
    const pruned = await cli(['--registry', reg, 'runs', 'prune', '--abandoned']);
    expect(pruned.code, pruned.stderr).toBe(0);
    const readBack = await Registry.open(reg, { readonly: true });
    const after = await readBack.showRun(id);
    await readBack.close();
    expect(after.status).toBe('failed');
    expect(after.error).toMatch(/abandoned: process \d+/);
  });

  it('read commands do not create a registry', async () => {
    const reg = join(tmp(), 'none.db');
    const r = await cli(['--registry', reg, 'models', 'list']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no registry here yet/);
    expect(existsSync(reg)).toBe(false);
  });

  it.each([
    [['--threads', '4,8'], /--threads: "4,8" is not a positive integer/],
    [['--threads', '0'], /--threads: "0" is not a positive integer/],
    [['--seed', 'abc'], /--seed: "abc" is not an integer/],
    [['--seed', '1e9'], /--seed: "1e9" is not an integer/],
    [['--dims', ''], /--dims: expected a comma-separated list/],
    [['--split', '../../x'], /--split: expected a split name/],
  ])('refuses %j with one line and exit 2', async (extra, message) => {
    const r = await cli(['compare', model(), model(), '--data', writeTinyBeir(), '--out', join(tmp(), 'o'), '--no-log', ...extra]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('--threads above the core count: capped, with a warning', async () => {
    const r = await cli(['eval', model(), '--data', writeTinyBeir(), '--out', join(tmp(), 'o'), '--no-log', '--threads', '1000']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: --threads 1000 is more than the \d+ cores here; using \d+/);
  });

  it('log-metadata: a key nested under a value is refused with one line', async () => {
    const r = await cli(['models', 'log-metadata', 'm', '1', '--set', 'a=1', '--set', 'a.b=2']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^emb-bench: --set: "a\.b" nests under "a", which was set to a value$/);
  });

  it('models promote with a list as VERSION is refused', async () => {
    const r = await cli(['models', 'promote', 'm', '1,2', '--stage', 'production']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/VERSION: "1,2" is not a positive integer/);
  });

  it.each([
    ['modules.json that is not JSON', (d: string) => writeFileSync(join(d, 'modules.json'), '{nope'), /modules\.json: not valid JSON/],
    ['modules.json that is an object', (d: string) => writeFileSync(join(d, 'modules.json'), '{"a": 1}'), /modules\.json: expected a JSON array/],
    [
      'onnx/model.onnx that is a folder',
      (d: string) => {
        spawnSync('rm', [join(d, 'onnx', 'model.onnx')]);
        mkdirSync(join(d, 'onnx', 'model.onnx'));
      },
      /model\.onnx: expected an ONNX file, found a folder/,
    ],
    [
      'max_seq_length -5',
      (d: string) => writeFileSync(join(d, 'sentence_bert_config.json'), '{"max_seq_length": -5}'),
      /max_seq_length must be a positive integer, got -5/,
    ],
    [
      'max_seq_length 2.5',
      (d: string) => writeFileSync(join(d, 'sentence_bert_config.json'), '{"max_seq_length": 2.5}'),
      /max_seq_length must be a positive integer, got 2\.5/,
    ],
    [
      'a numeric prompt',
      (d: string) => writeFileSync(join(d, 'config_sentence_transformers.json'), '{"prompts": {"query": 7}}'),
      /prompt "query" must be a string, got 7/,
    ],
  ])('%s: one line naming the file, exit 2', async (_, edit, message) => {
    const m = model();
    edit(m);
    const r = await cli(['eval', m, '--data', writeTinyBeir(), '--out', join(tmp(), 'o'), '--no-log', '--no-cache']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});
