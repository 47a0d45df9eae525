// The registry: what eval and compare record, stages, failures, interruption, concurrency.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Registry } from '../lib/registry/index.js';
import { cli, ROOT } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { writeTinyModel } from './helpers/tiny-model.js';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

function setup() {
  const dir = tmp('emb-reg-');
  const base = writeTinyModel(join(dir, 'base'), { pooling: 'mean', seed: 1 });
  const tuned = writeTinyModel(join(dir, 'tuned'), { pooling: 'mean', seed: 2 });
  return { dir, base: base.dir, tuned: tuned.dir, data: writeTinyBeir(), db: join(dir, 'registry.db') };
}

const compareArgs = (s: ReturnType<typeof setup>, ...extra: string[]) => [
  '--registry',
  s.db,
  'compare',
  s.base,
  s.tuned,
  '--data',
  s.data,
  '--dims',
  '8,4',
  '--out',
  join(s.dir, 'out'),
  '--no-cache',
  ...extra,
];

describe('registry', () => {
  it('compare records both model versions, every metric per dim, ZenML metadata and artifacts', async () => {
    const s = setup();
    const r = await cli(compareArgs(s));
    expect(r.code, r.stderr).toBe(0);
    const reg = new Registry(s.db);
    const [run] = reg.listRuns();
    expect(run.status).toBe('succeeded');
    const shown = reg.showRun(run.id!);
    expect(shown.models.map((m) => [m.role, m.name, m.version])).toEqual([
      ['base', 'base', 1],
      ['tuned', 'tuned', 1],
    ]);
    const results = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(join(s.dir, 'out', 'results.json'), 'utf8')));
    expect(shown.models[1].metrics).toEqual(results.tuned.metrics);
    expect(Object.keys(shown.models[1].metrics)).toHaveLength(2 * 15);
    expect(shown.models[0].metadata.base_model_eval['dim_8_cosine_ndcg@10']).toBe(results.base.metrics['dim_8_cosine_ndcg@10']);
    expect(shown.models[1].metadata.finetuned_model_eval).toEqual(results.tuned.metrics);
    expect((shown.artifacts as Array<{ name: string }>).map((a) => a.name)).toEqual(['chart.png', 'per_query.jsonl', 'report.md', 'results.json']);
    expect(shown.dataset_fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(shown.hardware.cores).toBeGreaterThan(0);
    reg.close();
  });

  it('the same files are the same version; changed files make the next version', async () => {
    const s = setup();
    await cli(['--registry', s.db, 'eval', s.base, '--data', s.data, '--out', join(s.dir, 'e1'), '--no-cache']);
    await cli(['--registry', s.db, 'eval', s.base, '--data', s.data, '--out', join(s.dir, 'e2'), '--no-cache']);
    writeTinyModel(s.base, { pooling: 'mean', seed: 9 });
    await cli(['--registry', s.db, 'eval', s.base, '--data', s.data, '--out', join(s.dir, 'e3'), '--no-cache']);
    const reg = new Registry(s.db);
    const model = reg.showModel('base');
    expect(model.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(reg.listRuns()).toHaveLength(3);
    reg.close();
  });

  it('promote: the previous holder of the stage becomes archived', async () => {
    const s = setup();
    await cli(['--registry', s.db, 'eval', s.base, '--data', s.data, '--out', join(s.dir, 'e1'), '--no-cache']);
    writeTinyModel(s.base, { pooling: 'mean', seed: 9 });
    await cli(['--registry', s.db, 'eval', s.base, '--data', s.data, '--out', join(s.dir, 'e2'), '--no-cache']);
    expect((await cli(['--registry', s.db, 'models', 'promote', 'base', '1', '--stage', 'production'])).code).toBe(0);
    expect((await cli(['--registry', s.db, 'models', 'promote', 'base', '2', '--stage', 'production'])).code).toBe(0);
    const shown = JSON.parse((await cli(['--registry', s.db, 'models', 'show', 'base', '--json'])).stdout);
    expect(shown.versions.map((v: { stage: string }) => v.stage)).toEqual(['archived', 'production']);
    const missing = await cli(['--registry', s.db, 'models', 'promote', 'base', '7', '--stage', 'staging']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/has no version 7/);
  });

  it('a run that fails is marked failed, with no metrics', async () => {
    const s = setup();
    writeFileSync(join(s.tuned, 'onnx', 'model.onnx'), 'broken');
    const r = await cli(compareArgs(s));
    expect(r.code).toBe(2);
    const db = new Database(s.db, { readonly: true });
    expect(db.prepare('SELECT status, error FROM runs').all()).toEqual([{ status: 'failed', error: expect.stringMatching(/onnxruntime cannot load/) }]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM metrics').get()).toEqual({ n: 0 });
    db.close();
  });

  it('SIGINT during a run: exits promptly and the run is marked interrupted', async () => {
    const s = setup();
    const big = writeTinyBeir({ docs: 60000, queries: 50, wordsPerDoc: 40 });
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'emb-bench.js'), '--registry', s.db, 'eval', s.base, '--data', big, '--out', join(s.dir, 'o'), '--no-cache'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    // wait for the run to exist, then interrupt
    for (let i = 0; i < 400; i++) {
      await new Promise((r) => setTimeout(r, 25));
      try {
        const db = new Database(s.db, { readonly: true, fileMustExist: true });
        const row = db.prepare(`SELECT status FROM runs`).get() as { status: string } | undefined;
        db.close();
        if (row?.status === 'running') break;
      } catch {
        /* not created yet */
      }
    }
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/interrupted \(SIGINT\)/);
    const db = new Database(s.db, { readonly: true });
    expect(db.prepare('SELECT status FROM runs').all()).toEqual([{ status: 'interrupted' }]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM metrics').get()).toEqual({ n: 0 });
    db.close();
  });

  it('two processes logging at once both get their runs', async () => {
    const s = setup();
    const [a, b] = await Promise.all([
      cli(['--registry', s.db, 'eval', s.base, '--data', s.data, '--out', join(s.dir, 'a'), '--no-cache']),
      cli(['--registry', s.db, 'eval', s.tuned, '--data', s.data, '--out', join(s.dir, 'b'), '--no-cache']),
    ]);
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    const reg = new Registry(s.db);
    expect(reg.listRuns().map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(reg.listModels().map((m) => m.name)).toEqual(['base', 'tuned']);
    reg.close();
  });

  it('refuses a registry from a newer schema and a file that is not a database', async () => {
    const s = setup();
    new Registry(s.db).close();
    const db = new Database(s.db);
    db.pragma('user_version = 99');
    db.close();
    const newer = await cli(['--registry', s.db, 'runs', 'list']);
    expect(newer.code).toBe(2);
    expect(newer.stderr).toMatch(/registry schema 99 is newer/);
    const junk = join(s.dir, 'junk.db');
    writeFileSync(junk, 'this is not sqlite at all, just some text that is long enough to matter'.repeat(20));
    const corrupt = await cli(['--registry', junk, 'runs', 'list']);
    expect(corrupt.code).toBe(2);
    expect(corrupt.stderr).toMatch(/not an emb-bench registry/);
  });

  it('--no-log writes no registry', async () => {
    const s = setup();
    const r = await cli(compareArgs(s, '--no-log'));
    expect(r.code, r.stderr).toBe(0);
    expect(await import('node:fs').then((fs) => fs.existsSync(s.db))).toBe(false);
  });
});
