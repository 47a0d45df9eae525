// `emb-bench registry copy FROM TO`: a registry's models, versions, stages, runs, metrics,
// metadata and artifacts (with the bytes it keeps of them) into another (SQLite to PostgreSQL and back), in one transaction of the
// target. Idempotent: versions are matched by model name and sha256, runs by id, so copying
// again adds nothing. Version numbers are kept unless the target already uses them for other files.
import { checkAborted, UserError } from '../errors.js';
import type { Registry } from './registry.js';
import { SCHEMA_VERSION } from './schema.js';
import type { Sql } from './store.js';

export interface CopySummary {
  models: number;
  versions: number;
  runs: number;
  /** Runs the target had already (same id). */
  skippedRuns: number;
  /** What the user should know: renumbered versions, stages left as the target had them. */
  notes: string[];
}

type Row = Record<string, unknown>;

/** Rows by the value of one column. */
function groupBy(rows: Row[], column: string): Map<unknown, Row[]> {
  const out = new Map<unknown, Row[]>();
  for (const r of rows) {
    const list = out.get(r[column]);
    if (list) list.push(r);
    else out.set(r[column], [r]);
  }
  return out;
}

/** Multi-row INSERT of `rows` (same columns), in batches the SQLite variable limit allows. */
async function insertMany(tx: Sql, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  const per = Math.max(1, Math.floor(2000 / columns.length));
  for (let i = 0; i < rows.length; i += per) {
    const batch = rows.slice(i, i + per);
    const values = batch.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
    await tx.run(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}`, ...batch.flat());
  }
}

/**
 * Copies `from` into `to` in one transaction of `to`.
 * @throws InterruptedError once `signal` fires: the transaction is rolled back, nothing is copied.
 */
export async function copyRegistry(from: Registry, to: Registry, { signal }: { signal?: AbortSignal } = {}): Promise<CopySummary> {
  if (from.store.version < SCHEMA_VERSION)
    throw new UserError(
      `${from.path}: registry schema ${from.store.version} is older than ${SCHEMA_VERSION}; open it once writable (any write command) to upgrade it`,
      'ERR_REGISTRY_VERSION',
    );
  const src = from.store;
  const all = (sql: string) => src.all<Row>(sql);
  const models = await all('SELECT id, name, created_at, description, tags FROM models ORDER BY id');
  const versions = await all(
    'SELECT id, model_id, version, sha256, path, width, pooling, prompts, tags, metadata, description, stage, created_at FROM model_versions ORDER BY model_id, version',
  );
  const history = groupBy(await all('SELECT model_version_id, stage, previous, changed_at, source FROM stage_history ORDER BY id'), 'model_version_id');
  const metadataHistory = groupBy(
    await all('SELECT model_version_id, key, old_value, new_value, changed_at, changed_by, source FROM metadata_history ORDER BY id'),
    'model_version_id',
  );
  const runs = await all('SELECT * FROM runs ORDER BY started_at, id');
  const byRun = async (table: string, columns: string) => groupBy(await all(`SELECT run_id, ${columns} FROM ${table}`), 'run_id');
  const runModels = await byRun('run_models', 'model_version_id, role');
  const metrics = await byRun('metrics', 'role, model_version_id, dim, name, value');
  const metadata = await byRun('metadata', 'role, model_version_id, key, value');
  const artifacts = await byRun('artifacts', 'name, path, size, sha256');
  const modelName = new Map(models.map((m) => [m.id as number, m.name as string]));

  const summary = await to.store.write(async (tx) => {
    const summary: CopySummary = { models: 0, versions: 0, runs: 0, skippedRuns: 0, notes: [] };
    const modelId = new Map<string, number>();
    for (const m of models) {
      checkAborted(signal);
      summary.models += await tx.run(
        'INSERT INTO models (name, created_at, description, tags) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
        m.name,
        m.created_at,
        m.description,
        m.tags,
      );
      modelId.set(m.name as string, (await tx.get<{ id: number }>('SELECT id FROM models WHERE name = ?', m.name))!.id);
    }
    const versionId = new Map<number, number>(); // source id -> target id
    for (const v of versions) {
      checkAborted(signal);
      const name = modelName.get(v.model_id as number)!;
      const target = modelId.get(name)!;
      const existing = await tx.get<{ id: number }>('SELECT id FROM model_versions WHERE model_id = ? AND sha256 = ?', target, v.sha256);
      if (existing) {
        versionId.set(v.id as number, existing.id);
        continue;
      }
      const taken = await tx.get<{ id: number }>('SELECT id FROM model_versions WHERE model_id = ? AND version = ?', target, v.version);
      let number = v.version as number;
      if (taken) {
        number = ((await tx.get<{ n: number | null }>('SELECT MAX(version) AS n FROM model_versions WHERE model_id = ?', target))?.n ?? 0) + 1;
        summary.notes.push(`model "${name}": version ${v.version} is version ${number} in ${to.path} (its number there belongs to other files)`);
      }
      let stage = v.stage as string;
      if (stage === 'staging' || stage === 'production') {
        const holder = await tx.get<{ version: number }>('SELECT version FROM model_versions WHERE model_id = ? AND stage = ?', target, stage);
        if (holder) {
          summary.notes.push(
            `model "${name}": version ${number} is ${stage} in ${from.path}, but ${to.path} has version ${holder.version} there; left unstaged`,
          );
          stage = 'none';
        }
      }
      const row = await tx.get<{ id: number }>(
        'INSERT INTO model_versions (model_id, version, sha256, path, width, pooling, prompts, tags, metadata, description, stage, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
        target,
        number,
        v.sha256,
        v.path,
        v.width,
        v.pooling,
        v.prompts,
        v.tags,
        v.metadata,
        v.description,
        stage,
        v.created_at,
      );
      versionId.set(v.id as number, row!.id);
      summary.versions++;
      const changes = history.get(v.id) ?? [];
      await insertMany(
        tx,
        'stage_history',
        ['model_version_id', 'stage', 'previous', 'changed_at', 'source'],
        changes.map((h) => [row!.id, h.stage, h.previous, h.changed_at, h.source]),
      );
      await insertMany(
        tx,
        'metadata_history',
        ['model_version_id', 'key', 'old_value', 'new_value', 'changed_at', 'changed_by', 'source'],
        (metadataHistory.get(v.id) ?? []).map((h) => [row!.id, h.key, h.old_value, h.new_value, h.changed_at, h.changed_by, h.source]),
      );
    }
    const runColumns = Object.keys(runs[0] ?? {});
    const present = new Set((await tx.all<{ id: string }>('SELECT id FROM runs')).map((r) => r.id));
    for (const r of runs) {
      checkAborted(signal);
      if (present.has(r.id as string)) {
        summary.skippedRuns++;
        continue;
      }
      await tx.run(`INSERT INTO runs (${runColumns.join(', ')}) VALUES (${runColumns.map(() => '?').join(', ')})`, ...runColumns.map((c) => r[c]));
      const id = r.id as string;
      const mapped = (row: Row) => versionId.get(row.model_version_id as number);
      await insertMany(
        tx,
        'run_models',
        ['run_id', 'model_version_id', 'role'],
        (runModels.get(id) ?? []).map((m) => [id, mapped(m), m.role]),
      );
      await insertMany(
        tx,
        'metrics',
        ['run_id', 'role', 'model_version_id', 'dim', 'name', 'value'],
        (metrics.get(id) ?? []).map((m) => [id, m.role, mapped(m), m.dim, m.name, m.value]),
      );
      await insertMany(
        tx,
        'metadata',
        ['run_id', 'role', 'model_version_id', 'key', 'value'],
        (metadata.get(id) ?? []).map((m) => [id, m.role, mapped(m), m.key, m.value]),
      );
      await insertMany(
        tx,
        'artifacts',
        ['run_id', 'name', 'path', 'size', 'sha256'],
        (artifacts.get(id) ?? []).map((a) => [id, a.name, a.path, a.size, a.sha256]),
      );
      for (const a of artifacts.get(id) ?? []) {
        const blob = await src.get<{ bytes: Uint8Array }>('SELECT bytes FROM artifact_blobs WHERE sha256 = ?', a.sha256);
        if (blob) await tx.run('INSERT INTO artifact_blobs (sha256, bytes) VALUES (?, ?) ON CONFLICT DO NOTHING', a.sha256, Buffer.from(blob.bytes));
      }
      summary.runs++;
    }
    checkAborted(signal); // the last moment to roll back: a signal now means nothing is committed
    return summary;
  });
  // PostgreSQL after a bulk load: fresh statistics and visibility, so its planner reads the new
  // rows from the indexes at once instead of after autovacuum's next pass
  if (to.store.kind === 'postgres' && summary.runs > 0)
    await to.store.run('VACUUM ANALYZE runs, run_models, metrics, metadata, artifacts, model_versions, models');
  return summary;
}
