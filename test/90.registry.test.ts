// The registry: what eval and compare record, stages, failures, interruption, concurrency.
// The suite runs once per backend: a SQLite file, and a real PostgreSQL server (a database per test).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { copyRegistry, Registry, runStart } from '../lib/registry/index.js';
import { InterruptedError } from '../lib/errors.js';
import { loadBeir } from '../lib/data/beir.js';
import { postgresForFile } from './helpers/postgres.js';
import { cli, ROOT } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { writeTinyModel } from './helpers/tiny-model.js';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

const pg = postgresForFile();
const pgReason = pg.reason;

type Backend = 'sqlite' | 'postgres';
const backends: Backend[] = ['sqlite', 'postgres'];

async function setup(backend: Backend) {
  const dir = tmp('emb-reg-');
  const base = writeTinyModel(join(dir, 'base'), { pooling: 'mean', seed: 1 });
  const tuned = writeTinyModel(join(dir, 'tuned'), { pooling: 'mean', seed: 2 });
  const db = backend === 'sqlite' ? join(dir, 'registry.db') : await pg.server().database();
  return { dir, base: base.dir, tuned: tuned.dir, data: writeTinyBeir(), db };
}

/** Rows straight from the registry's tables, whichever backend holds them. */
async function rows(location: string, sql: string): Promise<unknown[]> {
  const reg = await Registry.open(location, { readonly: true });
  try {
    return await reg.store.all(sql);
  } finally {
    await reg.close();
  }
}

const compareArgs = (s: Awaited<ReturnType<typeof setup>>, ...extra: string[]) => [
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

describe.each(backends)('registry (%s)', (backend) => {
  const skip = backend === 'postgres' && pgReason ? `PostgreSQL: ${pgReason}` : null;
  if (skip) it.skip(skip, () => {});

  it.skipIf(skip)('compare records both model versions, every metric per dim, ZenML metadata and artifacts', async () => {
    const s = await setup(backend);
    const r = await cli(compareArgs(s));
    expect(r.code, r.stderr).toBe(0);
    const reg = await Registry.open(s.db);
    const [run] = await reg.listRuns();
    expect(run.status).toBe('succeeded');
    const shown = await reg.showRun(run.id!);
    expect(shown.models.map((m) => [m.role, m.name, m.version])).toEqual([
      ['base', 'base', 1],
      ['tuned', 'tuned', 1],
    ]);
    const results = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(join(s.dir, 'out', 'results.json'), 'utf8')));
    expect(shown.models[1].metrics).toEqual(results.tuned.metrics);
    expect(Object.keys(shown.models[1].metrics)).toHaveLength(2 * 15);
    expect(shown.models[0].metadata.base_model_eval['dim_8_cosine_ndcg@10']).toBe(results.base.metrics['dim_8_cosine_ndcg@10']);
    expect(shown.models[1].metadata.finetuned_model_eval).toEqual(results.tuned.metrics);
    expect((shown.artifacts as Array<{ name: string }>).map((a) => a.name)).toEqual([
      'chart.png',
      'per_query.jsonl',
      'report.md',
      'results.json',
      'retrieved.jsonl',
    ]);
    expect(shown.datasetFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(shown.hardware?.cores).toBeGreaterThan(0);
    expect(shown.argv).toContain(s.db.replace(/:[^:@/]*@/, '@'));
    if (backend === 'postgres') expect(JSON.stringify(shown)).not.toContain(pg.server().password);
    await reg.close();
  });

  it.skipIf(skip)('registry copy rolls back at the first interrupt, even inside its transaction: nothing is copied', async () => {
    const s = await setup(backend);
    expect((await cli(compareArgs(s))).code).toBe(0);
    const target = join(tmp('emb-copy-'), 'copy.db');
    const from = await Registry.open(s.db, { readonly: true });
    const to = await Registry.open(target);
    try {
      let checks = 0;
      // aborted from the third check on: after the first model was inserted into the target
      const signal = {
        get aborted() {
          return ++checks > 2;
        },
        reason: 'SIGINT',
      } as unknown as AbortSignal;
      await expect(copyRegistry(from, to, { signal })).rejects.toThrow(InterruptedError);
      expect(checks).toBeGreaterThan(2);
      expect(await to.listModels()).toEqual([]);
      expect(await to.listRuns()).toEqual([]);
      expect((await copyRegistry(from, to)).runs).toBe(1);
    } finally {
      await from.close();
      await to.close();
    }
  });

  it.skipIf(skip)("runs diff lists metrics by dim, then in the evaluator's order (accuracy@3 before @10), and warns when the datasets differ", async () => {
    const s = await setup(backend);
    const evalOn = async (data: string) => {
      const r = await cli(['--registry', s.db, 'eval', s.base, '--data', data, '--dims', '8,4', '--out', join(s.dir, 'e'), '--no-cache', '--json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).run_id as string;
    };
    const a = await evalOn(s.data);
    const b = await evalOn(s.data);
    const c = await evalOn(writeTinyBeir({ docs: 25, queries: 7 }));
    const same = await cli(['--registry', s.db, 'runs', 'diff', a, b]);
    const names = same.stdout
      .trim()
      .split('\n')
      .slice(2)
      .map((l) => l.split(/\s+/)[1]);
    expect(names.slice(0, 4)).toEqual(['dim_8_cosine_accuracy@1', 'dim_8_cosine_accuracy@3', 'dim_8_cosine_accuracy@5', 'dim_8_cosine_accuracy@10']);
    expect(names).toHaveLength(30);
    expect(same.stdout).not.toMatch(/warning/);
    expect((await cli(['--registry', s.db, 'runs', 'diff', a, c])).stdout).toMatch(/^warning: the two runs read different datasets/);
  });

  it.skipIf(skip)('usage errors are refused before a run starts: no failed run for a dim the model lacks, a dim twice, a model not there', async () => {
    const s = await setup(backend);
    for (const args of [
      ['eval', s.base, '--dims', '9999'],
      ['compare', s.base, s.tuned, '--dims', '4,4'],
      ['compare', s.base, join(s.dir, 'no-such-model'), '--dims', '4'],
    ]) {
      const r = await cli(['--registry', s.db, ...args, '--data', s.data, '--out', join(s.dir, 'o'), '--no-cache']);
      expect(r.code, args.join(' ')).toBe(2);
    }
    if (backend === 'sqlite' && !existsSync(s.db)) return; // never created: nothing recorded
    const reg = await Registry.open(s.db, { readonly: true }).catch(() => null);
    if (reg) {
      expect(await reg.listRuns()).toEqual([]);
      await reg.close();
    }
  });

  it.skipIf(skip)('log-metadata merges dotted keys into what was logged before; --replace replaces a whole key', async () => {
    const s = await setup(backend);
    expect((await cli(['--registry', s.db, 'eval', s.base, '--data', s.data, '--out', join(s.dir, 'e'), '--no-cache'])).code).toBe(0);
    const log = (...args: string[]) => cli(['--registry', s.db, 'models', 'log-metadata', 'base', '1', ...args, '--json']);
    expect((await log('--set', 'training_params.learning_rate=2e-5', '--set', 'hardware.gpu=H100')).code).toBe(0);
    const merged = JSON.parse((await log('--set', 'training_params.batch_size=32')).stdout);
    expect(merged.training_params).toEqual({ learning_rate: 2e-5, batch_size: 32 });
    expect(merged.hardware).toEqual({ gpu: 'H100' });
    const replaced = JSON.parse((await log('--set', 'training_params.epochs=3', '--replace')).stdout);
    expect(replaced.training_params).toEqual({ epochs: 3 });
    expect(replaced.hardware).toEqual({ gpu: 'H100' });
  });

  it.skipIf(skip)("promote takes 'latest' for the highest version", async () => {
    const s = await setup(backend);
    for (const seed of [1, 9]) {
      writeTinyModel(s.base, { pooling: 'mean', seed });
      expect((await cli(['--registry', s.db, 'eval', s.base, '--data', s.data, '--out', join(s.dir, 'e'), '--no-cache'])).code).toBe(0);
    }
    const r = await cli(['--registry', s.db, 'models', 'promote', 'base', 'latest', '--stage', 'production']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^base version 2 is now production/);
    const reg = await Registry.open(s.db, { readonly: true });
    expect((await reg.showModel('base')).versions.map((v) => [v.version, v.stage])).toEqual([
      [1, 'none'],
      [2, 'production'],
    ]);
    await reg.close();
  });

  it.skipIf(skip)('a model given by a relative path is recorded by its absolute path', async () => {
    const s = await setup(backend);
    const rel = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [join(ROOT, 'bin', 'emb-bench.js'), '--registry', s.db, 'eval', 'base', '--data', s.data, '--out', 'e2', '--no-cache'],
        {
          cwd: s.dir,
        },
      );
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (code) => resolve({ code, err }));
    });
    expect(rel.code, rel.err).toBe(0);
    const paths = (await rows(s.db, 'SELECT path FROM model_versions')) as Array<{ path: string }>;
    expect(paths.map((p) => p.path)).toEqual([s.base]);
  });

  it.skipIf(skip)('the same files are the same version; changed files make the next version', async () => {
    const s = await setup(backend);
    await cli(['--registry', s.db, 'eval', s.base, '--data', s.data, '--out', join(s.dir, 'e1'), '--no-cache']);
    await cli(['--registry', s.db, 'eval', s.base, '--data', s.data, '--out', join(s.dir, 'e2'), '--no-cache']);
    writeTinyModel(s.base, { pooling: 'mean', seed: 9 });
    await cli(['--registry', s.db, 'eval', s.base, '--data', s.data, '--out', join(s.dir, 'e3'), '--no-cache']);
    const reg = await Registry.open(s.db);
    const model = await reg.showModel('base');
    expect(model.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(await reg.listRuns()).toHaveLength(3);
    await reg.close();
  });

  it.skipIf(skip)('promote: the previous holder of the stage becomes archived', async () => {
    const s = await setup(backend);
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

  it.skipIf(skip)('a run that fails is marked failed, with no metrics; a model that cannot load is refused before any run', async () => {
    const s = await setup(backend);
    // fails while encoding: the model's embedding of a text holding "the" is NaN
    writeTinyModel(s.tuned, { pooling: 'mean', seed: 2, nanWord: 'the' });
    const r = await cli(compareArgs(s));
    expect(r.code).toBe(2);
    expect(await rows(s.db, 'SELECT status, error FROM runs')).toEqual([{ status: 'failed', error: expect.stringMatching(/non-finite value/) }]);
    expect(await rows(s.db, 'SELECT COUNT(*) AS n FROM metrics')).toEqual([{ n: 0 }]);
    writeFileSync(join(s.tuned, 'onnx', 'model.onnx'), 'broken');
    const broken = await cli(compareArgs(s));
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/onnxruntime cannot load/);
    expect(await rows(s.db, 'SELECT COUNT(*) AS n FROM runs')).toEqual([{ n: 1 }]);
  });

  it.skipIf(skip)('SIGINT during a run: exits promptly and the run is marked interrupted', async () => {
    const s = await setup(backend);
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
        const [row] = (await rows(s.db, 'SELECT status FROM runs')) as Array<{ status: string }>;
        if (row?.status === 'running') break;
      } catch {
        /* not created yet */
      }
    }
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/interrupted \(SIGINT\)/);
    expect(await rows(s.db, 'SELECT status FROM runs')).toEqual([{ status: 'interrupted' }]);
    expect(await rows(s.db, 'SELECT COUNT(*) AS n FROM metrics')).toEqual([{ n: 0 }]);
  });

  it.skipIf(skip)('two processes logging at once both get their runs', async () => {
    const s = await setup(backend);
    const [a, b] = await Promise.all([
      cli(['--registry', s.db, 'eval', s.base, '--data', s.data, '--out', join(s.dir, 'a'), '--no-cache']),
      cli(['--registry', s.db, 'eval', s.tuned, '--data', s.data, '--out', join(s.dir, 'b'), '--no-cache']),
    ]);
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    const reg = await Registry.open(s.db);
    expect((await reg.listRuns()).map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect((await reg.listModels()).map((m) => m.name)).toEqual(['base', 'tuned']);
    await reg.close();
  });

  it.skipIf(skip)('refuses a registry from a newer schema', async () => {
    const s = await setup(backend);
    const reg = await Registry.open(s.db);
    if (backend === 'sqlite') (reg.store as unknown as { db: Database.Database }).db.pragma('user_version = 99');
    else await reg.store.write((tx) => tx.run('UPDATE emb_bench_schema SET version = 99'));
    await reg.close();
    const newer = await cli(['--registry', s.db, 'runs', 'list']);
    expect(newer.code).toBe(2);
    expect(newer.stderr).toMatch(/registry schema 99 is newer/);
    expect(newer.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.skipIf(skip)('--no-log writes no registry', async () => {
    const s = await setup(backend);
    const r = await cli(compareArgs(s, '--no-log'));
    expect(r.code, r.stderr).toBe(0);
    if (backend === 'sqlite') expect(existsSync(s.db)).toBe(false);
    else await expect(Registry.open(s.db, { readonly: true })).rejects.toThrow(/no registry here yet/);
  });
});

describe('registry (SQLite file)', () => {
  it('refuses a file that is not a database', async () => {
    const dir = tmp('emb-reg-');
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'this is not sqlite at all, just some text that is long enough to matter'.repeat(20));
    const corrupt = await cli(['--registry', junk, 'runs', 'list']);
    expect(corrupt.code).toBe(2);
    expect(corrupt.stderr).toMatch(/not an emb-bench registry/);
  });

  it('names a registry with a damaged page as damaged, not as a foreign file', async () => {
    const s = await setup('sqlite');
    expect((await cli(compareArgs(s))).code).toBe(0);
    const reg = await Registry.open(s.db);
    await reg.close(); // checkpointed: every table in the main file
    const bytes = readFileSync(s.db);
    const pageSize = bytes.readUInt16BE(16);
    for (let p = 2; p < bytes.length / pageSize; p++) bytes.fill(0xa5, p * pageSize, p * pageSize + 64); // every b-tree page's header garbled
    writeFileSync(s.db, bytes);
    const r = await cli(['--registry', s.db, 'runs', 'list']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/: the registry is damaged \(SQLite found a malformed page\)/)]);
  });
});

describe('recorded command lines', () => {
  it.each([
    ['a password in the URL', 'postgres://emb:s3cret@db:5432/x', 'postgres://emb@db:5432/x', ['s3cret']],
    ['a password holding "@" and ":"', 'postgres://emb:p@ss:w@rd@db/x', 'postgres://emb@db/x', ['p@ss', 'ss:w', 'rd@']],
    [
      '?password= and ?sslpassword=',
      'postgresql://emb@db/x?sslmode=require&password=zz9&sslpassword=kk7',
      'postgresql://emb@db/x?sslmode=require',
      ['zz9', 'kk7'],
    ],
    ['a flag=value form', '--registry=postgres://u:pw1@h/d?password=pw2', '--registry=postgres://u@h/d', ['pw1', 'pw2']],
  ])('%s: every credential is dropped before the run is stored', (_, given, stored, secrets) => {
    const start = runStart('eval', loadBeir(writeTinyBeir()), [8], {}, 'cpu', ['eval', 'm', given]);
    expect(start.argv).toEqual(['eval', 'm', stored]);
    for (const s of secrets) expect(JSON.stringify(start)).not.toContain(s);
  });
});
