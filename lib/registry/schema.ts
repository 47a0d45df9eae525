// The registry's schema, as forward migrations. The database's user_version is the number of
// migrations applied; a file from a newer emb-bench (a higher number) is refused, never rewritten.

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
];

export const SCHEMA_VERSION = MIGRATIONS.length;
