// A throwaway PostgreSQL server for tests: Debian's binaries, initdb in a temp folder (as the
// postgres user when running as root), a free port on 127.0.0.1, password authentication over
// TCP, stopped and removed after. Null (with the reason) where this machine has no PostgreSQL.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

export interface PostgresServer {
  /** postgres://emb:PASSWORD@127.0.0.1:PORT/ (append a database name). */
  base: string;
  user: string;
  password: string;
  port: number;
  /** A new empty database; returns its URL. */
  database(name?: string): Promise<string>;
  stop(): void;
}

function binDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : null;
}

export function postgresUnavailable(): string | null {
  if (!binDir()) return 'no PostgreSQL server binaries in /usr/lib/postgresql (apt-get install postgresql)';
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root and there is no postgres user to run the server as';
  return null;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

let counter = 0;

export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir()!;
  const dir = mkdtempSync(join(tmpdir(), 'emb-pg-'));
  const root = process.getuid?.() === 0;
  // the server refuses to run as root: as root, the folder goes to the postgres user
  const as = (tool: string, args: string[]) =>
    root
      ? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { stdio: 'pipe' })
      : execFileSync(join(bin, tool), args, { stdio: 'pipe' });
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  const user = 'emb';
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, password + '\n');
  if (root) chownSync(pwfile, Number(execFileSync('id', ['-u', 'postgres']).toString()), 0);
  const data = join(dir, 'data');
  as('initdb', ['-D', data, '-U', user, `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const port = await freePort();
  as('pg_ctl', [
    '-D',
    data,
    '-l',
    join(dir, 'server.log'),
    '-w',
    '-t',
    '60',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=100`,
    'start',
  ]);
  const base = `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/`;
  return {
    base,
    user,
    password,
    port,
    async database(name = `t${process.pid}_${++counter}`) {
      const admin = new pg.Client({ connectionString: `${base}postgres` });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE "${name}"`);
      } finally {
        await admin.end();
      }
      return `${base}${name}`;
    },
    stop() {
      try {
        as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        /* already stopped */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One throwaway server for a test file, started before its tests and stopped after them:
 * `reason` says why there is none; `server()` is the running one.
 */
export function postgresForFile(): { reason: string | null; server: () => PostgresServer } {
  const reason = postgresUnavailable();
  let running: PostgresServer | null = null;
  beforeAll(async () => {
    if (!reason) running = await startPostgres();
  }, 120_000);
  afterAll(() => running?.stop());
  return {
    reason,
    server: () => {
      if (!running) throw new Error(`no PostgreSQL server: ${reason ?? 'not started yet'}`);
      return running;
    },
  };
}
