// The Model Control Plane: models, their versions (same files, same version), runs with their
// status, metrics per model version and dim, ZenML-shaped metadata, and artifacts; in an
// embedded SQLite file or a shared PostgreSQL database (./store.ts). Every write is one
// transaction that no other writer, on any host, interleaves with.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { processAlive } from '../host.js';
import { resolve } from 'node:path';
import { invalidParameter, UserError } from '../errors.js';
import type { ModelCard } from '../encode/card.js';
import { type KLists, sortMetricNames } from '../metrics/index.js';
import { metricKey, parseMetricKey } from '../metrics/keys.js';
import { openStore, type Sql, type Store } from './store.js';

export const STAGES = ['staging', 'production'] as const;
export type Stage = (typeof STAGES)[number];
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';
/** As listed: a `running` run whose process is gone (same host) is `abandoned`. */
export type ListedRunStatus = RunStatus | 'abandoned';

export interface RunFilter {
  model?: string;
  /** A version of `model`. */
  version?: number;
  /** A dataset name, or a prefix of its fingerprint. */
  dataset?: string;
  status?: ListedRunStatus;
  command?: string;
  /** Runs started at or after this ISO 8601 date or time. */
  since?: string;
  /** Every condition holds for some model of the run. */
  where?: MetricCondition[];
  /** `key` (present) or `key=value`. */
  tag?: string;
  /** Text found in the run's id, note, dataset name or a model's name. */
  search?: string;
  /** Lists each run's value of this metric (`metric_value`: its best model's, the base left out). */
  metric?: { dim: number; name: string };
  /** Newest first (default), or by `metric`. */
  order?: 'newest' | 'metric-desc' | 'metric-asc';
  offset?: number;
}

/** A stage change, as the stage history keeps it. */
export interface StageChange {
  stage: string;
  previous: string;
  changedAt: string;
  /** Where it came from: cli, dashboard, library. */
  source: string;
}

/** A run as `listRuns` lists it. */
export interface ListedRun {
  id: string;
  command: string;
  status: ListedRunStatus;
  startedAt: string;
  endedAt: string | null;
  datasetName: string | null;
  datasetFingerprint: string | null;
  dims: number[] | null;
  pid: number | null;
  host: string | null;
  note: string;
  tags: Record<string, string>;
  /** With `filter.metric`: the run's best model's value of it (the base left out). */
  metricValue: number | null;
  /** `role=name vVERSION, ...` */
  models: string | null;
}

export const CONDITION_OPS = ['>=', '<=', '!=', '>', '<', '='] as const;

/** A metric threshold: `dim_256_cosine_ndcg@10>0.4`, optionally for one role (`tuned.dim_256_cosine_ndcg@10>0.4`). */
export interface MetricCondition {
  role?: string;
  dim: number;
  name: string;
  op: (typeof CONDITION_OPS)[number];
  value: number;
}

/** Parses `[role.]dim_<d>_cosine_<metric><op><number>`. @throws UserError naming the text and what was expected. */
export function parseMetricCondition(text: string): MetricCondition {
  const m =
    /^(?:([A-Za-z0-9_-]+)\.)?(dim_\d+_(?:(?:int8|uint8|binary|ubinary)_)?cosine_[^<>=!\s]+)\s*(>=|<=|!=|>|<|=)\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)$/.exec(
      text.trim(),
    );
  const key = m && parseMetricKey(m[2]);
  if (!m || !key)
    throw new UserError(
      `where: "${text}" is not a metric condition (expected e.g. dim_256_cosine_ndcg@10>0.4 or tuned.dim_256_cosine_ndcg@10>=0.5)`,
      'ERR_OPTION',
      'where',
    );
  return { ...(m[1] ? { role: m[1] } : {}), dim: key.dim, name: key.name, op: m[3] as MetricCondition['op'], value: Number(m[4]) };
}

/** Tag keys: letters, digits and `_ . : -` (they are looked up inside the stored JSON). */
const TAG_KEY = /^[A-Za-z0-9_.:-]{1,100}$/;

/** `key=value` (or a bare `key`, value "") as a tag. @throws UserError on a key outside TAG_KEY. */
export function parseTag(text: string): [string, string] {
  const at = text.indexOf('=');
  const [key, value] = at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
  if (!TAG_KEY.test(key)) throw new UserError(`tag: "${key}" is not a tag key (letters, digits and _ . : - only, 1 to 100 of them)`, 'ERR_OPTION', 'tag');
  return [key, value];
}

/** `since` as an ISO timestamp to compare with started_at: a date or date-time. @throws UserError otherwise. */
function sinceTime(text: string): string {
  const t = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(t))
    throw invalidParameter('since', 'an ISO 8601 date or time, e.g. 2026-12-01 or 2026-12-01T09:00:00Z', text);
  return new Date(t).toISOString();
}

/** Who changes the registry, as its history records it. */
function changedBy(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}@${hostname()}`;
  }
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

/** Bytes of one artifact the registry keeps itself; a larger file is a checked reference (its path and sha256). */
export const ARTIFACT_STORE_LIMIT = 64 << 20;

/** An output file: where it will be (`path`), and where its bytes are now (`staged`, before the outputs move into place). */
export interface ArtifactFile {
  path: string;
  staged: string;
}

export interface ArtifactRow {
  name: string;
  path: string;
  size: number;
  sha256: string;
}

/** What a run wrote, or why it cannot be shown. */
export type ArtifactContent = { artifact: ArtifactRow; bytes: Buffer; problem?: undefined } | { artifact: ArtifactRow; bytes?: undefined; problem: string };

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
  /** From schema 6. */
  note?: string;
  tags?: string;
}

const now = () => new Date().toISOString();

/** `running` in the database, but its process (on this host) is gone. */
function abandoned(r: { status: string; pid: number | null; host: string | null }): boolean {
  return r.status === 'running' && r.pid !== null && r.host === hostname() && !processAlive(r.pid);
}

/** `--registry`, else EMB_BENCH_REGISTRY, else ./.emb-bench/registry.db: a SQLite path or a postgres:// URL. */
export function defaultRegistryPath(): string {
  return process.env.EMB_BENCH_REGISTRY ?? resolve('.emb-bench', 'registry.db');
}

export type ShownModel = Awaited<ReturnType<Registry['showModel']>>;
export type ShownRun = Awaited<ReturnType<Registry['showRun']>>;

export class Registry {
  private constructor(readonly store: Store) {}

  /**
   * Opens (or, unless `readonly`, creates and migrates) the registry at `location`: a SQLite
   * file path or a `postgres://user@host:port/db` URL (credentials also from PG* variables).
   * Read-only opens a registry that commands only read (a read-only file is no obstacle; a
   * PostgreSQL session is read-only).
   * @throws UserError when it is not a registry, is missing (read-only), is from a newer
   * emb-bench, or the server refuses; RuntimeError when it cannot be reached.
   */
  static async open(location: string = defaultRegistryPath(), { readonly = false } = {}): Promise<Registry> {
    return new Registry(await openStore(location, readonly));
  }

  /** Where the registry is, as shown to users (a PostgreSQL URL without its password). */
  get path(): string {
    return this.store.location;
  }

  private get version(): number {
    return this.store.version;
  }

  close(): Promise<void> {
    return this.store.close();
  }

  async startRun(run: RunStart): Promise<string> {
    const id = randomUUID();
    const j = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
    await this.store.write((tx) =>
      tx.run(
        `INSERT INTO runs (id, command, argv, started_at, status, dataset_name, dataset_fingerprint, dataset_counts, dims, k_lists, software, hardware, pid, host)
         VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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

  /** The version id of these model files (same name and sha256: same version), creating it if new. Inside a write. */
  private async modelVersion(tx: Sql, m: ModelIdentity, notes: string[]): Promise<number> {
    await tx.run('INSERT INTO models (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING', m.name, now());
    const modelId = (await tx.get<{ id: number }>('SELECT id FROM models WHERE name = ?', m.name))!.id;
    const existing = await tx.get<{ id: number }>('SELECT id FROM model_versions WHERE model_id = ? AND sha256 = ?', modelId, m.sha256);
    if (existing) return existing.id;
    const last = await tx.get<{ version: number; path: string }>(
      'SELECT version, path FROM model_versions WHERE model_id = ? ORDER BY version DESC LIMIT 1',
      modelId,
    );
    const next = (last?.version ?? 0) + 1;
    // checkpoints of one training run are versions of one model by design
    const run = (m.metadata?.training as { run?: string } | undefined)?.run;
    const sameRun = run !== undefined && resolve(last?.path ?? '').startsWith(resolve(run));
    if (last && resolve(last.path) !== resolve(m.path) && !sameRun)
      notes.push(
        `model "${m.name}": version ${next} is ${resolve(m.path)}, version ${last.version} was ${resolve(last.path)}; if these are different models, give them different names`,
      );
    const row = await tx.get<{ id: number }>(
      'INSERT INTO model_versions (model_id, version, sha256, path, width, pooling, prompts, tags, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
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
    );
    return row!.id;
  }

  /**
   * Records the run's models, metrics, metadata and artifacts and marks it succeeded, atomically.
   * Returns notes worth telling the user (e.g. a name that now covers files from two folders).
   */
  async finishRun(runId: string, models: RunModelRecord[], artifacts: Array<string | ArtifactFile> = []): Promise<string[]> {
    const files = artifacts.map((a) => {
      const { path, staged } = typeof a === 'string' ? { path: a, staged: a } : a;
      const size = statSync(staged).size;
      const bytes = readFileSync(staged);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      return { name: path.split(/[\\/]/).pop()!, path: resolve(path), size, sha256, kept: size <= ARTIFACT_STORE_LIMIT ? bytes : null };
    });
    return this.store.write(async (tx) => {
      const notes: string[] = [];
      for (const r of models) {
        const versionId = await this.modelVersion(tx, r.model, notes);
        await tx.run('INSERT INTO run_models (run_id, model_version_id, role) VALUES (?, ?, ?)', runId, versionId, r.role);
        for (const [key, value] of Object.entries(r.metrics)) {
          const m = parseMetricKey(key);
          if (m)
            await tx.run(
              'INSERT INTO metrics (run_id, role, model_version_id, dim, name, value) VALUES (?, ?, ?, ?, ?, ?)',
              runId,
              r.role,
              versionId,
              m.dim,
              m.name,
              value,
            );
        }
        for (const [key, value] of Object.entries(r.metadata ?? {}))
          await tx.run(
            'INSERT INTO metadata (run_id, role, model_version_id, key, value) VALUES (?, ?, ?, ?, ?)',
            runId,
            r.role,
            versionId,
            key,
            JSON.stringify(value),
          );
      }
      for (const f of files) {
        await tx.run('INSERT INTO artifacts (run_id, name, path, size, sha256) VALUES (?, ?, ?, ?, ?)', runId, f.name, f.path, f.size, f.sha256);
        if (f.kept) await tx.run('INSERT INTO artifact_blobs (sha256, bytes) VALUES (?, ?) ON CONFLICT DO NOTHING', f.sha256, f.kept);
      }
      await tx.run(`UPDATE runs SET status = 'succeeded', ended_at = ? WHERE id = ?`, now(), runId);
      return notes;
    });
  }

  /**
   * A run's artifact as the run wrote it: its bytes from the registry (or, for a file past
   * ARTIFACT_STORE_LIMIT, from its path), only when their sha256 is the recorded one; else why not.
   * null when the run has no artifact of that name.
   */
  async artifact(runId: string, name: string, { maxBytes = Number.POSITIVE_INFINITY } = {}): Promise<ArtifactContent | null> {
    const artifact = await this.store.get<ArtifactRow>('SELECT name, path, size, sha256 FROM artifacts WHERE run_id = ? AND name = ?', runId, name);
    if (!artifact) return null;
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    const blob = await this.store.get<{ bytes: Uint8Array }>('SELECT bytes FROM artifact_blobs WHERE sha256 = ?', artifact.sha256);
    if (blob) {
      const bytes = Buffer.from(blob.bytes);
      return sha(bytes) === artifact.sha256 ? { artifact, bytes } : { artifact, problem: 'its stored bytes no longer match the sha256 the run recorded' };
    }
    // a checked reference: the file at its path, if it is still what the run wrote
    if (artifact.size > maxBytes) return { artifact, problem: `it is ${artifact.size} bytes, more than ${maxBytes}` };
    let bytes: Buffer;
    try {
      bytes = readFileSync(artifact.path);
    } catch {
      return { artifact, problem: `changed or missing since this run (${artifact.path} cannot be read)` };
    }
    return sha(bytes) === artifact.sha256 ? { artifact, bytes } : { artifact, problem: `changed or missing since this run (${artifact.path} has other bytes)` };
  }

  /**
   * Takes back a run recorded as succeeded whose outputs then could not be put in place: it is
   * failed, with no metrics, metadata or artifacts (their bytes stay only where other runs use them).
   */
  async revokeRun(runId: string, error: string): Promise<void> {
    await this.store.write(async (tx) => {
      for (const table of ['metrics', 'metadata', 'artifacts', 'run_models']) await tx.run(`DELETE FROM ${table} WHERE run_id = ?`, runId);
      await tx.run('DELETE FROM artifact_blobs WHERE sha256 NOT IN (SELECT sha256 FROM artifacts)');
      await tx.run(`UPDATE runs SET status = 'failed', ended_at = ?, error = ? WHERE id = ?`, now(), error, runId);
    });
  }

  async endRun(runId: string, status: 'failed' | 'interrupted', error: string): Promise<void> {
    await this.store.write((tx) =>
      tx.run(`UPDATE runs SET status = ?, ended_at = ?, error = ? WHERE id = ? AND status = 'running'`, status, now(), error, runId),
    );
  }

  listModels() {
    return this.store.all<{ name: string; versions: number; latest: number; production: number | null; staging: number | null }>(
      `SELECT m.name, COUNT(v.id) AS versions, MAX(v.version) AS latest,
              (SELECT version FROM model_versions WHERE model_id = m.id AND stage = 'production') AS production,
              (SELECT version FROM model_versions WHERE model_id = m.id AND stage = 'staging') AS staging
       FROM models m LEFT JOIN model_versions v ON v.model_id = m.id GROUP BY m.id, m.name ORDER BY m.name`,
    );
  }

  /**
   * A model, its versions, and what each version's runs measured: per dataset (name and
   * fingerprint) the latest succeeded run's metrics, and across datasets the latest run's. A few
   * batched queries, however many versions and runs.
   */
  async showModel(name: string) {
    const v6 = this.version >= 6;
    const model = await this.store.get<{ id: number; name: string; created_at: string; description: string; tags: string }>(
      `SELECT id, name, created_at, ${v6 ? 'description, tags' : `'' AS description, '{}' AS tags`} FROM models WHERE name = ?`,
      name,
    );
    if (!model) throw new UserError(`model "${name}" is not in the registry ${this.path}`, 'ERR_NOT_FOUND');
    const rows = await this.store.all<VersionRow & { description: string }>(
      `SELECT id, version, sha256, path, width, pooling, prompts, tags, ${this.version >= 3 ? 'metadata' : 'NULL AS metadata'}, ${v6 ? 'description' : `'' AS description`}, stage, created_at FROM model_versions WHERE model_id = ? ORDER BY version`,
      model.id,
    );
    // every succeeded run of every version, newest first
    const links = await this.store.all<{
      version_id: number;
      run_id: string;
      role: string;
      dataset_name: string | null;
      dataset_fingerprint: string | null;
      ended_at: string;
    }>(
      `SELECT rm.model_version_id AS version_id, r.id AS run_id, rm.role, r.dataset_name, r.dataset_fingerprint, r.ended_at
       FROM run_models rm JOIN runs r ON r.id = rm.run_id JOIN model_versions v ON v.id = rm.model_version_id
       WHERE v.model_id = ? AND r.status = 'succeeded' ORDER BY r.ended_at DESC, r.id`,
      model.id,
    );
    type Link = (typeof links)[number];
    const latest = new Map<number, Link>();
    const perDataset = new Map<number, Map<string, { link: Link; runs: number }>>();
    for (const l of links) {
      if (!latest.has(l.version_id)) latest.set(l.version_id, l);
      const byData = perDataset.get(l.version_id) ?? new Map<string, { link: Link; runs: number }>();
      perDataset.set(l.version_id, byData);
      const key = l.dataset_fingerprint ?? '';
      const seen = byData.get(key);
      if (seen) seen.runs++;
      else byData.set(key, { link: l, runs: 1 });
    }
    // the metrics of those (run, role) pairs: keyed by role from schema 2, by version before
    const wanted = [...new Set([...latest.values(), ...[...perDataset.values()].flatMap((m) => [...m.values()].map((x) => x.link))])];
    const metricsOf = new Map<string, Record<string, number>>();
    const pairKey = (runId: string, roleOrVersion: string | number) => `${runId}\t${roleOrVersion}`;
    const runIds = [...new Set(wanted.map((l) => l.run_id))];
    for (let i = 0; i < runIds.length; i += 500) {
      const chunk = runIds.slice(i, i + 500);
      const got = await this.store.all<{ run_id: string; role: string | null; model_version_id: number; dim: number; name: string; value: number }>(
        `SELECT run_id, ${this.version >= 2 ? 'role' : 'NULL AS role'}, model_version_id, dim, name, value FROM metrics WHERE run_id IN (${chunk.map(() => '?').join(', ')})`,
        ...chunk,
      );
      for (const m of got) {
        const key = pairKey(m.run_id, this.version >= 2 ? m.role! : m.model_version_id);
        const into = metricsOf.get(key) ?? {};
        into[metricKey(m.dim, m.name)] = m.value;
        metricsOf.set(key, into);
      }
    }
    const metricsFor = (l: Link | undefined) => (l ? (metricsOf.get(pairKey(l.run_id, this.version >= 2 ? l.role : l.version_id)) ?? {}) : {});
    const lineage = new Map<string, Awaited<ReturnType<Registry['lineage']>>>();
    const versions = [];
    for (const v of rows) {
      const { id: _id, created_at, ...rest } = v;
      const metadata = JSON.parse(v.metadata ?? '{}') as Record<string, unknown> & { card?: ModelCard };
      const card = metadata.card;
      const lineageKey = `${card?.baseModel ?? ''}\t${card?.baseRevision ?? ''}`;
      if (!lineage.has(lineageKey)) lineage.set(lineageKey, await this.lineage(card));
      const last = latest.get(v.id);
      versions.push({
        ...rest,
        createdAt: created_at,
        metadata,
        baseModel: lineage.get(lineageKey) ?? null,
        pooling: JSON.parse(v.pooling) as string[],
        prompts: JSON.parse(v.prompts) as Record<string, string>,
        tags: JSON.parse(v.tags) as Record<string, string>,
        latestRun: last?.run_id ?? null,
        /** The version's role in its latest run. */
        latestRole: last?.role ?? null,
        /** The latest run's dataset: the dataset `latestMetrics` were measured on. */
        latestDataset: last ? { name: last.dataset_name, fingerprint: last.dataset_fingerprint } : null,
        latestMetrics: metricsFor(last),
        /** Per dataset, newest first: how many runs, and the latest run's metrics. */
        datasets: [...(perDataset.get(v.id)?.values() ?? [])].map(({ link, runs }) => ({
          name: link.dataset_name,
          fingerprint: link.dataset_fingerprint,
          runs,
          latestRun: link.run_id,
          role: link.role,
          metrics: metricsFor(link),
        })),
      });
    }
    // the datasets any version was measured on, most recent first, each with its newest runs
    const versionOf = new Map(rows.map((v) => [v.id, v.version]));
    const datasetMap = new Map<
      string,
      { name: string | null; fingerprint: string | null; runs: number; recent: Array<{ run: string; role: string; version: number; endedAt: string }> }
    >();
    for (const l of links) {
      const key = l.dataset_fingerprint ?? '';
      const d = datasetMap.get(key) ?? { name: l.dataset_name, fingerprint: l.dataset_fingerprint, runs: 0, recent: [] };
      datasetMap.set(key, d);
      d.runs++;
      if (d.recent.length < 10) d.recent.push({ run: l.run_id, role: l.role, version: versionOf.get(l.version_id)!, endedAt: l.ended_at });
    }
    const datasets = [...datasetMap.values()];
    return {
      name: model.name,
      createdAt: model.created_at,
      description: model.description,
      tags: JSON.parse(model.tags) as Record<string, string>,
      datasets,
      versions,
    };
  }

  /** Several runs' hardware and their models' metadata (by role), in two queries. */
  async runDetails(ids: string[]): Promise<Map<string, { hardware: Record<string, unknown> | null; metadata: Record<string, Record<string, unknown>> }>> {
    const out = new Map<string, { hardware: Record<string, unknown> | null; metadata: Record<string, Record<string, unknown>> }>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const marks = chunk.map(() => '?').join(', ');
      for (const r of await this.store.all<{ id: string; hardware: string | null }>(`SELECT id, hardware FROM runs WHERE id IN (${marks})`, ...chunk))
        out.set(r.id, { hardware: r.hardware === null ? null : (JSON.parse(r.hardware) as Record<string, unknown>), metadata: {} });
      const rows = await this.store.all<{ run_id: string; role: string; key: string; value: string }>(
        `SELECT run_id, ${this.version >= 2 ? 'role' : `'' AS role`}, key, value FROM metadata WHERE run_id IN (${marks})`,
        ...chunk,
      );
      for (const m of rows) {
        const d = out.get(m.run_id);
        if (d) (d.metadata[m.role] ??= {})[m.key] = JSON.parse(m.value);
      }
    }
    return out;
  }

  /**
   * Every model with its version count, stages, and its latest version's latest succeeded run:
   * the run, the dataset it read, and `metric` (each of several names) at each dim there. A query per model at most.
   */
  async modelsOverview(metric: string | string[]) {
    const names = Array.isArray(metric) ? metric : [metric];
    const models = await this.listModels();
    const out = [];
    for (const m of models) {
      const last = await this.store.get<{ run_id: string; role: string; version_id: number; dataset_name: string | null; dataset_fingerprint: string | null }>(
        `SELECT r.id AS run_id, rm.role, v.id AS version_id, r.dataset_name, r.dataset_fingerprint
         FROM models mo JOIN model_versions v ON v.model_id = mo.id JOIN run_models rm ON rm.model_version_id = v.id JOIN runs r ON r.id = rm.run_id
         WHERE mo.name = ? AND v.version = ? AND r.status = 'succeeded' ORDER BY r.ended_at DESC, r.id LIMIT 1`,
        m.name,
        m.latest,
      );
      const values = last
        ? await this.store.all<{ dim: number; name: string; value: number }>(
            `SELECT dim, name, value FROM metrics WHERE run_id = ? AND ${this.version >= 2 ? 'role' : 'model_version_id'} = ? AND name IN (${names.map(() => '?').join(', ')}) ORDER BY dim DESC`,
            last.run_id,
            this.version >= 2 ? last.role : last.version_id,
            ...names,
          )
        : [];
      out.push({
        ...m,
        latestRun: last?.run_id ?? null,
        latestDataset: last ? { name: last.dataset_name, fingerprint: last.dataset_fingerprint } : null,
        metrics: Object.fromEntries(values.map((v) => [metricKey(v.dim, v.name), v.value])),
      });
    }
    return out;
  }

  /**
   * The base model a version was fine-tuned from (its card's base_model and revision), and the
   * registry's version of it when the registry has one: same name, and from the Hub, same commit.
   */
  private async lineage(card?: {
    baseModel?: string;
    baseRevision?: string;
  }): Promise<{ name: string; revision: string | null; version: number | null } | null> {
    if (!card?.baseModel) return null;
    const rows = await this.store.all<{ version: number; path: string }>(
      'SELECT v.version, v.path FROM model_versions v JOIN models m ON m.id = v.model_id WHERE m.name = ? ORDER BY v.version DESC',
      card.baseModel,
    );
    const match = card.baseRevision ? rows.find((r) => r.path.includes(`@${card.baseRevision}`)) : rows[0];
    return { name: card.baseModel, revision: card.baseRevision ?? null, version: match?.version ?? null };
  }

  /** Gives `version` (or the latest) the stage; the previous holder becomes archived. Returns the version promoted. */
  async promote(name: string, version: number | 'latest', stage: Stage, source = 'cli'): Promise<number> {
    if (!STAGES.includes(stage)) throw invalidParameter('stage', `one of ${STAGES.join(', ')}`, stage);
    return this.store.write(async (tx) => {
      const row = await this.versionRow(tx, name, version);
      const at = now();
      const log = (id: number, to: string, from: string) =>
        tx.run('INSERT INTO stage_history (model_version_id, stage, previous, changed_at, source) VALUES (?, ?, ?, ?, ?)', id, to, from, at, source);
      const holders = await tx.all<{ id: number; stage: string }>(
        'SELECT id, stage FROM model_versions WHERE model_id = ? AND stage = ? AND id != ?',
        row.model_id,
        stage,
        row.id,
      );
      for (const h of holders) {
        await tx.run(`UPDATE model_versions SET stage = 'archived' WHERE id = ?`, h.id);
        await log(h.id, 'archived', h.stage);
      }
      await tx.run('UPDATE model_versions SET stage = ? WHERE id = ?', stage, row.id);
      await log(row.id, stage, row.stage);
      return (await tx.get<{ version: number }>('SELECT version FROM model_versions WHERE id = ?', row.id))!.version;
    });
  }

  /** A version's row; `latest` is the highest version number. */
  private async versionRow(sql: Sql, name: string, version: number | 'latest'): Promise<{ id: number; model_id: number; stage: string; metadata: string }> {
    if (version !== 'latest' && (!Number.isInteger(version) || version < 1)) throw invalidParameter('version', "a positive integer or 'latest'", version);
    const model = await sql.get<{ id: number }>('SELECT id FROM models WHERE name = ?', name);
    if (!model) throw new UserError(`model "${name}" is not in the registry ${this.path}`, 'ERR_NOT_FOUND');
    const row = await sql.get<{ id: number; model_id: number; stage: string; metadata: string }>(
      `SELECT id, model_id, stage, ${this.version >= 3 ? 'metadata' : `'{}' AS metadata`} FROM model_versions WHERE model_id = ? AND ${
        version === 'latest' ? 'version = (SELECT MAX(version) FROM model_versions WHERE model_id = ?)' : 'version = ?'
      }`,
      model.id,
      version === 'latest' ? model.id : version,
    );
    if (!row) throw new UserError(`model "${name}" has no version ${version}`, 'ERR_NOT_FOUND');
    return row;
  }

  /**
   * Attaches metadata to a version, as ZenML's log_model_metadata does: nested objects merge into
   * what was logged before (`training_params.learning_rate` keeps `training_params.batch_size`);
   * with `replace`, each top-level key given replaces its whole value. Every top-level key that
   * changes is kept in the version's metadata history (who, when, the old value and the new).
   * Returns the version's metadata.
   */
  async logMetadata(
    name: string,
    version: number | 'latest',
    metadata: Record<string, unknown>,
    { replace = false, source = 'library' }: { replace?: boolean; source?: string } = {},
  ): Promise<Record<string, unknown>> {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))
      throw invalidParameter('metadata', 'an object of keys and values', metadata);
    return this.store.write(async (tx) => {
      const row = await this.versionRow(tx, name, version);
      const before = JSON.parse(row.metadata) as Record<string, unknown>;
      const merged = replace ? { ...before, ...metadata } : mergeObjects(before, metadata);
      await tx.run('UPDATE model_versions SET metadata = ? WHERE id = ?', JSON.stringify(merged), row.id);
      const at = now();
      const by = changedBy();
      for (const key of Object.keys(metadata)) {
        const [old, value] = [before[key] === undefined ? null : JSON.stringify(before[key]), JSON.stringify(merged[key])];
        if (old !== value)
          await tx.run(
            'INSERT INTO metadata_history (model_version_id, key, old_value, new_value, changed_at, changed_by, source) VALUES (?, ?, ?, ?, ?, ?, ?)',
            row.id,
            key,
            old,
            value,
            at,
            by,
            source,
          );
      }
      return merged;
    });
  }

  /** A version's metadata changes, oldest first: the top-level key, its old and new values (null: absent), when, who, from where. */
  async metadataHistory(name: string, version: number | 'latest') {
    const row = await this.versionRow(this.store, name, version);
    const rows = await this.store.all<{
      key: string;
      old_value: string | null;
      new_value: string | null;
      changed_at: string;
      changed_by: string;
      source: string;
    }>('SELECT key, old_value, new_value, changed_at, changed_by, source FROM metadata_history WHERE model_version_id = ? ORDER BY id', row.id);
    const parse = (v: string | null) => (v === null ? null : (JSON.parse(v) as unknown));
    return rows.map((r) => ({
      key: r.key,
      old: parse(r.old_value),
      new: parse(r.new_value),
      changedAt: r.changed_at,
      changedBy: r.changed_by,
      source: r.source,
    }));
  }

  /** Sets a description on a model (version undefined) or one version. */
  async describe(name: string, version: number | 'latest' | undefined, text: string): Promise<void> {
    await this.store.write(async (tx) => {
      if (version === undefined) {
        if (!(await tx.run('UPDATE models SET description = ? WHERE name = ?', text, name)))
          throw new UserError(`model "${name}" is not in the registry ${this.path}`, 'ERR_NOT_FOUND');
      } else await tx.run('UPDATE model_versions SET description = ? WHERE id = ?', text, (await this.versionRow(tx, name, version)).id);
    });
  }

  /** Adds (`key=value`) and removes tags of a model (version undefined) or one version; returns its tags. */
  async tagModel(name: string, version: number | 'latest' | undefined, set: Record<string, string>, remove: string[] = []): Promise<Record<string, string>> {
    return this.store.write(async (tx) => {
      const [table, id] =
        version === undefined
          ? ['models', (await tx.get<{ id: number }>('SELECT id FROM models WHERE name = ?', name))?.id]
          : ['model_versions', (await this.versionRow(tx, name, version)).id];
      if (id === undefined) throw new UserError(`model "${name}" is not in the registry ${this.path}`, 'ERR_NOT_FOUND');
      return this.retag(tx, table, id, set, remove);
    });
  }

  /** Adds and removes a run's tags; returns them. */
  async tagRun(idOrPrefix: string, set: Record<string, string>, remove: string[] = []): Promise<Record<string, string>> {
    const id = await this.runId(idOrPrefix);
    return this.store.write((tx) => this.retag(tx, 'runs', id, set, remove));
  }

  private async retag(tx: Sql, table: string, id: number | string, set: Record<string, string>, remove: string[]): Promise<Record<string, string>> {
    for (const key of [...Object.keys(set), ...remove]) parseTag(key);
    const row = await tx.get<{ tags: string }>(`SELECT tags FROM ${table} WHERE id = ?`, id);
    const tags = { ...(JSON.parse(row?.tags ?? '{}') as Record<string, string>), ...set };
    for (const key of remove) delete tags[key];
    await tx.run(`UPDATE ${table} SET tags = ? WHERE id = ?`, JSON.stringify(tags), id);
    return tags;
  }

  /** Sets a run's note (why it was run). */
  async noteRun(idOrPrefix: string, text: string): Promise<string> {
    const id = await this.runId(idOrPrefix);
    await this.store.write((tx) => tx.run('UPDATE runs SET note = ? WHERE id = ?', text, id));
    return id;
  }

  /**
   * Steps a version down by hand: production to staging, staging to none (`demote`), or any
   * stage to archived (`archive`); kept in its stage history. Returns the new stage.
   */
  async demote(name: string, version: number | 'latest', how: 'demote' | 'archive', source = 'library'): Promise<string> {
    return this.store.write(async (tx) => {
      const row = await this.versionRow(tx, name, version);
      const to = how === 'archive' ? 'archived' : row.stage === 'production' ? 'staging' : row.stage === 'staging' ? 'none' : null;
      if (to === null)
        throw new UserError(
          `model "${name}" version ${version}: ${row.stage === 'none' ? 'has no stage' : `is ${row.stage}`}; only staging and production step down`,
          'ERR_OPTION',
        );
      if (to === row.stage) return to;
      await tx.run('UPDATE model_versions SET stage = ? WHERE id = ?', to, row.id);
      await tx.run(
        'INSERT INTO stage_history (model_version_id, stage, previous, changed_at, source) VALUES (?, ?, ?, ?, ?)',
        row.id,
        to,
        row.stage,
        now(),
        source,
      );
      return to;
    });
  }

  /**
   * Deletes a run: its models' links, metrics, metadata and artifacts, and the artifacts' bytes no
   * other run holds. The versions stay. A run still running (its process alive) is refused.
   */
  async deleteRun(idOrPrefix: string): Promise<{ id: string; artifacts: number }> {
    const id = await this.runId(idOrPrefix);
    return this.store.write(async (tx) => {
      const run = (await tx.get<{ status: string; pid: number | null; host: string | null }>('SELECT status, pid, host FROM runs WHERE id = ?', id))!;
      if (run.status === 'running' && !abandoned(run))
        throw new UserError(`run ${id} is still running (process ${run.pid} on ${run.host}); stop it first`, 'ERR_OPTION');
      const blobs = (await tx.all<{ sha256: string }>('SELECT DISTINCT sha256 FROM artifacts WHERE run_id = ?', id)).map((r) => r.sha256);
      for (const table of ['metrics', 'metadata', 'artifacts', 'run_models']) await tx.run(`DELETE FROM ${table} WHERE run_id = ?`, id);
      await tx.run('DELETE FROM runs WHERE id = ?', id);
      for (const sha of blobs) await tx.run('DELETE FROM artifact_blobs WHERE sha256 = ? AND NOT EXISTS (SELECT 1 FROM artifacts WHERE sha256 = ?)', sha, sha);
      return { id, artifacts: blobs.length };
    });
  }

  /** Every version's stage changes, oldest first, keyed by version: one query. */
  async stageHistories(name: string): Promise<Record<number, StageChange[]>> {
    if (this.version < 4) return {};
    const rows = await this.store.all<{ version: number; stage: string; previous: string; changed_at: string; source: string }>(
      'SELECT v.version, h.stage, h.previous, h.changed_at, h.source FROM stage_history h JOIN model_versions v ON v.id = h.model_version_id JOIN models m ON m.id = v.model_id WHERE m.name = ? ORDER BY h.id',
      name,
    );
    const out: Record<number, StageChange[]> = {};
    for (const { version, changed_at, ...h } of rows) (out[version] ??= []).push({ ...h, changedAt: changed_at });
    return out;
  }

  /** A version's stage changes, oldest first. */
  async stageHistory(name: string, version: number): Promise<StageChange[]> {
    if (this.version < 4) return [];
    const row = await this.versionRow(this.store, name, version);
    const rows = await this.store.all<{ stage: string; previous: string; changed_at: string; source: string }>(
      'SELECT stage, previous, changed_at, source FROM stage_history WHERE model_version_id = ? ORDER BY id',
      row.id,
    );
    return rows.map(({ changed_at, ...h }) => ({ ...h, changedAt: changed_at }));
  }

  /**
   * The newest runs first, filtered by model name, dataset name, status or command; a `running`
   * run whose process is gone is listed as `abandoned`.
   */
  async listRuns(limit = 50, filter: RunFilter = {}): Promise<ListedRun[]> {
    const hasPid = this.version >= 2;
    if (filter.order && filter.order !== 'newest' && !filter.metric) throw new UserError(`order: ${filter.order} needs a metric`, 'ERR_OPTION', 'order');
    // runs without the metric last, whichever the direction
    const order = filter.order === 'metric-desc' ? 'mv.value DESC NULLS LAST,' : filter.order === 'metric-asc' ? 'mv.value ASC NULLS LAST,' : '';
    const where: string[] = [];
    const args: unknown[] = [];
    const when = (clause: string, ...values: unknown[]) => {
      where.push(clause);
      args.push(...values);
    };
    if (filter.command) when('r.command = ?', filter.command);
    if (filter.dataset) {
      // a name, or (8 hex digits or more) the start of a fingerprint
      if (/^[0-9a-f]{8,64}$/i.test(filter.dataset))
        when('(r.dataset_name = ? OR r.dataset_fingerprint LIKE ?)', filter.dataset, `${filter.dataset.toLowerCase()}%`);
      else when('r.dataset_name = ?', filter.dataset);
    }
    if (filter.since) when('r.started_at >= ?', sinceTime(filter.since));
    if (filter.tag !== undefined) {
      const [key, value] = parseTag(filter.tag);
      if (filter.tag.includes('=')) when(`${this.store.jsonText('r.tags')} = ?`, key, value);
      else when(`${this.store.jsonText('r.tags')} IS NOT NULL`, key);
    }
    if (filter.search) {
      const like = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      when(
        `(r.id LIKE ? ESCAPE '\\' OR ${this.version >= 6 ? `r.note LIKE ? ESCAPE '\\'` : '? IS NULL'} OR r.dataset_name LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM run_models rm JOIN model_versions v ON v.id = rm.model_version_id JOIN models m ON m.id = v.model_id WHERE rm.run_id = r.id AND m.name LIKE ? ESCAPE '\\'))`,
        like,
        like,
        like,
        like,
      );
    }
    for (const c of filter.where ?? [])
      when(
        `r.id IN (SELECT mt.run_id FROM metrics mt WHERE mt.dim = ? AND mt.name = ? AND mt.value ${c.op === '!=' ? '<>' : c.op} ?${c.role ? ' AND mt.role = ?' : ''})`,
        c.dim,
        c.name,
        c.value,
        ...(c.role ? [c.role] : []),
      );
    // abandoned runs are stored as running; which of them are gone is decided below
    if (filter.status) when('r.status = ?', filter.status === 'abandoned' ? 'running' : filter.status);
    if (filter.version !== undefined && !filter.model) throw new UserError('version: give the model too', 'ERR_OPTION', 'version');
    if (filter.model)
      when(
        `EXISTS (SELECT 1 FROM run_models rm JOIN model_versions v ON v.id = rm.model_version_id JOIN models m ON m.id = v.model_id WHERE rm.run_id = r.id AND m.name = ?${filter.version !== undefined ? ' AND v.version = ?' : ''})`,
        filter.model,
        ...(filter.version !== undefined ? [filter.version] : []),
      );
    const rows = await this.store.all<{
      id: string;
      command: string;
      status: ListedRunStatus;
      started_at: string;
      ended_at: string | null;
      dataset_name: string | null;
      dataset_fingerprint: string | null;
      pid: number | null;
      host: string | null;
      note: string;
      tags: string;
      metric_value: number | null;
      dims: string | null;
      models: string | null;
    }>(
      `SELECT r.id, r.command, r.status, r.started_at, r.ended_at, r.dataset_name, r.dataset_fingerprint, r.dims, ${hasPid ? 'r.pid, r.host' : 'NULL AS pid, NULL AS host'},
              ${this.version >= 6 ? 'r.note, r.tags' : `'' AS note, '{}' AS tags`},
              ${filter.metric ? 'mv.value' : 'NULL'} AS metric_value,
              (SELECT ${this.store.concat(`rm.role || '=' || m.name || ' v' || v.version`)} FROM run_models rm
                 JOIN model_versions v ON v.id = rm.model_version_id JOIN models m ON m.id = v.model_id WHERE rm.run_id = r.id) AS models
       FROM runs r
       ${filter.metric ? `LEFT JOIN (SELECT run_id, MAX(value) AS value FROM metrics WHERE dim = ? AND name = ?${this.version >= 2 ? ` AND role <> 'base'` : ''} GROUP BY run_id) mv ON mv.run_id = r.id` : ''}
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} r.started_at DESC, r.id LIMIT ? OFFSET ?`,
      ...(filter.metric ? [filter.metric.dim, filter.metric.name] : []),
      ...args,
      limit,
      filter.offset ?? 0,
    );
    const listed: ListedRun[] = rows.map((r) => ({
      id: r.id,
      command: r.command,
      status: abandoned(r) ? ('abandoned' as const) : r.status,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      datasetName: r.dataset_name,
      datasetFingerprint: r.dataset_fingerprint,
      dims: r.dims === null ? null : (JSON.parse(r.dims) as number[] | null),
      pid: r.pid,
      host: r.host,
      note: r.note,
      tags: JSON.parse(r.tags) as Record<string, string>,
      metricValue: r.metric_value,
      models: r.models,
    }));
    return filter.status ? listed.filter((r) => r.status === filter.status) : listed;
  }

  /** Every model version, as `name@version`, by name then version. */
  async listVersions(): Promise<string[]> {
    return (
      await this.store.all<{ name: string; version: number }>(
        'SELECT m.name, v.version FROM model_versions v JOIN models m ON m.id = v.model_id ORDER BY m.name, v.version',
      )
    ).map((r) => `${r.name}@${r.version}`);
  }

  /** Distinct values the run filters can take. */
  async runFacets(): Promise<{ models: string[]; datasets: string[]; commands: string[] }> {
    const col = async (sql: string) => (await this.store.all<{ v: string }>(sql)).map((r) => r.v);
    return {
      models: await col('SELECT name AS v FROM models ORDER BY name'),
      datasets: await col('SELECT DISTINCT dataset_name AS v FROM runs WHERE dataset_name IS NOT NULL ORDER BY v'),
      commands: await col('SELECT DISTINCT command AS v FROM runs ORDER BY v'),
    };
  }

  /** Marks runs left `running` by a process that is gone (this host) as failed; returns their ids. */
  async pruneAbandoned(): Promise<string[]> {
    return this.store.write(async (tx) => {
      const rows = await tx.all<{ id: string; status: string; pid: number | null; host: string | null }>(
        `SELECT id, status, pid, host FROM runs WHERE status = 'running'`,
      );
      const gone = rows.filter(abandoned);
      for (const r of gone)
        await tx.run(
          `UPDATE runs SET status = 'failed', ended_at = ?, error = ? WHERE id = ? AND status = 'running'`,
          now(),
          `abandoned: process ${r.pid} on ${r.host} ended without finishing the run`,
          r.id,
        );
      return gone.map((r) => r.id);
    });
  }

  private async runId(prefix: string): Promise<string> {
    if (!/^[0-9a-f-]{1,36}$/i.test(prefix)) throw new UserError(`run "${prefix}" is not in the registry ${this.path}`, 'ERR_NOT_FOUND');
    const rows = await this.store.all<{ id: string }>('SELECT id FROM runs WHERE id LIKE ?', `${prefix.toLowerCase()}%`);
    if (rows.length === 0) throw new UserError(`run "${prefix}" is not in the registry ${this.path}`, 'ERR_NOT_FOUND');
    if (rows.length > 1) throw new UserError(`run id "${prefix}" is ambiguous (${rows.length} runs start with it)`, 'ERR_OPTION');
    return rows[0].id;
  }

  async showRun(idOrPrefix: string) {
    const id = await this.runId(idOrPrefix);
    const run = (await this.store.get<RunRow>('SELECT * FROM runs WHERE id = ?', id))!;
    const parse = <T>(v: string | null): T | null => (v === null ? null : (JSON.parse(v) as T));
    const sides = await this.store.all<{ role: string; name: string; version: number; sha256: string }>(
      `SELECT rm.role, m.name, v.version, v.sha256 FROM run_models rm JOIN model_versions v ON v.id = rm.model_version_id JOIN models m ON m.id = v.model_id WHERE rm.run_id = ? ORDER BY rm.role`,
      id,
    );
    const models = [];
    for (const m of sides) {
      const metrics = await this.store.all<{ dim: number; name: string; value: number }>(
        'SELECT dim, name, value FROM metrics WHERE run_id = ? AND role = ? ORDER BY dim DESC, name',
        id,
        m.role,
      );
      const metadata = await this.store.all<{ key: string; value: string }>('SELECT key, value FROM metadata WHERE run_id = ? AND role = ?', id, m.role);
      models.push({
        role: m.role,
        name: m.name,
        version: m.version,
        sha256: m.sha256,
        metrics: Object.fromEntries(metrics.map((r) => [metricKey(r.dim, r.name), r.value])),
        metadata: Object.fromEntries(metadata.map((r) => [r.key, JSON.parse(r.value)])),
      });
    }
    const artifacts = await this.store.all<{ name: string; path: string; size: number; sha256: string }>(
      'SELECT name, path, size, sha256 FROM artifacts WHERE run_id = ? ORDER BY name',
      id,
    );
    return {
      id: run.id,
      command: run.command,
      argv: parse<string[]>(run.argv) ?? [],
      status: abandoned(run) ? ('abandoned' as const) : (run.status as ListedRunStatus),
      error: run.error,
      startedAt: run.started_at,
      endedAt: run.ended_at,
      datasetName: run.dataset_name,
      datasetFingerprint: run.dataset_fingerprint,
      datasetCounts: parse<Record<string, number>>(run.dataset_counts),
      dims: parse<number[]>(run.dims),
      kLists: parse<KLists>(run.k_lists),
      software: parse<Record<string, string>>(run.software),
      hardware: parse<Record<string, unknown>>(run.hardware),
      pid: run.pid,
      host: run.host,
      note: run.note ?? '',
      tags: parse<Record<string, string>>(run.tags ?? '{}') ?? {},
      models,
      artifacts,
    };
  }

  /** Metric by metric, role by role: the two runs' values and the change. */
  async diffRuns(a: string, b: string) {
    const [ra, rb] = [await this.showRun(a), await this.showRun(b)];
    const rows: Array<{ role: string; key: string; a: number | null; b: number | null; change: number | null }> = [];
    const roles = [...new Set([...ra.models, ...rb.models].map((m) => m.role))];
    for (const role of roles) {
      const ma = ra.models.find((m) => m.role === role)?.metrics ?? {};
      const mb = rb.models.find((m) => m.role === role)?.metrics ?? {};
      for (const key of sortMetricKeys([...Object.keys(ma), ...Object.keys(mb)])) {
        const va = ma[key] ?? null;
        const vb = mb[key] ?? null;
        rows.push({ role, key, a: va, b: vb, change: va !== null && vb !== null ? vb - va : null });
      }
    }
    const datasets = { a: ra.datasetName, b: rb.datasetName };
    return { a: ra.id, b: rb.id, sameDataset: ra.datasetFingerprint === rb.datasetFingerprint, datasets, rows };
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `b` merged into `a`: objects key by key, all else (arrays included) replaced. */
function mergeObjects(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) out[key] = isPlainObject(value) && isPlainObject(out[key]) ? mergeObjects(out[key], value) : value;
  return out;
}

/** Metric keys by dim (largest first), then in the evaluator's order of names (k ascending). */
function sortMetricKeys(keys: string[]): string[] {
  const parsed = [...new Set(keys)].map((key) => ({ key, p: parseMetricKey(key) }));
  const names = sortMetricNames(parsed.map((x) => x.p?.name ?? x.key));
  return parsed.sort((x, y) => (y.p?.dim ?? 0) - (x.p?.dim ?? 0) || names.indexOf(x.p?.name ?? x.key) - names.indexOf(y.p?.name ?? y.key)).map((x) => x.key);
}
