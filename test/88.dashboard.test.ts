// `emb-bench ui`, on a registry filled by real compare runs of the demo models: HTTP-level
// security (Host header, methods, CSRF, artifacts by id), then every page in headless Chromium
// (Debian's chromium through playwright-core): no console error, the registry's numbers, the
// navigation from models to a version to a run to its queries, the chart, a hostile model name
// shown as text. Screenshots of each page go to test-output/ui/.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../lib/registry/index.js';
import { queryTextsOf } from '../lib/runs/index.js';
import { type PageContext, perQueryTable } from '../ui/pages.js';
import { type Dashboard, startDashboard } from '../ui/server.js';
import { cli, ROOT } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';

const XSS = '<img src=x onerror=alert(1)>';
const SHOTS = join(ROOT, 'test-output', 'ui');

function chromiumPath(): string | null {
  for (const p of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) if (p && existsSync(p)) return p;
  return null;
}

describe('per-query pages', () => {
  it('a per_query.jsonl is read into columns once per content, and a few are kept', () => {
    const ctx = { perQuery: new Map() } as unknown as PageContext;
    const jsonl = (v: number) =>
      Buffer.from([`{"query_id":"q1","base":{"k":${v}},"tuned":{"k":0.5}}`, `{"query_id":"q2","base":{"k":0.25},"tuned":{"k":${v}}}`].join('\n') + '\n');
    const first = perQueryTable(ctx, 'sha-a', jsonl(1));
    expect(first.ids).toEqual(['q1', 'q2']);
    expect([...first.base.get('k')!]).toEqual([1, 0.25]);
    expect([...first.tuned.get('k')!]).toEqual([0.5, 1]);
    expect(perQueryTable(ctx, 'sha-a', Buffer.from('not read again'))).toBe(first);
    for (const sha of ['b', 'c', 'd', 'e']) perQueryTable(ctx, sha, jsonl(0));
    expect(ctx.perQuery.has('sha-a')).toBe(false);
    expect(ctx.perQuery.size).toBe(4);
  });
});

describe('emb-bench ui', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emb-ui-'));
  const reg = join(dir, 'registry.db');
  let runId = '';
  let ro: Dashboard;
  let rw: Dashboard;

  beforeAll(async () => {
    const env = { EMB_BENCH_REGISTRY: reg };
    const demo = await cli(['demo', '--out', join(dir, 'demo')], env);
    expect(demo.code, demo.stderr).toBe(0);
    const m = join(dir, 'demo', 'models');
    const r = await cli(
      [
        'compare',
        join(m, 'base'),
        join(m, 'fine-tuned'),
        '--data',
        join(dir, 'demo', 'synthetic-synonyms'),
        '--dims',
        '64,16',
        '--base-name',
        XSS,
        '--out',
        join(dir, 'o2'),
        '--no-cache',
        '--json',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    runId = JSON.parse(r.stdout).run_id;
    expect(
      (await cli(['models', 'log-metadata', 'fine-tuned', '1', '--set', 'training_params.learning_rate=2e-5', '--set', 'hardware.gpu=H100'], env)).code,
    ).toBe(0);
    ro = await startDashboard({ registry: reg, port: 0 });
    rw = await startDashboard({ registry: reg, port: 0, allowWrite: true });
  }, 180_000);
  afterAll(async () => {
    await ro?.close();
    await rw?.close();
  });

  describe('HTTP', () => {
    it('refuses a foreign Host header (DNS rebinding)', async () => {
      const { port } = new URL(ro.url);
      const status = (host: string) =>
        new Promise<number>((resolve, reject) =>
          get({ host: '127.0.0.1', port, path: '/', headers: { host } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          }).on('error', reject),
        );
      expect(await status(`attacker.example:${port}`)).toBe(421);
      expect(await status(`localhost:${port}`)).toBe(200);
    });

    it('serves artifacts by run and name only: a traversal is refused', async () => {
      expect((await fetch(`${ro.url}runs/${runId}/artifacts/chart.png`)).status).toBe(200);
      for (const bad of [`runs/${runId}/artifacts/..%2F..%2Fregistry.db`, `runs/${runId}/artifacts/%2Fetc%2Fpasswd`, `runs/${runId}/../../etc/passwd`])
        expect((await fetch(ro.url + bad)).status, bad).toBe(404);
    });

    it('sends a strict Content-Security-Policy and escapes registry text', async () => {
      const res = await fetch(ro.url);
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'; style-src 'self'; img-src 'self'/);
      const body = await res.text();
      expect(body).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(body).not.toContain(XSS);
    });

    it('read-only by default: POST is refused; with --allow-write it needs the token and the same origin', async () => {
      const form = (csrf: string) => new URLSearchParams({ csrf, name: 'fine-tuned', version: '1', stage: 'production' });
      expect((await fetch(`${ro.url}promote`, { method: 'POST', body: form('x') })).status).toBe(405);
      const origin = rw.url.replace(/\/$/, '');
      expect((await fetch(`${rw.url}promote`, { method: 'POST', body: form('forged'), headers: { origin }, redirect: 'manual' })).status).toBe(403);
      const page = await (await fetch(`${rw.url}models/fine-tuned`)).text();
      const token = /name="csrf" value="([0-9a-f]+)"/.exec(page)![1];
      expect(
        (await fetch(`${rw.url}promote`, { method: 'POST', body: form(token), headers: { origin: 'http://evil.example' }, redirect: 'manual' })).status,
      ).toBe(403);
      const ok = await fetch(`${rw.url}promote`, { method: 'POST', body: form(token), headers: { origin }, redirect: 'manual' });
      expect(ok.status).toBe(303);
      const r = await Registry.open(reg, { readonly: true });
      expect((await r.showModel('fine-tuned')).versions[0].stage).toBe('production');
      expect((await r.stageHistory('fine-tuned', 1)).map((h) => [h.previous, h.stage, h.source])).toEqual([['none', 'production', 'dashboard']]);
      await r.close();
    });

    it("the per-query page shows each query's text while the dataset is where the run read it, and none after", async () => {
      const queries = readFileSync(join(dir, 'demo', 'synthetic-synonyms', 'queries.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const page = await (await fetch(`${ro.url}runs/${runId}/queries?sort=id`)).text();
      expect(page).toMatch(
        new RegExp(`<td><a href="[^"]*query=${queries[0]._id}#retrieved" title="what it retrieved">${queries[0]._id}</a></td><td>${queries[0].text}</td>`),
      );
      expect(await queryTextsOf({ source: join(dir, 'gone'), split: 'test' })).toBeNull();
    });

    it('malformed requests get 4xx, never 500 or a reset: bad percent-encoding, an unparsable Referer, a form over 10 KB', async () => {
      expect((await fetch(`${ro.url}models/%E0%A4%A`)).status).toBe(400);
      const page = await (await fetch(`${rw.url}models/fine-tuned`)).text();
      const token = /name="csrf" value="([0-9a-f]+)"/.exec(page)![1];
      const form = new URLSearchParams({ csrf: token, name: 'fine-tuned', version: '1', stage: 'staging' });
      expect((await fetch(`${rw.url}promote`, { method: 'POST', body: form, headers: { referer: '::::' }, redirect: 'manual' })).status).toBe(403);
      const origin = rw.url.replace(/\/$/, '');
      const big = await fetch(`${rw.url}promote`, { method: 'POST', body: `csrf=${token}&pad=${'x'.repeat(50_000)}`, headers: { origin }, redirect: 'manual' });
      expect(big.status).toBe(413);
    });

    it('--allow-write is refused on an address other machines reach; a wildcard bind prints a URL that answers', async () => {
      await expect(startDashboard({ registry: reg, port: 0, host: '0.0.0.0', allowWrite: true })).rejects.toThrow(/allowWrite: only on a loopback address/);
      const r = await cli(['ui', '--host', '0.0.0.0', '--allow-write', '--port', '0'], { EMB_BENCH_REGISTRY: reg });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^emb-bench: --allow-write: only on a loopback address/);
      const wild = await startDashboard({ registry: reg, port: 0, host: '0.0.0.0' });
      try {
        expect((await fetch(wild.url)).status).toBe(200);
        expect(wild.remoteUrl).toMatch(/^http:\/\/.+:\d+\/$/);
      } finally {
        await wild.close();
      }
    });

    it('compare warns when the two versions were evaluated on different datasets', async () => {
      const m = join(dir, 'demo', 'models');
      const r = await cli(['eval', join(m, 'fine-tuned'), '--data', writeTinyBeir(), '--model-name', 'other-data', '--out', join(dir, 'o4'), '--no-cache'], {
        EMB_BENCH_REGISTRY: reg,
      });
      expect(r.code, r.stderr).toBe(0);
      const same = await (await fetch(`${ro.url}compare?run=${runId}`)).text();
      expect(same).not.toContain('used different datasets');
      const page = await (await fetch(`${ro.url}compare?a=fine-tuned%401&b=other-data%401`)).text();
      expect(page).toContain('The two evaluations used different datasets');
    });

    it('a per_query.jsonl too large to page (kept as a checked reference, not in the registry) is offered for download instead', async () => {
      const big = join(mkdtempSync(join(tmpdir(), 'emb-big-')), 'per_query.jsonl');
      writeFileSync(big, Buffer.alloc(65 << 20, 0x20));
      const r = await Registry.open(reg);
      const id = await r.startRun({ command: 'eval', argv: [] });
      await r.finishRun(id, [], [big]);
      await r.close();
      const page = await (await fetch(`${ro.url}runs/${id}/queries`)).text();
      expect(page).toMatch(/more than the dashboard pages through/);
    });

    it("each run shows its own bytes: a later run's outputs in the same folder, or a file changed since, do not replace them", async () => {
      const m = join(dir, 'demo', 'models');
      const out = join(dir, 'same-out');
      const run = async (model: string) => {
        const args = ['eval', join(m, model), '--model-name', `own-bytes-${model}`, '--data', join(dir, 'demo', 'synthetic-synonyms'), '--out', out];
        const r = await cli([...args, '--no-cache', '--json'], {
          EMB_BENCH_REGISTRY: reg,
        });
        expect(r.code, r.stderr).toBe(0);
        return JSON.parse(r.stdout).run_id as string;
      };
      const first = await run('base');
      const second = await run('fine-tuned');
      const served = async (id: string) => Buffer.from(await (await fetch(`${ro.url}runs/${id}/artifacts/results.json`)).arrayBuffer());
      const r = await Registry.open(reg, { readonly: true });
      const recorded = (await r.showRun(first)).artifacts.find((a) => a.name === 'results.json')!.sha256;
      await r.close();
      const firstBytes = await served(first);
      expect(createHash('sha256').update(firstBytes).digest('hex')).toBe(recorded);
      expect(firstBytes.equals(await served(second))).toBe(false);
      expect(firstBytes.equals(readFileSync(join(out, 'results.json')))).toBe(false); // the folder holds the second run's
      expect(await (await fetch(`${ro.url}runs/${first}`)).text()).not.toContain('changed or missing');
    });

    it('a registry row pointing at another file is not served: only bytes whose sha256 the run recorded', async () => {
      const copy = join(mkdtempSync(join(tmpdir(), 'emb-forged-')), 'r.db');
      writeFileSync(copy, readFileSync(reg));
      const db = new Database(copy);
      db.prepare(`UPDATE artifacts SET path = '/etc/passwd', sha256 = ? WHERE run_id = ? AND name = 'results.json'`).run('0'.repeat(64), runId);
      db.close();
      const forged = await startDashboard({ registry: copy, port: 0 });
      try {
        const res = await fetch(`${forged.url}runs/${runId}/artifacts/results.json`);
        expect(res.status).toBe(410);
        const body = await res.text();
        expect(body).toMatch(/changed or missing since this run/);
        expect(body).not.toMatch(/root:/);
        expect(await (await fetch(`${forged.url}runs/${runId}`)).text()).toMatch(/results\.json: changed or missing since this run/);
      } finally {
        await forged.close();
      }
    });

    it('a run written while the dashboard is open appears on reload', async () => {
      const before = await (await fetch(`${ro.url}runs`)).text();
      const m = join(dir, 'demo', 'models');
      const r = await cli(['eval', join(m, 'base'), '--data', join(dir, 'demo', 'synthetic-synonyms'), '--out', join(dir, 'o3'), '--no-cache', '--json'], {
        EMB_BENCH_REGISTRY: reg,
      });
      expect(r.code, r.stderr).toBe(0);
      const id = JSON.parse(r.stdout).run_id as string;
      expect(before).not.toContain(id.slice(0, 8));
      expect(await (await fetch(`${ro.url}runs`)).text()).toContain(id.slice(0, 8));
    });
  });

  describe.skipIf(!chromiumPath())('in Chromium', () => {
    // biome-ignore lint/suspicious/noExplicitAny: playwright types are loaded lazily
    let browser: any;
    // biome-ignore lint/suspicious/noExplicitAny: playwright types are loaded lazily
    let pageOf: (url: string, shot: string) => Promise<{ page: any; errors: string[]; dialogs: string[] }>;

    // biome-ignore lint/suspicious/noDuplicateTestHooks: the hooks of the nested (skippable) describe
    beforeAll(async () => {
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({ executablePath: chromiumPath()!, args: ['--no-sandbox'] });
      mkdirSync(SHOTS, { recursive: true });
      pageOf = async (url, shot) => {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const errors: string[] = [];
        const dialogs: string[] = [];
        page.on('console', (m: { type(): string; text(): string }) => m.type() === 'error' && errors.push(m.text()));
        page.on('pageerror', (e: Error) => errors.push(e.message));
        page.on('dialog', async (d: { message(): string; dismiss(): Promise<void> }) => {
          dialogs.push(d.message());
          await d.dismiss();
        });
        const res = await page.goto(url);
        expect(res.status(), url).toBe(200);
        await page.screenshot({ path: join(SHOTS, `${shot}.png`), fullPage: true });
        return { page, errors, dialogs };
      };
    }, 60_000);
    // biome-ignore lint/suspicious/noDuplicateTestHooks: the hooks of the nested (skippable) describe
    afterAll(async () => browser?.close());

    it('models: every model, the hostile name as text (no dialog), nDCG@10 equal to the registry', async () => {
      const { page, errors, dialogs } = await pageOf(ro.url, 'models');
      expect(errors).toEqual([]);
      expect(dialogs).toEqual([]);
      await expect(page.getByRole('link', { name: XSS }).count()).resolves.toBe(1);
      const r = await Registry.open(reg, { readonly: true });
      const tuned = (await r.showModel('fine-tuned')).versions[0].latestMetrics as Record<string, number>;
      await r.close();
      const row = await page.getByRole('row', { name: /^fine-tuned/ }).textContent();
      expect(row).toContain(`64: ${tuned['dim_64_cosine_ndcg@10'].toFixed(4)}`);
    });

    it('navigation: models -> a model version -> its run -> per query; the chart and report are there', async () => {
      const { page, errors } = await pageOf(ro.url, 'models');
      await page.getByRole('link', { name: 'fine-tuned', exact: true }).click();
      await page.waitForURL(/\/models\/fine-tuned/);
      await page.screenshot({ path: join(SHOTS, 'model.png'), fullPage: true });
      expect(await page.locator('svg.chart path').count()).toBeGreaterThan(0);
      expect(await page.getByText('learning_rate').count()).toBeGreaterThan(0);
      await page.locator('table').first().getByRole('link').first().click();
      await page.waitForURL(/\/runs\/[0-9a-f-]+$/);
      await page.screenshot({ path: join(SHOTS, 'run.png'), fullPage: true });
      expect(await page.locator('.report img[alt="chart"]').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(500);
      expect(await page.locator('.report h2').count()).toBeGreaterThan(0);
      await page.getByRole('link', { name: 'per query' }).click();
      await page.waitForURL(/\/queries/);
      await page.screenshot({ path: join(SHOTS, 'queries.png'), fullPage: true });
      expect(await page.locator('tbody tr').count()).toBe(50);
      expect(errors).toEqual([]);
    });

    it('compare: the Matryoshka curve and the difference with intervals, the numbers of results.json, the selection in the URL', async () => {
      const { page, errors, dialogs } = await pageOf(`${ro.url}compare?run=${runId}`, 'compare');
      expect(errors).toEqual([]);
      expect(dialogs).toEqual([]);
      expect(await page.locator('svg.chart').count()).toBe(2);
      expect(await page.locator('svg.chart .interval').count()).toBe(2); // dims 64 and 16
      const results = JSON.parse(readFileSync(join(dir, 'o2', 'results.json'), 'utf8'));
      const d = results.differences['dim_16_cosine_ndcg@10'];
      const row = await page.getByRole('row', { name: /^ndcg@10 16 / }).textContent();
      expect(row).toContain(results.base.metrics['dim_16_cosine_ndcg@10'].toFixed(4));
      expect(row).toContain(`[${d.ci_low >= 0 ? '+' : ''}${d.ci_low.toFixed(4)}`);
      await page.getByLabel('metric').selectOption('mrr@10');
      await page.getByRole('button', { name: 'show' }).click();
      await page.waitForURL(/metric=mrr%4010/);
      expect(await page.locator('h2').first().textContent()).toContain('mrr@10');
    });

    it('runs: filters by model and status, from the URL', async () => {
      const { page, errors } = await pageOf(`${ro.url}runs?model=fine-tuned&status=succeeded`, 'runs');
      expect(errors).toEqual([]);
      const rows = await page.locator('tbody tr').count();
      expect(rows).toBeGreaterThanOrEqual(2);
      for (const t of await page.locator('tbody tr').allTextContents()) expect(t).toContain('fine-tuned');
    });
  });
});
