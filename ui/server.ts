// `emb-bench ui`: the registry as a local dashboard. A small HTTP server over the Registry API:
// GET and HEAD only, the database opened read-only, unless started with allowWrite (then stage
// promotion by POST with a per-process CSRF token from the same origin). It answers only the
// Host names of the address it serves (DNS rebinding), sends a strict Content-Security-Policy,
// and serves artifacts by run and name as the registry keeps them (bytes whose sha256 is the
// run's), never a path from the URL or from a registry row.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { extname } from 'node:path';
import { UserError } from '../lib/errors.js';
import { Registry, type ShownRun, type Stage, STAGES } from '../lib/registry/index.js';
import { APP_CSS } from './assets.js';
import { escapeHtml, type Html } from './html.js';
import { comparePage, compareRunsPage, modelPage, modelsPage, NotFound, type PageContext, queriesPage, runPage, runsPage, suitePage } from './pages.js';

export interface DashboardOptions {
  /** The registry: a SQLite path or a postgres:// URL. */
  registry: string;
  host?: string;
  /** 0: any free port. */
  port?: number;
  allowWrite?: boolean;
}

export interface Dashboard {
  /** An address that answers from this machine. */
  url: string;
  /** Listening on every interface: the address other machines would use. */
  remoteUrl?: string;
  close(): Promise<void>;
}

/** Artifacts larger than this are not served (results of huge runs stay on disk). */
const ARTIFACT_LIMIT = 256 << 20;
const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.md': 'text/markdown; charset=utf-8',
  '.png': 'image/png',
  '.jsonl': 'application/x-ndjson',
  '.npy': 'application/octet-stream',
};
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const isLoopback = (host: string) => host === '127.0.0.1' || host === 'localhost' || host === '::1';
/** Bytes of a POST form the dashboard reads. */
const FORM_LIMIT = 10_000;

/** The origin of a Referer header, or '' when it is not a URL. */
function originOf(referer: string | undefined): string {
  try {
    return referer ? new URL(referer).origin : '';
  } catch {
    return '';
  }
}

/**
 * Starts the dashboard; resolves once it listens.
 * @throws UserError for allowWrite on an address other machines reach (it has no login).
 */
export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const host = o.host ?? '127.0.0.1';
  if (o.allowWrite && !isLoopback(host))
    throw new UserError(
      `allowWrite: only on a loopback address (127.0.0.1, localhost, ::1); on ${host} anyone who reaches it could promote models, and the dashboard has no login`,
      'ERR_OPTION',
      'allowWrite',
    );
  const registry = await Registry.open(o.registry, { readonly: !o.allowWrite });
  const ctx: PageContext = { registry, allowWrite: Boolean(o.allowWrite), csrf: randomBytes(24).toString('hex'), texts: new Map(), perQuery: new Map() };
  let allowedHosts: Set<string> = new Set();

  const send = (res: ServerResponse, status: number, body: string | Html, type = 'text/html; charset=utf-8', extra: Record<string, string> = {}) => {
    res.writeHead(status, {
      'content-type': type,
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      'cache-control': 'no-store',
      ...extra,
    });
    res.end(res.req.method === 'HEAD' ? undefined : String(body));
  };
  const fail = (res: ServerResponse, status: number, message: string) =>
    send(
      res,
      status,
      `<!doctype html><title>${status}</title><link rel="stylesheet" href="/assets/app.css"><main><h1>${status}</h1><p>${escapeHtml(message)}</p><p><a href="/">models</a></p></main>`,
    );

  // The bytes the run wrote, from the registry (or a checked reference), never a path as stored.
  const artifact = async (res: ServerResponse, runId: string, name: string) => {
    let run: ShownRun;
    try {
      run = await registry.showRun(runId);
    } catch {
      return fail(res, 404, 'no such run');
    }
    const a = await registry.artifact(run.id, name, { maxBytes: ARTIFACT_LIMIT });
    if (!a) return fail(res, 404, 'no such artifact in this run');
    if (!a.bytes) return fail(res, 410, `${name}: ${a.problem}`);
    res.writeHead(200, {
      'content-type': TYPES[extname(name)] ?? 'application/octet-stream',
      'content-length': String(a.bytes.length),
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'content-disposition': `${extname(name) === '.png' ? 'inline' : 'attachment'}; filename="${name.replace(/[^\w.-]/g, '_')}"`,
    });
    res.end(res.req.method === 'HEAD' ? undefined : a.bytes);
  };

  const readForm = (req: IncomingMessage) =>
    new Promise<URLSearchParams | null>((resolve, reject) => {
      let body = '';
      let tooLarge = false;
      req.on('data', (c: Buffer) => {
        if (tooLarge) return; // read and dropped, so that the 413 reaches the client
        body += c.toString('utf8');
        if (body.length > FORM_LIMIT) tooLarge = true;
      });
      req.on('end', () => resolve(tooLarge ? null : new URLSearchParams(body)));
      req.on('error', reject);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!allowedHosts.has(String(req.headers.host ?? '').toLowerCase())) return fail(res, 421, 'this dashboard answers only its own address');
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    if (req.method === 'POST' && path === '/promote') {
      if (!ctx.allowWrite) return fail(res, 405, 'the dashboard is read-only (start it with --allow-write to promote)');
      const origin = req.headers.origin ?? originOf(req.headers.referer);
      if (![...allowedHosts].some((h) => origin === `http://${h}`)) return fail(res, 403, 'a promotion must come from this dashboard');
      const form = await readForm(req);
      if (!form) return fail(res, 413, `a form is at most ${FORM_LIMIT} bytes`);
      if (form.get('csrf') !== ctx.csrf) return fail(res, 403, 'the form is stale or forged (no valid token)');
      const stage = form.get('stage') as Stage;
      if (!STAGES.includes(stage)) return fail(res, 400, 'unknown stage');
      try {
        await registry.promote(form.get('name') ?? '', Number(form.get('version')), stage, 'dashboard');
      } catch (e) {
        return fail(res, 400, (e as Error).message);
      }
      res.writeHead(303, { location: `/models/${encodeURIComponent(form.get('name') ?? '')}` });
      return res.end();
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, 'only GET and HEAD');
    if (path === '/assets/app.css') return send(res, 200, APP_CSS, 'text/css; charset=utf-8');
    if (path === '/favicon.ico') {
      res.writeHead(204, { 'cache-control': 'max-age=86400' });
      return res.end();
    }
    if (path === '/') return send(res, 200, await modelsPage(ctx));
    if (path === '/runs') return send(res, 200, await runsPage(ctx, url.searchParams));
    if (path === '/compare') return send(res, 200, await comparePage(ctx, url.searchParams));
    if (path === '/compare-runs') return send(res, 200, await compareRunsPage(ctx, url.searchParams));
    let m = /^\/suites\/([0-9a-f-]{36})$/.exec(path);
    if (m) return send(res, 200, await suitePage(ctx, m[1], url.searchParams));
    m = /^\/models\/([^/]+)$/.exec(path);
    if (m) return send(res, 200, await modelPage(ctx, decodeURIComponent(m[1]), url.searchParams));
    m = /^\/runs\/([0-9a-f-]{8,36})$/.exec(path);
    if (m) return send(res, 200, await runPage(ctx, m[1]));
    m = /^\/runs\/([0-9a-f-]{8,36})\/queries$/.exec(path);
    if (m) return send(res, 200, await queriesPage(ctx, m[1], url.searchParams));
    m = /^\/runs\/([0-9a-f-]{8,36})\/artifacts\/([\w.-]+)$/.exec(path);
    if (m) return await artifact(res, m[1], m[2]);
    return fail(res, 404, 'no such page');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (e instanceof NotFound) fail(res, 404, `not found: ${e.message}`);
      else if (e instanceof URIError) fail(res, 400, 'a malformed address (bad percent-encoding)');
      else fail(res, 500, (e as Error).message);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 4280, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  // A wildcard bind answers this machine's own names and addresses (what a browser elsewhere
  // would put in Host), never an arbitrary name pointed at it.
  const wildcard = host === '0.0.0.0' || host === '::';
  const addresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => (a.family === 'IPv6' ? `[${a.address}]` : a.address)));
  const names = isLoopback(host)
    ? ['127.0.0.1', 'localhost', '[::1]']
    : wildcard
      ? ['127.0.0.1', 'localhost', '[::1]', hostname(), ...addresses]
      : [host.includes(':') ? `[${host}]` : host];
  allowedHosts = new Set(names.map((n) => `${n}:${port}`.toLowerCase()));
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: wildcard ? `http://127.0.0.1:${port}/` : `http://${shown}:${port}/`,
    remoteUrl: wildcard ? `http://${hostname()}:${port}/` : undefined,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          registry.close().then(resolve, () => resolve());
        });
        server.closeAllConnections();
      }),
  };
}
