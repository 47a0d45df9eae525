// The registry's schema, as forward migrations. The database's user_version is the number of
// migrations applied; a file from a newer emb-bench (a higher number) is refused, never rewritten.

/** Migration 6 in either dialect: its key column's type, and the type of a reference to one. */
function teamRecord(key: string, ref: string): string {
  return `
  ALTER TABLE models ADD COLUMN description TEXT NOT NULL DEFAULT '';
  ALTER TABLE models ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE model_versions ADD COLUMN description TEXT NOT NULL DEFAULT '';
  ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT '';
  ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
  CREATE TABLE metadata_history (
    id ${key},
    model_version_id ${ref} NOT NULL REFERENCES model_versions(id),
    key TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    source TEXT NOT NULL
  );
  CREATE INDEX metadata_history_by_version ON metadata_history (model_version_id);
  CREATE INDEX runs_by_dataset ON runs (dataset_name, started_at);
  CREATE INDEX metrics_by_name ON metrics (dim, name, value, run_id, role);
  `;
}

export const MIGRATIONS: string[] = [
  `
  CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
  );
  CREATE TABLE model_versions (
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id),
    version INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    width INTEGER,
    pooling TEXT,
    prompts TEXT,
    tags TEXT NOT NULL DEFAULT '{}',
    stage TEXT NOT NULL DEFAULT 'none' CHECK (stage IN ('none', 'staging', 'production', 'archived')),
    created_at TEXT NOT NULL,
    UNIQUE (model_id, sha256),
    UNIQUE (model_id, version)
  );
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    command TEXT NOT NULL,
    argv TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    error TEXT,
    dataset_name TEXT,
    dataset_fingerprint TEXT,
    dataset_counts TEXT,
    dims TEXT,
    k_lists TEXT,
    software TEXT,
    hardware TEXT
  );
  CREATE TABLE run_models (
    run_id TEXT NOT NULL REFERENCES runs(id),
    model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
    role TEXT NOT NULL,
    PRIMARY KEY (run_id, role)
  );
  CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs(id),
    model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
    dim INTEGER NOT NULL,
    name TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (run_id, model_version_id, dim, name)
  );
  CREATE TABLE metadata (
    run_id TEXT NOT NULL REFERENCES runs(id),
    model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, model_version_id, key)
  );
  CREATE TABLE artifacts (
    run_id TEXT NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
  );
  CREATE INDEX metrics_by_version ON metrics (model_version_id, dim, name);
  `,
  // 2: a run's metrics are keyed by role, so a model compared with itself (the A/A check) keeps
  // both sides; runs record the process that runs them, so a dead one shows as abandoned.
  `
  ALTER TABLE runs ADD COLUMN pid INTEGER;
  ALTER TABLE runs ADD COLUMN host TEXT;
  CREATE TABLE metrics_by_role (
    run_id TEXT NOT NULL REFERENCES runs(id),
    role TEXT NOT NULL,
    model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
    dim INTEGER NOT NULL,
    name TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (run_id, role, dim, name)
  );
  INSERT INTO metrics_by_role (run_id, role, model_version_id, dim, name, value)
    SELECT m.run_id, rm.role, m.model_version_id, m.dim, m.name, m.value
    FROM metrics m JOIN run_models rm ON rm.run_id = m.run_id AND rm.model_version_id = m.model_version_id;
  DROP TABLE metrics;
  ALTER TABLE metrics_by_role RENAME TO metrics;
  CREATE INDEX metrics_by_version ON metrics (model_version_id, dim, name);
  CREATE TABLE metadata_by_role (
    run_id TEXT NOT NULL REFERENCES runs(id),
    role TEXT NOT NULL,
    model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, role, key)
  );
  INSERT INTO metadata_by_role (run_id, role, model_version_id, key, value)
    SELECT m.run_id, rm.role, m.model_version_id, m.key, m.value
    FROM metadata m JOIN run_models rm ON rm.run_id = m.run_id AND rm.model_version_id = m.model_version_id;
  DROP TABLE metadata;
  ALTER TABLE metadata_by_role RENAME TO metadata;
  `,
  // 3: a model version's own metadata: its model card (base model, training), what users log.
  `
  ALTER TABLE model_versions ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
  `,
  // 4: every stage change, with where it came from (the command line, the dashboard).
  `
  CREATE TABLE stage_history (
    id INTEGER PRIMARY KEY,
    model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
    stage TEXT NOT NULL,
    previous TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    source TEXT NOT NULL
  );
  CREATE INDEX stage_history_by_version ON stage_history (model_version_id);
  CREATE INDEX runs_by_start ON runs (started_at);
  CREATE INDEX run_models_by_version ON run_models (model_version_id);
  `,
  // 5: artifacts kept as their own bytes, by content: what a run wrote stays what it shows,
  // whatever later happens to the files (files past ARTIFACT_STORE_LIMIT stay checked references).
  `
  CREATE TABLE artifact_blobs (
    sha256 TEXT PRIMARY KEY,
    bytes BLOB NOT NULL
  );
  `,
  // 6: the registry as a team's record: descriptions and tags on models and runs, a note on a
  // run, and every metadata change kept (who, when, the old value and the new).
  teamRecord('INTEGER PRIMARY KEY', 'INTEGER'),
];

/** PostgreSQL's form of each migration after the first four (which PG_SCHEMA's first release held), by the version it makes. */
export const PG_MIGRATIONS: Record<number, string> = {
  5: `
  CREATE TABLE artifact_blobs (
    sha256 TEXT PRIMARY KEY,
    bytes BYTEA NOT NULL
  );
  `,
  6: teamRecord('BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY', 'BIGINT'),
};

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * The same schema in PostgreSQL, created at once for a new database (its emb_bench_schema table
 * holds the version); an older database takes PG_MIGRATIONS in order. Metric values are float8 (REAL is
 * float4 there), names sort bytewise (COLLATE "C") as in SQLite, timestamps stay ISO text.
 */
export const PG_SCHEMA = `
  CREATE TABLE models (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at TEXT NOT NULL
  );
  CREATE TABLE model_versions (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    model_id BIGINT NOT NULL REFERENCES models(id),
    version INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    width INTEGER,
    pooling TEXT,
    prompts TEXT,
    tags TEXT NOT NULL DEFAULT '{}',
    stage TEXT NOT NULL DEFAULT 'none' CHECK (stage IN ('none', 'staging', 'production', 'archived')),
    created_at TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    UNIQUE (model_id, sha256),
    UNIQUE (model_id, version)
  );
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    command TEXT COLLATE "C" NOT NULL,
    argv TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    error TEXT,
    dataset_name TEXT COLLATE "C",
    dataset_fingerprint TEXT,
    dataset_counts TEXT,
    dims TEXT,
    k_lists TEXT,
    software TEXT,
    hardware TEXT,
    pid INTEGER,
    host TEXT
  );
  CREATE TABLE run_models (
    run_id TEXT NOT NULL REFERENCES runs(id),
    model_version_id BIGINT NOT NULL REFERENCES model_versions(id),
    role TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (run_id, role)
  );
  CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs(id),
    role TEXT NOT NULL,
    model_version_id BIGINT NOT NULL REFERENCES model_versions(id),
    dim INTEGER NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (run_id, role, dim, name)
  );
  CREATE INDEX metrics_by_version ON metrics (model_version_id, dim, name);
  CREATE TABLE metadata (
    run_id TEXT NOT NULL REFERENCES runs(id),
    role TEXT NOT NULL,
    model_version_id BIGINT NOT NULL REFERENCES model_versions(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, role, key)
  );
  CREATE TABLE artifacts (
    run_id TEXT NOT NULL REFERENCES runs(id),
    name TEXT COLLATE "C" NOT NULL,
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
  );
  CREATE TABLE stage_history (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    model_version_id BIGINT NOT NULL REFERENCES model_versions(id),
    stage TEXT NOT NULL,
    previous TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    source TEXT NOT NULL
  );
  CREATE INDEX stage_history_by_version ON stage_history (model_version_id);
  CREATE INDEX runs_by_start ON runs (started_at);
  CREATE INDEX run_models_by_version ON run_models (model_version_id);
  ${PG_MIGRATIONS[5]}
  ${PG_MIGRATIONS[6]}
`;
