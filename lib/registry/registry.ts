// A local Model Control Plane in SQLite: models, their versions (same files, same version),
// runs with their status, metrics per model version and dim, ZenML-shaped metadata, and
// artifacts. Every write is one transaction; a busy database is waited for, then retried.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { processAlive } from '../host.js';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { invalidParameter, RuntimeError, UserError } from '../errors.js';
import { metricKey, parseMetricKey } from '../metrics/keys.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

export const STAGES = ['staging', 'production'] as const;
export type Stage = (typeof STAGES)[number];
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';
/** As listed: a `running` run whose process is gone (same host) is `abandoned`. */
export type ListedRunStatus = RunStatus | 'abandoned';

export interface RunFilter {
  model?: string;
  dataset?: string;
  status?: ListedRunStatus;
  command?: string;
  offset?: number;
}

export interface ModelIdentity {
  name: string;
  sha256: string;
  path: string;
  width?: number;
  pooling?: string[];
  prompts?: Record<string, string>;
  tags?: Record<string, string>;
  /** The version's own metadata (e.g. `card`: what its model card says), kept from its first run. */
  metadata?: Record<string, unknown>;
}

export interface RunStart {
  command: string;
  argv: string[];
  dataset?: { name: string; fingerprint: string; counts: Record<string, number> };
  dims?: number[];
  kLists?: unknown;
  software?: Record<string, string>;
  hardware?: Record<string, unknown>;
}

export interface RunModelRecord {
  role: string; // 'model' | 'base' | 'tuned'
  model: ModelIdentity;
  /** `dim_{d}_cosine_{name}` -> value */
  metrics: Record<string, number>;
  /** ZenML-shaped metadata, e.g. { base_model_eval: { 'dim_768_cosine_ndcg@10': 0.71 } } */
  metadata?: Record<string, unknown>;
}

interface VersionRow {
  id: number;
  version: number;
  sha256: string;
  path: string;
  width: number | null;
  pooling: string;
  prompts: string;
  tags: string;
  metadata: string | null;
  stage: string;
  created_at: string;
}

interface RunRow {
  id: string;
  command: string;
  argv: string;
  started_at: string;
  ended_at: string | null;
  status: RunStatus;
  error: string | null;
  dataset_name: string | null;
  dataset_fingerprint: string | null;
  dataset_counts: string | null;
  dims: string | null;
  k_lists: string | null;
  software: string | null;
  hardware: string | null;
  pid: number | null;
  host: string | null;
}

const now = () => new Date().toISOString();

/** `running` in the database, but its process (on this host) is gone. */
function abandoned(r: { status: string; pid: number | null; host: string | null }): boolean {
  return r.status === 'running' && r.pid !== null && r.host === hostname() && !processAlive(r.pid);
}

export function defaultRegistryPath(): string {
  return process.env.EMB_BENCH_REGISTRY ?? resolve('.emb-bench', 'registry.db');
}

export class Registry {
  readonly db: Database.Database;

  /**
   * Opens (or, unless `readonly`, creates) the registry. Read-only opens a registry that
   * commands only read, so a read-only file or folder is no obstacle.
   * @throws UserError when the file is not a registry, is missing (read-only) or is from a newer emb-bench.
   */
  constructor(
    readonly path: string = defaultRegistryPath(),
    { readonly = false } = {},
  ) {
    try {
      if (readonly && !existsSync(path)) throw new UserError(`${path}: no registry here yet (run eval or compare first)`, 'ERR_NOT_FOUND', 'registry');
      if (!readonly) mkdirSync(dirname(resolve(path)), { recursive: true });
      this.db = new Database(path, { readonly, fileMustExist: readonly, timeout: 10000 });
      this.db.pragma('foreign_keys = ON');
      if (!readonly) this.db.pragma('journal_mode = WAL');
      const version = this.db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION)
        throw new UserError(
          `${path}: registry schema ${version} is newer than this emb-bench understands (${SCHEMA_VERSION}); upgrade emb-bench`,
          'ERR_REGISTRY_VERSION',
        );
      if (readonly && version < SCHEMA_VERSION) {
        // An older registry: upgrade it once if the file allows, else read what is there.
        try {
          const rw = new Registry(path);
          rw.close();
        } catch {
          /* read-only file: the reads below may miss newer columns */
        }
      } else if (!readonly) this.migrate();
    } catch (e) {
      if (e instanceof UserError) throw e;
      const code = (e as { code?: string }).code ?? '';
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
        throw new UserError(
          `${path}: not an emb-bench registry (the file is not a readable SQLite database); move it aside or use another registry path`,
          'ERR_REGISTRY',
        );
      throw new RuntimeError(`${path}: cannot open the registry (${(e as Error).message})`, 'ERR_REGISTRY');
    }
  }

  private get version(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION)
      throw new UserError(
        `${this.path}: registry schema ${version} is newer than this emb-bench understands (${SCHEMA_VERSION}); upgrade emb-bench`,
        'ERR_REGISTRY_VERSION',
      );
    if (version === SCHEMA_VERSION) return;
    this.write(() => {
      const current = this.db.pragma('user_version', { simple: true }) as number; // another process may have migrated
      for (let v = current; v < SCHEMA_VERSION; v++) this.db.exec(MIGRATIONS[v]);
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    });
  }

  /** One immediate transaction, retried while another writer holds the lock past the timeout. */
  private write<T>(fn: () => T): T {
    const tx = this.db.transaction(fn);
    for (let attempt = 0; ; attempt++) {
      try {
        return tx.immediate();
      } catch (e) {
        const code = (e as { code?: string }).code ?? '';
        if (code === 'SQLITE_BUSY' && attempt < 20) {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50 + Math.random() * 100);
          continue;
        }
        if (code === 'SQLITE_FULL') throw new RuntimeError(`${this.path}: cannot write the registry: the disk is full`, 'ERR_REGISTRY');
        if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR'))
          throw new RuntimeError(`${this.path}: cannot write the registry (${code})`, 'ERR_REGISTRY');
        throw e;
      }
    }
  }

  close(): void {
    this.db.close();
  }

  startRun(run: RunStart): string {
    const id = randomUUID();
    const j = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
    this.write(() =>
      this.db
        .prepare(
          `INSERT INTO runs (id, command, argv, started_at, status, dataset_name, dataset_fingerprint, dataset_counts, dims, k_lists, software, hardware, pid, host)
           VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          run.command,
          JSON.stringify(run.argv),
          now(),
          run.dataset?.name ?? null,
          run.dataset?.fingerprint ?? null,
          j(run.dataset?.counts),
          j(run.dims),
          j(run.kLists),
          j(run.software),
          j(run.hardware),
          process.pid,
          hostname(),
        ),
    );
    return id;
  }

  private modelVersion(m: ModelIdentity, notes: string[]): number {
    this.db.prepare('INSERT OR IGNORE INTO models (name, created_at) VALUES (?, ?)').run(m.name, now());
    const modelId = (this.db.prepare('SELECT id FROM models WHERE name = ?').get(m.name) as { id: number }).id;
    const existing = this.db.prepare('SELECT id FROM model_versions WHERE model_id = ? AND sha256 = ?').get(modelId, m.sha256) as { id: number } | undefined;
    if (existing) return existing.id;
    const last = this.db.prepare('SELECT version, path FROM model_versions WHERE model_id = ? ORDER BY version DESC LIMIT 1').get(modelId) as
      | { version: number; path: string }
      | undefined;
    const next = (last?.version ?? 0) + 1;
    if (last && resolve(last.path) !== resolve(m.path))
      notes.push(
        `model "${m.name}": version ${next} is ${resolve(m.path)}, version ${last.version} was ${resolve(last.path)}; if these are different models, give them different names`,
      );
    return Number(
      this.db
        .prepare(
          'INSERT INTO model_versions (model_id, version, sha256, path, width, pooling, prompts, tags, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          modelId,
          next,
          m.sha256,
          m.path,
          m.width ?? null,
          JSON.stringify(m.pooling ?? []),
          JSON.stringify(m.prompts ?? {}),
          JSON.stringify(m.tags ?? {}),
          JSON.stringify(m.metadata ?? {}),
          now(),
        ).lastInsertRowid,
    );
  }

  /**
   * Records the run's models, metrics, metadata and artifacts and marks it succeeded, atomically.
   * Returns notes worth telling the user (e.g. a name that now covers files from two folders).
   */
  finishRun(runId: string, models: RunModelRecord[], artifacts: string[] = []): string[] {
    const notes: string[] = [];
    const files = artifacts.map((path) => {
      const bytes = readFileSync(path);
      return { name: path.split(/[\\/]/).pop()!, path: resolve(path), size: statSync(path).size, sha256: createHash('sha256').update(bytes).digest('hex') };
    });
    this.write(() => {
      for (const r of models) {
        const versionId = this.modelVersion(r.model, notes);
        this.db.prepare('INSERT INTO run_models (run_id, model_version_id, role) VALUES (?, ?, ?)').run(runId, versionId, r.role);
        const insert = this.db.prepare('INSERT INTO metrics (run_id, role, model_version_id, dim, name, value) VALUES (?, ?, ?, ?, ?, ?)');
        for (const [key, value] of Object.entries(r.metrics)) {
          const m = parseMetricKey(key);
          if (m) insert.run(runId, r.role, versionId, m.dim, m.name, value);
        }
        for (const [key, value] of Object.entries(r.metadata ?? {}))
          this.db
            .prepare('INSERT INTO metadata (run_id, role, model_version_id, key, value) VALUES (?, ?, ?, ?, ?)')
            .run(runId, r.role, versionId, key, JSON.stringify(value));
      }
      const art = this.db.prepare('INSERT INTO artifacts (run_id, name, path, size, sha256) VALUES (?, ?, ?, ?, ?)');
      for (const f of files) art.run(runId, f.name, f.path, f.size, f.sha256);
      this.db.prepare(`UPDATE runs SET status = 'succeeded', ended_at = ? WHERE id = ?`).run(now(), runId);
    });
    return notes;
  }

  endRun(runId: string, status: 'failed' | 'interrupted', error: string): void {
    this.write(() =>
      this.db.prepare(`UPDATE runs SET status = ?, ended_at = ?, error = ? WHERE id = ? AND status = 'running'`).run(status, now(), error, runId),
    );
  }

  listModels() {
    return this.db
      .prepare(
        `SELECT m.name, COUNT(v.id) AS versions, MAX(v.version) AS latest,
                (SELECT version FROM model_versions WHERE model_id = m.id AND stage = 'production') AS production,
                (SELECT version FROM model_versions WHERE model_id = m.id AND stage = 'staging') AS staging
         FROM models m LEFT JOIN model_versions v ON v.model_id = m.id GROUP BY m.id ORDER BY m.name`,
      )
      .all() as Array<{ name: string; versions: number; latest: number; production: number | null; staging: number | null }>;
  }

  showModel(name: string) {
    const model = this.db.prepare('SELECT id, name, created_at FROM models WHERE name = ?').get(name) as
      | { id: number; name: string; created_at: string }
      | undefined;
    if (!model) throw new UserError(`model "${name}" is not in the registry ${this.path}`, 'ERR_NOT_FOUND');
    const versions = (
      this.db
        .prepare(
          `SELECT id, version, sha256, path, width, pooling, prompts, tags, ${this.version >= 3 ? 'metadata' : 'NULL AS metadata'}, stage, created_at FROM model_versions WHERE model_id = ? ORDER BY version`,
        )
        .all(model.id) as VersionRow[]
    ).map((v) => {
      const latestRun = this.db
        .prepare(
          `SELECT r.id, rm.role FROM runs r JOIN run_models rm ON rm.run_id = r.id WHERE rm.model_version_id = ? AND r.status = 'succeeded' ORDER BY r.ended_at DESC LIMIT 1`,
        )
        .get(v.id) as { id: string; role: string } | undefined;
      // by (run, role): the primary key, not the version index (a base model shared by 10,000 runs)
      const metrics = latestRun
        ? Object.fromEntries(
            (
              this.db
                .prepare(`SELECT dim, name, value FROM metrics WHERE run_id = ? AND ${this.version >= 2 ? 'role' : 'model_version_id'} = ?`)
                .all(latestRun.id, this.version >= 2 ? latestRun.role : v.id) as Array<{
                dim: number;
                name: string;
                value: number;
              }>
            ).map((m) => [metricKey(m.dim, m.name), m.value]),
          )
        : {};
      const { id: _id, ...rest } = v;
      const metadata = JSON.parse(v.metadata ?? '{}') as { card?: { baseModel?: string; baseRevision?: string } };
      return {
        ...rest,
        metadata,
        base_model: this.lineage(metadata.card),
        pooling: JSON.parse(v.pooling),
        prompts: JSON.parse(v.prompts),
        tags: JSON.parse(v.tags),
        latest_run: latestRun?.id ?? null,
        latest_metrics: metrics,
      };
    });
    return { name: model.name, created_at: model.created_at, versions };
  }

  /**
   * The base model a version was fine-tuned from (its card's base_model and revision), and the
   * registry's version of it when the registry has one: same name, and from the Hub, same commit.
   */
  private lineage(card?: { baseModel?: string; baseRevision?: string }): { name: string; revision: string | null; version: number | null } | null {
    if (!card?.baseModel) return null;
    const rows = this.db
      .prepare('SELECT v.version, v.path FROM model_versions v JOIN models m ON m.id = v.model_id WHERE m.name = ? ORDER BY v.version DESC')
      .all(card.baseModel) as Array<{ version: number; path: string }>;
    const match = card.baseRevision ? rows.find((r) => r.path.endsWith(`@${card.baseRevision}`) || r.path.includes(`@${card.baseRevision}`)) : rows[0];
    return { name: card.baseModel, revision: card.baseRevision ?? null, version: match?.version ?? null };
  }

  /** Gives `version` the stage; the previous holder of that stage becomes archived. */
  promote(name: string, version: number, stage: Stage, source = 'cli'): void {
    if (!STAGES.includes(stage)) throw invalidParameter('stage', `one of ${STAGES.join(', ')}`, stage);
    this.write(() => {
      const row = this.versionRow(name, version);
      const at = now();
      const log = this.db.prepare('INSERT INTO stage_history (model_version_id, stage, previous, changed_at, source) VALUES (?, ?, ?, ?, ?)');
      const holders = this.db
        .prepare('SELECT id, stage FROM model_versions WHERE model_id = ? AND stage = ? AND id != ?')
        .all(row.model_id, stage, row.id) as Array<{ id: number; stage: string }>;
      for (const h of holders) {
        this.db.prepare(`UPDATE model_versions SET stage = 'archived' WHERE id = ?`).run(h.id);
        log.run(h.id, 'archived', h.stage, at, source);
      }
      this.db.prepare('UPDATE model_versions SET stage = ? WHERE id = ?').run(stage, row.id);
      log.run(row.id, stage, row.stage, at, source);
    });
  }

  private versionRow(name: string, version: number): { id: number; model_id: number; stage: string; metadata: string } {
    if (!Number.isInteger(version) || version < 1) throw invalidParameter('version', 'a positive integer', version);
    const model = this.db.prepare('SELECT id FROM models WHERE name = ?').get(name) as { id: number } | undefined;
    if (!model) throw new UserError(`model "${name}" is not in the registry ${this.path}`, 'ERR_NOT_FOUND');
    const row = this.db.prepare('SELECT id, model_id, stage, metadata FROM model_versions WHERE model_id = ? AND version = ?').get(model.id, version) as
      | { id: number; model_id: number; stage: string; metadata: string }
      | undefined;
    if (!row) throw new UserError(`model "${name}" has no version ${version}`, 'ERR_NOT_FOUND');
    return row;
  }

  /**
   * Attaches metadata to a model version, as ZenML's log_model_metadata does: nested values,
   * merged key by key into what the version has (a key given again is replaced).
   */
  logMetadata(name: string, version: number, metadata: Record<string, unknown>): Record<string, unknown> {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))
      throw invalidParameter('metadata', 'an object of keys and values', metadata);
    return this.write(() => {
      const row = this.versionRow(name, version);
      const merged = { ...(JSON.parse(row.metadata) as Record<string, unknown>), ...metadata };
      this.db.prepare('UPDATE model_versions SET metadata = ? WHERE id = ?').run(JSON.stringify(merged), row.id);
      return merged;
    });
  }

  /** A version's stage changes, oldest first. */
  stageHistory(name: string, version: number): Array<{ stage: string; previous: string; changed_at: string; source: string }> {
    if (this.version < 4) return [];
    const row = this.versionRow(name, version);
    return this.db.prepare('SELECT stage, previous, changed_at, source FROM stage_history WHERE model_version_id = ? ORDER BY id').all(row.id) as Array<{
      stage: string;
      previous: string;
      changed_at: string;
      source: string;
    }>;
  }

  /**
   * The newest runs first, filtered by model name, dataset name, status or command; a `running`
   * run whose process is gone is listed as `abandoned`.
   */
  listRuns(limit = 50, filter: RunFilter = {}) {
    const hasPid = this.version >= 2;
    const where: string[] = [];
    const args: unknown[] = [];
    const when = (clause: string, ...values: unknown[]) => {
      where.push(clause);
      args.push(...values);
    };
    if (filter.command) when('r.command = ?', filter.command);
    if (filter.dataset) when('r.dataset_name = ?', filter.dataset);
    // abandoned runs are stored as running; which of them are gone is decided below
    if (filter.status) when('r.status = ?', filter.status === 'abandoned' ? 'running' : filter.status);
    if (filter.model)
      when(
        'EXISTS (SELECT 1 FROM run_models rm JOIN model_versions v ON v.id = rm.model_version_id JOIN models m ON m.id = v.model_id WHERE rm.run_id = r.id AND m.name = ?)',
        filter.model,
      );
    const rows = this.db
      .prepare(
        `SELECT r.id, r.command, r.status, r.started_at, r.ended_at, r.dataset_name, ${hasPid ? 'r.pid, r.host' : 'NULL AS pid, NULL AS host'},
                (SELECT group_concat(rm.role || '=' || m.name || ' v' || v.version, ', ') FROM run_models rm
                   JOIN model_versions v ON v.id = rm.model_version_id JOIN models m ON m.id = v.model_id WHERE rm.run_id = r.id) AS models
         FROM runs r ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.started_at DESC LIMIT ? OFFSET ?`,
      )
      .all(...args, limit, filter.offset ?? 0) as Array<{
      id: string;
      command: string;
      status: ListedRunStatus;
      started_at: string;
      ended_at: string | null;
      dataset_name: string | null;
      pid: number | null;
      host: string | null;
      models: string | null;
    }>;
    const listed = rows.map((r) => ({ ...r, status: abandoned(r) ? ('abandoned' as const) : r.status }));
    return filter.status ? listed.filter((r) => r.status === filter.status) : listed;
  }

  /** Every model version, as `name@version`, by name then version. */
  listVersions(): string[] {
    return (
      this.db.prepare('SELECT m.name, v.version FROM model_versions v JOIN models m ON m.id = v.model_id ORDER BY m.name, v.version').all() as Array<{
        name: string;
        version: number;
      }>
    ).map((r) => `${r.name}@${r.version}`);
  }

  /** Distinct values the run filters can take. */
  runFacets(): { models: string[]; datasets: string[]; commands: string[] } {
    const col = (sql: string) => (this.db.prepare(sql).all() as Array<{ v: string }>).map((r) => r.v);
    return {
      models: col('SELECT name AS v FROM models ORDER BY name'),
      datasets: col('SELECT DISTINCT dataset_name AS v FROM runs WHERE dataset_name IS NOT NULL ORDER BY v'),
      commands: col('SELECT DISTINCT command AS v FROM runs ORDER BY v'),
    };
  }

  /** Marks runs left `running` by a process that is gone (this host) as failed; returns their ids. */
  pruneAbandoned(): string[] {
    return this.write(() => {
      const rows = this.db.prepare(`SELECT id, status, pid, host FROM runs WHERE status = 'running'`).all() as Array<{
        id: string;
        status: string;
        pid: number | null;
        host: string | null;
      }>;
      const gone = rows.filter(abandoned);
      const mark = this.db.prepare(`UPDATE runs SET status = 'failed', ended_at = ?, error = ? WHERE id = ? AND status = 'running'`);
      for (const r of gone) mark.run(now(), `abandoned: process ${r.pid} on ${r.host} ended without finishing the run`, r.id);
      return gone.map((r) => r.id);
    });
  }

  private runId(prefix: string): string {
    const rows = this.db.prepare('SELECT id FROM runs WHERE id LIKE ?').all(`${prefix}%`) as Array<{ id: string }>;
    if (rows.length === 0) throw new UserError(`run "${prefix}" is not in the registry ${this.path}`, 'ERR_NOT_FOUND');
    if (rows.length > 1) throw new UserError(`run id "${prefix}" is ambiguous (${rows.length} runs start with it)`, 'ERR_OPTION');
    return rows[0].id;
  }

  showRun(idOrPrefix: string) {
    const id = this.runId(idOrPrefix);
    const run = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow;
    const parse = (v: string | null) => (v === null ? null : JSON.parse(v));
    const models = (
      this.db
        .prepare(
          `SELECT rm.role, m.name, v.version, v.sha256 FROM run_models rm JOIN model_versions v ON v.id = rm.model_version_id JOIN models m ON m.id = v.model_id WHERE rm.run_id = ? ORDER BY rm.role`,
        )
        .all(id) as Array<{ role: string; name: string; version: number; sha256: string }>
    ).map((m) => ({
      role: m.role,
      name: m.name,
      version: m.version,
      sha256: m.sha256,
      metrics: Object.fromEntries(
        (
          this.db.prepare('SELECT dim, name, value FROM metrics WHERE run_id = ? AND role = ? ORDER BY dim DESC, name').all(id, m.role) as Array<{
            dim: number;
            name: string;
            value: number;
          }>
        ).map((r) => [metricKey(r.dim, r.name), r.value]),
      ),
      metadata: Object.fromEntries(
        (this.db.prepare('SELECT key, value FROM metadata WHERE run_id = ? AND role = ?').all(id, m.role) as Array<{ key: string; value: string }>).map((r) => [
          r.key,
          JSON.parse(r.value),
        ]),
      ),
    }));
    const artifacts = this.db.prepare('SELECT name, path, size, sha256 FROM artifacts WHERE run_id = ? ORDER BY name').all(id);
    return {
      ...run,
      status: abandoned(run) ? ('abandoned' as const) : (run.status as ListedRunStatus),
      argv: parse(run.argv),
      dataset_counts: parse(run.dataset_counts),
      dims: parse(run.dims),
      k_lists: parse(run.k_lists),
      software: parse(run.software),
      hardware: parse(run.hardware),
      models,
      artifacts,
    };
  }

  /** Metric by metric, role by role: the two runs' values and the change. */
  diffRuns(a: string, b: string) {
    const [ra, rb] = [this.showRun(a), this.showRun(b)];
    const rows: Array<{ role: string; key: string; a: number | null; b: number | null; change: number | null }> = [];
    const roles = [...new Set([...ra.models, ...rb.models].map((m) => m.role))];
    for (const role of roles) {
      const ma = ra.models.find((m) => m.role === role)?.metrics ?? {};
      const mb = rb.models.find((m) => m.role === role)?.metrics ?? {};
      for (const key of [...new Set([...Object.keys(ma), ...Object.keys(mb)])]) {
        const va = ma[key] ?? null;
        const vb = mb[key] ?? null;
        rows.push({ role, key, a: va, b: vb, change: va !== null && vb !== null ? vb - va : null });
      }
    }
    return { a: ra.id, b: rb.id, rows };
  }
}
