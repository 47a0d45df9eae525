// A Hub-shaped HTTP server on 127.0.0.1 for tests: the revision API, resolve/ downloads with
// ETags (sha256 for large files, as LFS gives), X-Repo-Commit, Range requests, gated repos,
// and a connection cut once mid-file, from repos the tests make. No test touches the real Hub.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';

export interface FakeRepo {
  type: 'model' | 'dataset';
  /** commit -> files (repo path -> bytes) */
  commits: Record<string, Record<string, Buffer>>;
  /** branch or tag -> commit */
  refs: Record<string, string>;
  /** When set, requests need `Authorization: Bearer <token>`. */
  token?: string;
  /** When set, the revision API answers this status and body instead. */
  broken?: { status: number; body: string };
}

export interface FakeHub {
  url: string;
  repos: Map<string, FakeRepo>;
  /** Every request, as "METHOD path [range]". */
  log: string[];
  /** Cut the connection after this many body bytes of the next GET of a file whose path ends with the key. */
  cutOnce: Map<string, number>;
  /** A hostile or broken server: when set and it returns true, it has answered the request itself. */
  override: ((req: IncomingMessage, res: ServerResponse, path: string) => boolean) | null;
  close(): Promise<void>;
}

/** Every file under `dir`, by its path relative to it. */
export function filesOf(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p).split('\\').join('/')] = readFileSync(p);
    }
  };
  walk(dir);
  return out;
}

export const commitId = (seed: string) => createHash('sha1').update(seed).digest('hex');

const etagOf = (bytes: Buffer) =>
  bytes.length > 1000 ? createHash('sha256').update(bytes).digest('hex') : createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');

export async function startFakeHub(): Promise<FakeHub> {
  const repos = new Map<string, FakeRepo>();
  const log: string[] = [];
  const cutOnce = new Map<string, number>();
  const hub = { override: null as FakeHub['override'] };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname);
    log.push(`${req.method} ${path}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    if (hub.override?.(req, res, path)) return;
    const fail = (status: number, code = '') => {
      res.writeHead(status, code ? { 'x-error-code': code } : {});
      res.end();
    };
    const auth = (repo: FakeRepo) => {
      if (!repo.token) return true;
      const given = req.headers.authorization;
      if (!given) fail(401);
      else if (given !== `Bearer ${repo.token}`) fail(403);
      else return true;
      return false;
    };
    const api = /^\/api\/(models|datasets)\/([^/]+\/[^/]+)\/revision\/(.+)$/.exec(path);
    if (api) {
      const repo = repos.get(api[2]);
      if (!repo || repo.type !== api[1].slice(0, -1)) return fail(404, 'RepoNotFound');
      if (!auth(repo)) return;
      if (repo.broken) {
        res.writeHead(repo.broken.status, { 'content-type': 'application/json' });
        return res.end(repo.broken.body);
      }
      const commit = repo.commits[api[3]] ? api[3] : repo.refs[api[3]];
      if (!commit) return fail(404, 'RevisionNotFound');
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ id: api[2], sha: commit, siblings: Object.keys(repo.commits[commit]).map((rfilename) => ({ rfilename })) }));
    }
    const file = /^\/(datasets\/)?([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (file) {
      const repo = repos.get(file[2]);
      if (!repo || (repo.type === 'dataset') !== Boolean(file[1])) return fail(404, 'RepoNotFound');
      if (!auth(repo)) return;
      const commit = repo.commits[file[3]] ? file[3] : repo.refs[file[3]];
      if (!commit) return fail(404, 'RevisionNotFound');
      const bytes = repo.commits[commit][file[4]];
      if (!bytes) return fail(404, 'EntryNotFound');
      const etag = etagOf(bytes);
      const headers: Record<string, string> = { 'x-repo-commit': commit, etag: `"${etag}"`, 'accept-ranges': 'bytes' };
      if (bytes.length > 1000) Object.assign(headers, { 'x-linked-etag': `"${etag}"`, 'x-linked-size': String(bytes.length) });
      if (req.method === 'HEAD') {
        res.writeHead(200, { ...headers, 'content-length': String(bytes.length) });
        return res.end();
      }
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const from = range ? Number(range[1]) : 0;
      const body = bytes.subarray(from);
      res.writeHead(range ? 206 : 200, {
        ...headers,
        'content-length': String(body.length),
        ...(range ? { 'content-range': `bytes ${from}-${bytes.length - 1}/${bytes.length}` } : {}),
      });
      const cutKey = [...cutOnce.keys()].find((k) => file[4].endsWith(k));
      if (cutKey !== undefined) {
        const at = cutOnce.get(cutKey)!;
        cutOnce.delete(cutKey);
        res.write(body.subarray(0, at), () => res.destroy());
        return;
      }
      return res.end(body);
    }
    fail(404);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(hub, {
    url: `http://127.0.0.1:${port}`,
    repos,
    log,
    cutOnce,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
