// The shared PostgreSQL registry beyond what every backend does (test/90): concurrent writers
// as separate processes, connection failures, credentials from PG* variables, `registry copy`
// both ways, and the dashboard reading PostgreSQL. Against a real server started here.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Registry } from '../lib/registry/index.js';
import { SCHEMA_VERSION } from '../lib/registry/schema.js';
import { startDashboard } from '../ui/server.js';
import { postgresUnavailable, startPostgres, type PostgresServer } from './helpers/postgres.js';
import { cli, ROOT } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { writeTinyModel } from './helpers/tiny-model.js';

const run = promisify(execFile);
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
const reason = postgresUnavailable();
let server: PostgresServer;

beforeAll(async () => {
  if (!reason) server = await startPostgres();
}, 120_000);
afterAll(() => server?.stop());

/** N writer processes that start writing at the same moment; resolves with their outputs. */
async function writers(url: string, jobs: string[][]): Promise<unknown[]> {
  const startAt = Date.now() + 1500; // every process connected by then
  const script = join(ROOT, 'test', 'helpers', 'registry-writer.mjs');
  const outs = await Promise.all(jobs.map((args) => run(process.execPath, [script, url, String(startAt), ...args])));
  return outs.map((o) => JSON.parse(o.stdout));
}

describe.skipIf(reason)(`PostgreSQL registry${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('eight hosts registering the same model files at once get one version; different files get versions 1..8', async () => {
    const url = await server.database();
    await writers(
      url,
      Array.from({ length: 8 }, () => ['register', 'same', 'f'.repeat(64)]),
    );
    await writers(
      url,
      Array.from({ length: 8 }, (_, i) => ['register', 'many', String(i).repeat(64)]),
    );
    const reg = await Registry.open(url, { readonly: true });
    const models = await reg.listModels();
    expect(models.map((m) => [m.name, m.versions, m.latest])).toEqual([
      ['many', 8, 8],
      ['same', 1, 1],
    ]);
    expect((await reg.showModel('many')).versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const runs = await reg.listRuns(100);
    expect(runs).toHaveLength(16);
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
    await reg.close();
  }, 60_000);

  it("PostgreSQL's schema and SQLite's migrations agree, as the two databases report them: tables, columns, types, keys, indexes", async () => {
    type Shape = Record<string, { columns: Record<string, string>; key: string[]; indexes: string[] }>;
    const typeClass: Record<string, string> = {
      INTEGER: 'integer',
      bigint: 'integer',
      integer: 'integer',
      TEXT: 'text',
      text: 'text',
      REAL: 'real',
      'double precision': 'real',
      BLOB: 'bytes',
      bytea: 'bytes',
    };
    const sqlitePath = join(tmp('emb-schema-'), 'r.db');
    (await Registry.open(sqlitePath)).close();
    const db = new Database(sqlitePath, { readonly: true });
    const lite: Shape = {};
    for (const { name } of db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as Array<{ name: string }>) {
      const cols = db.prepare(`PRAGMA table_info(${name})`).all() as Array<{ name: string; type: string; notnull: number; pk: number }>;
      const indexes = (db.prepare(`PRAGMA index_list(${name})`).all() as Array<{ name: string; origin: string }>)
        .filter((i) => i.origin === 'c')
        .map((i) => i.name);
      lite[name] = {
        // an INTEGER PRIMARY KEY is a rowid alias: NOT NULL though SQLite does not say so
        columns: Object.fromEntries(
          cols.map((c) => [c.name, `${typeClass[c.type]}${c.notnull || (c.pk && cols.filter((x) => x.pk).length === 1) ? ' not null' : ''}`]),
        ),
        key: cols
          .filter((c) => c.pk)
          .sort((a, b) => a.pk - b.pk)
          .map((c) => c.name),
        indexes: indexes.sort(),
      };
    }
    db.close();
    const url = await server.database();
    const reg = await Registry.open(url);
    const pg: Shape = {};
    try {
      const cols = await reg.store.all<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
        `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'emb_bench_schema'`,
      );
      for (const c of cols) {
        pg[c.table_name] ??= { columns: {}, key: [], indexes: [] };
        pg[c.table_name].columns[c.column_name] = `${typeClass[c.data_type]}${c.is_nullable === 'NO' ? ' not null' : ''}`;
      }
      const keys = await reg.store.all<{ table_name: string; column_name: string }>(
        `SELECT k.table_name, k.column_name FROM information_schema.table_constraints t JOIN information_schema.key_column_usage k
           ON k.constraint_name = t.constraint_name AND k.table_name = t.table_name
         WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = 'public' ORDER BY k.table_name, k.ordinal_position`,
      );
      for (const k of keys) pg[k.table_name]?.key.push(k.column_name);
      const indexes = await reg.store.all<{ tablename: string; indexname: string }>(
        `SELECT i.tablename, i.indexname FROM pg_indexes i WHERE i.schemaname = 'public'
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
      );
      for (const i of indexes) pg[i.tablename]?.indexes.push(i.indexname);
      for (const t of Object.values(pg)) t.indexes.sort();
    } finally {
      await reg.close();
    }
    expect(Object.keys(lite).sort()).toEqual([
      'artifact_blobs',
      'artifacts',
      'metadata',
      'metadata_history',
      'metrics',
      'model_versions',
      'models',
      'run_models',
      'runs',
      'stage_history',
    ]);
    expect(lite.metrics.indexes).toEqual(['metrics_by_name', 'metrics_by_version']);
    expect(lite.metrics.key).toEqual(['run_id', 'role', 'dim', 'name']);
    expect(pg).toEqual(lite);
  });

  it('a database at an older schema takes the later migrations (artifacts kept as bytes from 5, the team record from 6)', async () => {
    const url = await server.database();
    const reg = await Registry.open(url);
    // back to schema 4 as it was released
    await reg.store.write(async (tx) => {
      await tx.run('DROP TABLE artifact_blobs');
      await tx.run('DROP TABLE metadata_history');
      await tx.run('DROP INDEX runs_by_dataset');
      await tx.run('DROP INDEX metrics_by_name');
      await tx.run('ALTER TABLE models DROP COLUMN description, DROP COLUMN tags');
      await tx.run('ALTER TABLE model_versions DROP COLUMN description');
      await tx.run('ALTER TABLE runs DROP COLUMN note, DROP COLUMN tags');
      await tx.run('UPDATE emb_bench_schema SET version = 4');
    });
    await reg.close();
    const again = await Registry.open(url);
    try {
      expect(again.store.version).toBe(SCHEMA_VERSION);
      expect((await again.store.get<{ n: number }>('SELECT count(*) AS n FROM artifact_blobs'))?.n).toBe(0);
      expect((await again.store.get<{ n: number }>('SELECT count(*) AS n FROM metadata_history'))?.n).toBe(0);
    } finally {
      await again.close();
    }
  });

  it('eight promotions at once leave exactly one production version, and a history that adds up', async () => {
    const url = await server.database();
    await writers(
      url,
      Array.from({ length: 8 }, (_, i) => ['register', 'm', String(i).repeat(64)]),
    );
    await writers(
      url,
      Array.from({ length: 8 }, (_, i) => ['promote', 'm', String(i + 1), 'production']),
    );
    const reg = await Registry.open(url, { readonly: true });
    const versions = (await reg.showModel('m')).versions;
    expect(versions.filter((v) => v.stage === 'production')).toHaveLength(1);
    expect(versions.filter((v) => v.stage === 'archived')).toHaveLength(7);
    // every promotion but the first archived the holder before it: 8 promotions + 7 archivals
    const history = (await Promise.all(versions.map((v) => reg.stageHistory('m', v.version)))).flat();
    expect(history.filter((h) => h.stage === 'production')).toHaveLength(8);
    expect(history.filter((h) => h.stage === 'archived')).toHaveLength(7);
    await reg.close();
  }, 60_000);

  it('two processes migrating a new database at once both succeed', async () => {
    const url = await server.database();
    await writers(url, [
      ['register', 'a', 'a'.repeat(64)],
      ['register', 'b', 'b'.repeat(64)],
      ['register', 'c', 'c'.repeat(64)],
    ]);
    const reg = await Registry.open(url, { readonly: true });
    expect((await reg.listModels()).map((m) => m.name)).toEqual(['a', 'b', 'c']);
    await reg.close();
  }, 60_000);

  it('connection failures are one line naming the server, before any work; the password is never printed', async () => {
    const dir = tmp('emb-pg-');
    const model = writeTinyModel(join(dir, 'm'), { pooling: 'mean', seed: 1 }).dir;
    const data = writeTinyBeir();
    const out = join(dir, 'out');
    const closed = `postgres://emb:${server.password}@127.0.0.1:1/x`;
    const refused = await cli(['--registry', closed, 'eval', model, '--data', data, '--out', out, '--no-cache']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/cannot connect to PostgreSQL at 127\.0\.0\.1:1: connection refused/);
    expect(existsSync(out)).toBe(false); // nothing written: the registry is reached first
    const badPassword = await cli(['--registry', `postgres://emb:wrong-secret@127.0.0.1:${server.port}/postgres`, 'models', 'list']);
    expect(badPassword.code).toBe(2);
    expect(badPassword.stderr.trim().split('\n')).toHaveLength(1);
    expect(badPassword.stderr).toMatch(/127\.0\.0\.1:\d+ refused: password authentication failed for user "emb"/);
    expect(badPassword.stderr).not.toContain('wrong-secret');
    const noDb = await cli(['--registry', `${server.base}missing_db`, 'models', 'list']);
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toMatch(/database "missing_db" does not exist/);
    expect(noDb.stderr).not.toContain(server.password);
    const garbled = await cli(['--registry', 'postgres://emb:pw@127.0.0.1:notaport/db', 'models', 'list']);
    expect(garbled.code).toBe(2);
    expect(garbled.stderr).toMatch(/not a PostgreSQL URL that can be used/);
    expect(garbled.stderr).not.toContain(':pw@');
  }, 60_000);

  it('credentials from PGUSER / PGPASSWORD / PGHOST / PGPORT / PGDATABASE', async () => {
    const url = await server.database();
    const database = url.slice(url.lastIndexOf('/') + 1);
    const env = { PGUSER: server.user, PGPASSWORD: server.password, PGHOST: '127.0.0.1', PGPORT: String(server.port), PGDATABASE: database };
    const dir = tmp('emb-pg-');
    const model = writeTinyModel(join(dir, 'm'), { pooling: 'mean', seed: 1 }).dir;
    const r = await cli(['--registry', 'postgres://', 'eval', model, '--data', writeTinyBeir(), '--out', join(dir, 'o'), '--no-cache'], env);
    expect(r.code, r.stderr).toBe(0);
    const listed = await cli(['--registry', `postgres://127.0.0.1:${server.port}/${database}`, 'models', 'list', '--json'], env);
    expect(JSON.parse(listed.stdout).map((m: { name: string }) => m.name)).toEqual(['m']);
  }, 60_000);

  it('registry copy: SQLite to PostgreSQL and back, the same runs and numbers, and copying again adds nothing', async () => {
    const dir = tmp('emb-pg-');
    const base = writeTinyModel(join(dir, 'base'), { pooling: 'mean', seed: 1 }).dir;
    const tuned = writeTinyModel(join(dir, 'tuned'), { pooling: 'mean', seed: 2 }).dir;
    const data = writeTinyBeir();
    const local = join(dir, 'local.db');
    const args = (out: string) => ['--registry', local, 'compare', base, tuned, '--data', data, '--dims', '8,4', '--out', join(dir, out), '--no-cache'];
    expect((await cli(args('a'))).code).toBe(0);
    writeTinyModel(tuned, { pooling: 'mean', seed: 3 });
    expect((await cli(args('b'))).code).toBe(0);
    expect((await cli(['--registry', local, 'models', 'promote', 'tuned', '2', '--stage', 'production'])).code).toBe(0);

    const shared = await server.database();
    const first = await cli(['registry', 'copy', local, shared, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ models: 2, versions: 3, runs: 2, skipped_runs: 0, notes: [] }); // the CLI prints snake_case
    expect(first.stdout).not.toContain(server.password);
    const again = await cli(['registry', 'copy', local, shared, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ models: 0, versions: 0, runs: 0, skipped_runs: 2 });

    const back = join(dir, 'back.db');
    expect((await cli(['registry', 'copy', shared, back])).code).toBe(0);
    const snapshot = async (location: string) => {
      const reg = await Registry.open(location, { readonly: true });
      const runs = await reg.listRuns();
      const shown = await Promise.all(runs.map((r) => reg.showRun(r.id)));
      const models = await Promise.all((await reg.listModels()).map((m) => reg.showModel(m.name)));
      await reg.close();
      return { runs: shown.map(({ pid: _p, ...r }) => r), models };
    };
    const [a, b, c] = [await snapshot(local), await snapshot(shared), await snapshot(back)];
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(a.models.find((m) => m.name === 'tuned')!.versions.map((v) => v.stage)).toEqual(['none', 'production']);

    // another registry's version 1 of "tuned" is different files: the copy numbers them after
    const other = join(dir, 'other.db');
    writeTinyModel(tuned, { pooling: 'mean', seed: 4 });
    expect((await cli(['--registry', other, 'eval', tuned, '--data', data, '--out', join(dir, 'c'), '--no-cache'])).code).toBe(0);
    const merged = await cli(['registry', 'copy', other, shared, '--json']);
    const summary = JSON.parse(merged.stdout);
    expect(summary).toMatchObject({ versions: 1, runs: 1 });
    expect(summary.notes).toEqual([expect.stringMatching(/model "tuned": version 1 is version 3 in/)]);
  }, 120_000);

  it('the dashboard reads the PostgreSQL registry', async () => {
    const dir = tmp('emb-pg-');
    const url = await server.database();
    const model = writeTinyModel(join(dir, 'm'), { pooling: 'mean', seed: 1 }).dir;
    const r = await cli(['--registry', url, 'eval', model, '--data', writeTinyBeir(), '--out', join(dir, 'o'), '--no-cache', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const metrics = JSON.parse(r.stdout).metrics as Record<string, number>;
    const ndcg = Object.entries(metrics).find(([k]) => k.endsWith('_cosine_ndcg@10'))![1];
    const dashboard = await startDashboard({ registry: url, port: 0 });
    try {
      const models = await (await fetch(dashboard.url)).text();
      expect(models).toContain('>m</a>');
      expect(models).toContain(ndcg.toFixed(4));
      const runs = await (await fetch(`${dashboard.url}runs`)).text();
      expect(runs).toContain('succeeded');
    } finally {
      await dashboard.close();
    }
  }, 60_000);
});
