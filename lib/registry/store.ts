// Where a registry lives: an embedded SQLite file (better-sqlite3) or a shared PostgreSQL
// database (pg). The Registry writes one SQL for both, with `?` placeholders; a store runs it,
// and every write goes through `write`, one transaction that no other writer interleaves with.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { RuntimeError, UserError } from '../errors.js';
import { MIGRATIONS, PG_MIGRATIONS, PG_SCHEMA, SCHEMA_VERSION } from './schema.js';

export interface Sql {
  all<T>(sql: string, ...args: unknown[]): Promise<T[]>;
  get<T>(sql: string, ...args: unknown[]): Promise<T | undefined>;
  run(sql: string, ...args: unknown[]): Promise<number>;
}

export interface Store extends Sql {
  readonly kind: 'sqlite' | 'postgres';
  /** The registry's location as shown to users: a path, or a PostgreSQL URL without its password. */
  readonly location: string;
  /** Schema version (number of migrations applied). */
  readonly version: number;
  /** `string_agg` / `group_concat` of an expression, comma separated. */
  concat(expr: string): string;
  /** The text at top-level key `?` (the next parameter) of a JSON-object text column, NULL when absent. */
  jsonText(column: string): string;
  /** Runs `fn` as one transaction, alone among writers (retried on a busy or conflicting writer). */
  write<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Query parameters of a PostgreSQL URL that hold secrets. */
const SECRET_PARAMS = ['password', 'sslpassword'];

/** A PostgreSQL URL without its credentials: the user's password (which may hold `@` or `:`) and the secret query parameters. */
function withoutCredentials(url: string): string {
  const m = /^(postgres(?:ql)?:\/\/)([^/?#]*)(.*)$/i.exec(url);
  if (!m) return url;
  const [, scheme, authority, rest] = m;
  const at = authority.lastIndexOf('@'); // userinfo ends at the last "@" before the path
  const userinfo = at >= 0 ? authority.slice(0, at) : '';
  const host = at >= 0 ? authority.slice(at + 1) : authority;
  const user = userinfo.split(':')[0];
  const q = rest.indexOf('?');
  let tail = rest;
  if (q >= 0) {
    const hash = rest.indexOf('#', q);
    const params = new URLSearchParams(rest.slice(q + 1, hash >= 0 ? hash : undefined));
    for (const key of [...params.keys()]) if (SECRET_PARAMS.includes(key.toLowerCase())) params.delete(key);
    const query = params.toString();
    tail = rest.slice(0, q) + (query ? `?${query}` : '') + (hash >= 0 ? rest.slice(hash) : '');
  }
  return `${scheme}${user ? `${user}@` : ''}${host}${tail}`;
}

/** Text with every PostgreSQL URL in it stripped of its credentials, for messages and recorded command lines. */
export const redact = (text: string) => text.replace(/postgres(?:ql)?:\/\/\S*/gi, withoutCredentials);

export const isPostgresUrl = (location: string) => /^postgres(ql)?:\/\//i.test(location);

const newerSchema = (where: string, version: number) =>
  new UserError(`${where}: registry schema ${version} is newer than this emb-bench understands (${SCHEMA_VERSION}); upgrade emb-bench`, 'ERR_REGISTRY_VERSION');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- SQLite ----

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  version = 0;
  /** Transactions of this connection, one after another (the dashboard serves requests concurrently). */
  private queue: Promise<unknown> = Promise.resolve();

  /** @throws UserError when the file is not a registry, is missing (read-only) or is from a newer emb-bench. */
  constructor(
    readonly location: string,
    readonly: boolean,
  ) {
    const path = location;
    let db: Database.Database | undefined;
    try {
      if (readonly && !existsSync(path))
        throw new UserError(`${path}: no registry here yet (a logged eval or compare creates it)`, 'ERR_NOT_FOUND', 'registry');
      if (!readonly) mkdirSync(dirname(resolve(path)), { recursive: true });
      this.db = db = new Database(path, { readonly, fileMustExist: readonly, timeout: 10000 });
      this.db.pragma('foreign_keys = ON');
      if (!readonly) this.db.pragma('journal_mode = WAL');
      this.version = this.userVersion();
      if (this.version > SCHEMA_VERSION) throw newerSchema(path, this.version);
      if (readonly && this.version < SCHEMA_VERSION) {
        // An older registry: upgrade it once if the file allows, else read what is there.
        try {
          new SqliteStore(path, false).db.close();
          this.version = this.userVersion();
        } catch {
          /* read-only file: the reads may miss newer columns (the Registry checks `version`) */
        }
      } else if (!readonly) this.migrate();
    } catch (e) {
      if (db?.open) db.close();
      if (e instanceof UserError) throw e;
      throw this.error(e, 'cannot open the registry');
    }
  }

  private userVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  private migrate(): void {
    if (this.version === SCHEMA_VERSION) return;
    this.db
      .transaction(() => {
        const current = this.userVersion(); // another process may have migrated
        if (current > SCHEMA_VERSION) throw newerSchema(this.location, current);
        for (let v = current; v < SCHEMA_VERSION; v++) this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })
      .immediate();
    this.version = SCHEMA_VERSION;
  }

  private error(e: unknown, what: string): Error {
    const code = (e as { code?: string }).code ?? '';
    if (code === 'SQLITE_NOTADB')
      return new UserError(
        `${this.location}: not an emb-bench registry (the file is not a SQLite database); move it aside or use another registry path`,
        'ERR_REGISTRY',
      );
    if (code === 'SQLITE_CORRUPT')
      return new UserError(
        `${this.location}: the registry is damaged (SQLite found a malformed page); restore it from a copy, or move it aside (sqlite3's .recover may save what is left)`,
        'ERR_REGISTRY',
      );
    if (code === 'SQLITE_FULL') return new RuntimeError(`${this.location}: cannot write the registry: the disk is full`, 'ERR_REGISTRY');
    if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR'))
      return new RuntimeError(`${this.location}: cannot write the registry (${code})`, 'ERR_REGISTRY');
    return new RuntimeError(`${this.location}: ${what} (${(e as Error).message})`, 'ERR_REGISTRY');
  }

  concat(expr: string): string {
    return `group_concat(${expr}, ', ')`;
  }

  jsonText(column: string): string {
    return `json_extract(${column}, '$."' || ? || '"')`;
  }

  /** A statement, with SQLite's failures (a damaged page, a full disk) as one line naming the file. */
  private sqlite<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if ((e as { code?: string }).code?.startsWith('SQLITE_')) throw this.error(e, 'cannot read the registry');
      throw e;
    }
  }

  async all<T>(sql: string, ...args: unknown[]): Promise<T[]> {
    return this.sqlite(() => this.db.prepare(sql).all(...args) as T[]);
  }

  async get<T>(sql: string, ...args: unknown[]): Promise<T | undefined> {
    return this.sqlite(() => this.db.prepare(sql).get(...args) as T | undefined);
  }

  async run(sql: string, ...args: unknown[]): Promise<number> {
    return this.sqlite(() => this.db.prepare(sql).run(...args).changes);
  }

  write<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    const next = this.queue.then(() => this.transaction(fn));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.db.exec('BEGIN IMMEDIATE'); // waits up to the 10 s busy timeout for other writers
        break;
      } catch (e) {
        if ((e as { code?: string }).code === 'SQLITE_BUSY' && attempt < 20) {
          await sleep(50 + Math.random() * 100);
          continue;
        }
        throw this.error(e, 'cannot write the registry');
      }
    }
    try {
      const value = await fn(this);
      this.db.exec('COMMIT');
      return value;
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      if ((e as { code?: string }).code?.startsWith('SQLITE_')) throw this.error(e, 'cannot write the registry');
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.queue;
    this.db.close();
  }
}

// ---- PostgreSQL ----

/** Every write takes this transaction-level advisory lock first: writers from all hosts run one at a time. */
const WRITE_LOCK = 0x656d6262; // "embb"
const RETRY_CODES = new Set(['40001', '40P01']); // serialization failure, deadlock
/** A server error write() runs the transaction again for: raw, or the cause of a mapped one. */
const retryable = (e: unknown) => {
  const err = e as { code?: string; cause?: { code?: string } };
  return RETRY_CODES.has(err.code ?? '') || RETRY_CODES.has(err.cause?.code ?? '');
};

const toPg = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

/** int8 (COUNT, BIGINT columns) as a JavaScript number; registry values stay far below 2^53. */
const typesOf = (driver: typeof pg) => ({
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : driver.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
});

/**
 * pg, loaded only for a PostgreSQL registry. At load it asks whether it runs in a Cloudflare
 * Worker; where `navigator` is missing (Node 20) it builds a fetch Response to tell, which starts
 * Node's HTTP parser, a WebAssembly instance that a virtual-memory limit (ulimit -v, common on
 * HPC clusters) refuses. A `navigator` naming Node answers the question first.
 */
async function importPg(): Promise<typeof pg> {
  const g = globalThis as { navigator?: unknown };
  const had = 'navigator' in g;
  if (!had) Object.defineProperty(g, 'navigator', { value: { userAgent: `Node.js/${process.versions.node}` }, configurable: true });
  try {
    return (await import('pg')).default;
  } finally {
    if (!had) delete g.navigator;
  }
}

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  version = 0;
  private constructor(
    readonly location: string,
    private readonly pool: pg.Pool,
    private readonly target: string,
  ) {}

  /**
   * Connects (credentials from the URL or the PG* environment variables), checks the schema and,
   * unless read-only, migrates it. Connection failures are one line naming the server.
   */
  static async open(url: string, readonly: boolean): Promise<PostgresStore> {
    const driver = await importPg();
    const config = {
      connectionString: url,
      max: 4,
      connectionTimeoutMillis: 15000,
      types: typesOf(driver),
      application_name: 'emb-bench',
    } as pg.PoolConfig;
    if (readonly) config.options = '-c default_transaction_read_only=on';
    // The parameters pg resolved (URL first, then PGHOST, PGPORT, PGUSER, PGDATABASE): shown without the password.
    let p: { host: string; port: number; user: string; database: string };
    try {
      p = new driver.Client(config) as unknown as typeof p;
      if (!p.host || !Number.isInteger(Number(p.port))) throw new Error('no host or port');
    } catch {
      throw new UserError(
        `${redact(url)}: not a PostgreSQL URL that can be used (expected postgres://user[:password]@host[:port]/database)`,
        'ERR_OPTION',
        'registry',
      );
    }
    const pool = new driver.Pool(config);
    const address = `${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`; // an IPv6 host in brackets
    const host = p.host.startsWith('/') ? `socket ${p.host}` : address;
    const shown = `postgres://${encodeURIComponent(p.user ?? '')}@${p.host.startsWith('/') ? '' : address}/${encodeURIComponent(p.database ?? '')}`;
    pool.on('error', () => undefined); // an idle client's lost connection surfaces on the next query
    const store = new PostgresStore(shown, pool, host);
    try {
      const present = await store.get<{ present: boolean }>(`SELECT to_regclass('emb_bench_schema') IS NOT NULL AS present`);
      const row = present?.present ? await store.get<{ version: number | null }>('SELECT max(version) AS version FROM emb_bench_schema') : undefined;
      store.version = row?.version ?? 0;
      if (store.version > SCHEMA_VERSION) throw newerSchema(shown, store.version);
      if (readonly && store.version === 0)
        throw new UserError(`${shown}: no registry here yet (a logged eval or compare with this registry creates it)`, 'ERR_NOT_FOUND', 'registry');
      if (!readonly && store.version < SCHEMA_VERSION) await store.migrate();
      return store;
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
  }

  private async migrate(): Promise<void> {
    await this.write(async (tx) => {
      await tx.run('CREATE TABLE IF NOT EXISTS emb_bench_schema (version INTEGER NOT NULL)');
      const row = await tx.get<{ version: number | null }>('SELECT max(version) AS version FROM emb_bench_schema');
      const current = row?.version ?? 0; // another host may have migrated meanwhile
      if (current > SCHEMA_VERSION) throw newerSchema(this.location, current);
      // A new database gets the current schema at once; an older one the migrations after its version.
      if (current === 0) await tx.run(PG_SCHEMA);
      else for (let v = current + 1; v <= SCHEMA_VERSION; v++) await tx.run(PG_MIGRATIONS[v]);
      await tx.run('DELETE FROM emb_bench_schema');
      await tx.run('INSERT INTO emb_bench_schema (version) VALUES (?)', SCHEMA_VERSION);
    });
    this.version = SCHEMA_VERSION;
  }

  /** One line: what failed, where, and what the server or the network said. Never the password. */
  private error(e: unknown): Error {
    if (e instanceof UserError || e instanceof RuntimeError) return e;
    const err = e as { code?: string; message?: string };
    const code = err.code ?? '';
    const message = (err.message ?? String(e)).split('\n')[0];
    const where = `${this.location}`;
    const connect: Record<string, string> = {
      ECONNREFUSED: 'connection refused (is PostgreSQL running and listening there?)',
      ENOTFOUND: 'unknown host',
      EAI_AGAIN: 'the host name cannot be resolved now',
      ETIMEDOUT: 'the connection timed out',
      EHOSTUNREACH: 'host unreachable',
      ECONNRESET: 'the connection was reset',
    };
    if (connect[code]) return new RuntimeError(`${where}: cannot connect to PostgreSQL at ${this.target}: ${connect[code]}`, 'ERR_REGISTRY');
    if (/timeout/i.test(message) && !code)
      return new RuntimeError(`${where}: cannot connect to PostgreSQL at ${this.target}: the connection timed out`, 'ERR_REGISTRY');
    if (code === '28P01' || code === '28000' || code === '3D000' || code === '42501')
      return new UserError(`${where}: PostgreSQL at ${this.target} refused: ${message}`, 'ERR_REGISTRY');
    if (code === '25006') return new UserError(`${where}: the registry is open read-only`, 'ERR_REGISTRY');
    if (code === '53100') return new RuntimeError(`${where}: cannot write the registry: the server's disk is full`, 'ERR_REGISTRY');
    if (/terminat|Connection terminated/i.test(message))
      return new RuntimeError(`${where}: the connection to PostgreSQL at ${this.target} was lost (${message})`, 'ERR_REGISTRY');
    return new RuntimeError(`${where}: PostgreSQL error${code ? ` ${code}` : ''}: ${message}`, 'ERR_REGISTRY', { cause: e });
  }

  concat(expr: string): string {
    return `string_agg(${expr}, ', ')`;
  }

  jsonText(column: string): string {
    return `((${column})::json ->> ?)`;
  }

  private async query<T>(client: pg.Pool | pg.PoolClient, sql: string, args: unknown[]): Promise<pg.QueryResult<T & pg.QueryResultRow>> {
    try {
      return await client.query<T & pg.QueryResultRow>(toPg(sql), args);
    } catch (e) {
      throw this.error(e);
    }
  }

  async all<T>(sql: string, ...args: unknown[]): Promise<T[]> {
    return (await this.query<T>(this.pool, sql, args)).rows;
  }

  async get<T>(sql: string, ...args: unknown[]): Promise<T | undefined> {
    return (await this.query<T>(this.pool, sql, args)).rows[0];
  }

  async run(sql: string, ...args: unknown[]): Promise<number> {
    return (await this.query(this.pool, sql, args)).rowCount ?? 0;
  }

  async write<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw this.error(e);
    }
    try {
      const tx: Sql = {
        all: async <R>(sql: string, ...args: unknown[]) => (await this.query<R>(client, sql, args)).rows,
        get: async <R>(sql: string, ...args: unknown[]) => (await this.query<R>(client, sql, args)).rows[0],
        run: async (sql: string, ...args: unknown[]) => (await this.query(client, sql, args)).rowCount ?? 0,
      };
      for (let attempt = 0; ; attempt++) {
        try {
          await client.query('BEGIN');
          await client.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
          const value = await fn(tx);
          await client.query('COMMIT');
          return value;
        } catch (e) {
          await client.query('ROLLBACK').catch(() => undefined);
          if (retryable(e) && attempt < 10) {
            await sleep(50 + Math.random() * 100);
            continue;
          }
          throw this.error(e);
        }
      }
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Opens the registry at `location`: a PostgreSQL URL or a SQLite file path. */
export async function openStore(location: string, readonly: boolean): Promise<Store> {
  return isPostgresUrl(location) ? PostgresStore.open(location, readonly) : new SqliteStore(location, readonly);
}
