// The registry as a team's record: metadata history, every view aware of its dataset, run
// filters, tags, notes, demotion, deletion, export (CSV, Parquet, JSON, the ZenML file), paired
// tests from stored per-query values, and several runs compared at once. Both backends.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_COLUMNS, exportRuns, compareSelection, parseMetricCondition, Registry, storedDifferences } from '../lib/registry/index.js';
import { runCompare, runEval } from '../lib/runs/index.js';
import { metricKey } from '../lib/metrics/index.js';
import { startDashboard } from '../ui/server.js';
import { postgresForFile } from './helpers/postgres.js';
import { cli } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { writeTinyModel } from './helpers/tiny-model.js';

const tmp = (p = 'emb-team-') => mkdtempSync(join(tmpdir(), p));
const pg = postgresForFile();
const pgReason = pg.reason;

type Backend = 'sqlite' | 'postgres';

/** Two models, two datasets, and runs: base and tuned each evaluated on both datasets, and a compare on the first. */
async function world(backend: Backend) {
  const dir = tmp();
  const base = writeTinyModel(join(dir, 'base'), { pooling: 'mean', seed: 1 }).dir;
  const tuned = writeTinyModel(join(dir, 'tuned'), { pooling: 'mean', seed: 2 }).dir;
  const data = [writeTinyBeir({ docs: 60, queries: 24, seed: 1 }), writeTinyBeir({ docs: 50, queries: 20, seed: 2 })];
  const registry = backend === 'sqlite' ? join(dir, 'registry.db') : await pg.server().database();
  const common = { registry, cacheDir: null, dims: [8, 4] };
  const evals: Record<string, string> = {};
  for (const [i, d] of data.entries())
    for (const [name, model] of Object.entries({ base, tuned })) evals[`${name}${i}`] = (await runEval({ ...common, model, data: d, out: tmp() })).runId!;
  const compared = await runCompare({ ...common, base, tuned, data: data[0], out: tmp() });
  return { dir, base, tuned, data, registry, evals, compare: compared.kind === 'compare' ? compared : null! };
}

describe.each<Backend>(['sqlite', 'postgres'])('the registry as a record (%s)', (backend) => {
  const skip = backend === 'postgres' && pgReason ? `PostgreSQL: ${pgReason}` : null;
  if (skip) it.skip(skip, () => {});
  let w: Awaited<ReturnType<typeof world>>;
  beforeAll(async () => {
    if (!skip) w = await world(backend);
  }, 120_000);

  it.skipIf(skip)('a metadata merge keeps the earlier keys and every change is in the history: who, when, old and new', async () => {
    const reg = await Registry.open(w.registry);
    try {
      await reg.logMetadata('tuned', 1, { training_params: { learning_rate: 2e-5, batch_size: 32 } }, { source: 'cli' });
      const after = await reg.logMetadata('tuned', 'latest', { training_params: { learning_rate: 1e-5 } });
      expect(after.training_params).toEqual({ learning_rate: 1e-5, batch_size: 32 });
      await reg.logMetadata('tuned', 1, { training_params: { learning_rate: 1e-5 } }); // no change: no history row
      const history = await reg.metadataHistory('tuned', 1);
      expect(history.map((h) => [h.key, h.old, h.new, h.source])).toEqual([
        ['training_params', null, { learning_rate: 2e-5, batch_size: 32 }, 'cli'],
        ['training_params', { learning_rate: 2e-5, batch_size: 32 }, { learning_rate: 1e-5, batch_size: 32 }, 'library'],
      ]);
      expect(history[0].changedBy).toMatch(/@/);
      expect(Date.parse(history[1].changedAt)).toBeGreaterThanOrEqual(Date.parse(history[0].changedAt));
    } finally {
      await reg.close();
    }
    const r = await cli(['--registry', w.registry, 'models', 'history', 'tuned', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/training_params +\(absent\) +\{"learning_rate":0.00002,"batch_size":32\}/);
  });

  it.skipIf(skip)('a model evaluated on two datasets shows both, each named, in the CLI and on its dashboard page', async () => {
    const reg = await Registry.open(w.registry, { readonly: true });
    const m = await reg.showModel('base');
    await reg.close();
    expect(m.datasets).toHaveLength(2);
    expect(m.versions[0].datasets.map((d) => d.runs).sort()).toEqual([1, 2]); // dataset 0: an eval and the compare
    const r = await cli(['--registry', w.registry, 'models', 'show', 'base']);
    expect(r.code, r.stderr).toBe(0);
    const sections = r.stdout.split('\n').filter((l) => l.startsWith('dataset '));
    expect(sections).toHaveLength(2);
    for (const fp of m.datasets.map((d) => d.fingerprint!.slice(0, 12))) expect(r.stdout).toContain(fp);
    const dash = await startDashboard({ registry: w.registry, port: 0 });
    try {
      const page = await (await fetch(`${dash.url}models/base`)).text();
      for (const fp of m.datasets.map((d) => d.fingerprint!.slice(0, 12))) expect(page).toContain(`dataset ${fp}`);
      expect(page.match(/<svg class="chart"/g)).toHaveLength(2);
    } finally {
      await dash.close();
    }
  });

  it.skipIf(skip)('runs list filters by model, version, dataset, status, date, tag, metric thresholds and search, and limits', async () => {
    const reg = await Registry.open(w.registry);
    try {
      const all = await reg.listRuns(100);
      expect(all).toHaveLength(5);
      const fp = all.find((r) => r.id === w.evals.base1)!.datasetFingerprint!;
      expect((await reg.listRuns(100, { model: 'tuned' })).map((r) => r.id).sort()).toEqual([w.evals.tuned0, w.evals.tuned1, w.compare.runId!].sort());
      expect((await reg.listRuns(100, { model: 'tuned', version: 1 })).length).toBe(3);
      expect((await reg.listRuns(100, { model: 'tuned', version: 2 })).length).toBe(0);
      expect((await reg.listRuns(100, { dataset: fp.slice(0, 10) })).map((r) => r.id).sort()).toEqual([w.evals.base1, w.evals.tuned1].sort());
      expect((await reg.listRuns(100, { status: 'failed' })).length).toBe(0);
      expect((await reg.listRuns(100, { since: '2999-01-01' })).length).toBe(0);
      expect((await reg.listRuns(100, { since: '2000-01-01' })).length).toBe(5);
      expect((await reg.listRuns(2)).length).toBe(2);
      // thresholds: exactly the runs with a model above the value
      const key = metricKey(8, 'ndcg@10');
      const value = (id: string) => reg.showRun(id).then((r) => Math.max(...r.models.map((m) => m.metrics[key])));
      const values = Object.fromEntries(await Promise.all(all.map(async (r) => [r.id, await value(r.id)] as const)));
      const cut = [...Object.values(values)].sort((a, b) => a - b)[2];
      const above = (await reg.listRuns(100, { where: [parseMetricCondition(`${key}>${cut}`)] })).map((r) => r.id).sort();
      expect(above).toEqual(
        Object.keys(values)
          .filter((id) => values[id] > cut)
          .sort(),
      );
      // tags, notes, search
      await reg.tagRun(w.evals.base0, { nightly: '', gpu: 'h100' });
      await reg.noteRun(w.evals.base0, 'baseline before the new loss');
      expect((await reg.listRuns(100, { tag: 'nightly' })).map((r) => r.id)).toEqual([w.evals.base0]);
      expect((await reg.listRuns(100, { tag: 'gpu=h100' })).map((r) => r.id)).toEqual([w.evals.base0]);
      expect((await reg.listRuns(100, { tag: 'gpu=a100' })).length).toBe(0);
      expect((await reg.listRuns(100, { search: 'new loss' })).map((r) => r.id)).toEqual([w.evals.base0]);
      expect((await reg.listRuns(100, { search: '50%_' })).length).toBe(0); // LIKE's wildcards are literal
      const sorted = await reg.listRuns(100, { metric: { dim: 8, name: 'ndcg@10' }, order: 'metric-desc' });
      expect(sorted.map((r) => r.metricValue)).toEqual([...sorted.map((r) => r.metricValue)].sort((a, b) => b! - a!));
      const shown = await reg.showRun(w.evals.base0);
      expect([shown.note, shown.tags]).toEqual(['baseline before the new loss', { nightly: '', gpu: 'h100' }]);
      expect(await reg.tagRun(w.evals.base0, {}, ['gpu'])).toEqual({ nightly: '' });
    } finally {
      await reg.close();
    }
    const r = await cli(['--registry', w.registry, 'runs', 'list', '--model', 'tuned', '--where', 'dim_8_cosine_ndcg@10>=0', '--limit', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(4);
    const bad = await cli(['--registry', w.registry, 'runs', 'list', '--where', 'ndcg@10>0.4']);
    expect([bad.code, bad.stderr.trim().split('\n').length]).toEqual([2, 1]);
    expect(bad.stderr).toMatch(/--where: "ndcg@10>0.4" is not a metric condition/);
  });

  it.skipIf(skip)('descriptions, tags, demotion and archiving of models and versions', async () => {
    const reg = await Registry.open(w.registry);
    try {
      await reg.describe('tuned', undefined, 'MNRL + Matryoshka on our support tickets');
      await reg.describe('tuned', 1, 'first try');
      expect(await reg.tagModel('tuned', undefined, { team: 'search' })).toEqual({ team: 'search' });
      expect(await reg.tagModel('tuned', 'latest', { candidate: '' })).toEqual({ candidate: '' });
      await reg.promote('tuned', 'latest', 'production');
      expect(await reg.demote('tuned', 1, 'demote')).toBe('staging');
      expect(await reg.demote('tuned', 1, 'demote')).toBe('none');
      await expect(reg.demote('tuned', 1, 'demote')).rejects.toThrow(/has no stage; only staging and production step down/);
      expect(await reg.demote('tuned', 1, 'archive')).toBe('archived');
      const m = await reg.showModel('tuned');
      expect([m.description, m.tags, m.versions[0].description, m.versions[0].tags, m.versions[0].stage]).toEqual([
        'MNRL + Matryoshka on our support tickets',
        { team: 'search' },
        'first try',
        { candidate: '' },
        'archived',
      ]);
      expect((await reg.stageHistory('tuned', 1)).map((h) => `${h.previous}>${h.stage}`)).toEqual([
        'none>production',
        'production>staging',
        'staging>none',
        'none>archived',
      ]);
    } finally {
      await reg.close();
    }
  });

  it.skipIf(skip)('stored per-query values give the intervals and p-values a compare of the same two models gives', async () => {
    const reg = await Registry.open(w.registry, { readonly: true });
    try {
      const r = await storedDifferences(reg, { run: w.evals.base0, role: 'model' }, { run: w.evals.tuned0, role: 'model' });
      if (!('differences' in r)) throw new Error(r.problem);
      expect(Object.keys(r.differences).sort()).toEqual(Object.keys(w.compare.result.differences).sort());
      for (const [key, d] of Object.entries(w.compare.result.differences)) expect(r.differences[key]).toEqual(d);
      const other = await storedDifferences(reg, { run: w.evals.base0, role: 'model' }, { run: w.evals.tuned1, role: 'model' });
      expect(other).toEqual({ problem: 'the two runs read different datasets' });
      // several at once: a table per dataset, Holm across the selection
      const s = await compareSelection(
        reg,
        [{ run: w.evals.base0 }, { run: w.evals.tuned0 }, { run: w.compare.runId!, role: 'tuned' }, { run: w.evals.base1 }, { run: w.evals.tuned1 }],
        {
          metric: 'ndcg@10',
        },
      );
      expect(s.groups.map((g) => g.rows.length)).toEqual([3, 2]);
      const tests = s.groups.flatMap((g) => g.rows.flatMap((row) => Object.values(row.tests ?? {})));
      expect(tests).toHaveLength(6); // (2 + 1) models x 2 dims
      const min = tests.reduce((a, b) => (a.pValue < b.pValue ? a : b));
      expect(min.pHolm).toBeCloseTo(Math.min(1, min.pValue * 6), 12);
      const dash = await startDashboard({ registry: w.registry, port: 0 });
      try {
        const page = await (await fetch(`${dash.url}compare?a=base@1&b=tuned@1`)).text();
        expect(page).toMatch(/from the compare run|stored per-query values/);
        const many = await (await fetch(`${dash.url}compare-runs?run=${w.evals.base0}&run=${w.evals.tuned0}&run=${w.evals.base1}`)).text();
        expect(many.match(/<svg class="chart"/g)).toHaveLength(2);
      } finally {
        await dash.close();
      }
    } finally {
      await reg.close();
    }
  });

  it.skipIf(skip)('export: a tidy table through CSV and Parquet read back, JSON, and the ZenML metadata file', async () => {
    const reg = await Registry.open(w.registry, { readonly: true });
    const json = JSON.parse((await exportRuns(reg, 'json', { filter: { model: 'tuned' } })) as string) as Array<Record<string, unknown>>;
    await reg.close();
    const show = await Registry.open(w.registry, { readonly: true });
    const expected: Array<[string, string, number, string, number]> = [];
    for (const id of [w.evals.tuned0, w.evals.tuned1, w.compare.runId!]) {
      const r = await show.showRun(id);
      for (const m of r.models) for (const [k, v] of Object.entries(m.metrics)) expected.push([id, m.role, Number(k.split('_')[1]), k.split('_cosine_')[1], v]);
    }
    await show.close();
    const key = (r: { run_id: unknown; role: unknown; dim: unknown; metric: unknown }) => `${r.run_id}|${r.role}|${r.dim}|${r.metric}`;
    const want = new Map(expected.map(([id, role, dim, metric, value]) => [`${id}|${role}|${dim}|${metric}`, value]));
    expect(json.length).toBe(want.size);
    for (const row of json) expect(row.value).toBe(want.get(key(row as never)));
    // CSV, parsed back
    const out = tmp();
    const csv = await cli(['--registry', w.registry, 'runs', 'export', '--model', 'tuned', '--format', 'csv', '--out', join(out, 'runs.csv')]);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = readFileSync(join(out, 'runs.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe(EXPORT_COLUMNS.join(','));
    expect(lines).toHaveLength(want.size + 1);
    const cols = lines[0].split(',');
    const parsed = lines.slice(1).map((l) => {
      const cells = [...l.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)].map((m) => m[1].replace(/^"|"$/g, '').replace(/""/g, '"')).slice(0, cols.length);
      return Object.fromEntries(cols.map((c, i) => [c, cells[i]]));
    });
    for (const row of parsed) expect(Number(row.value)).toBe(want.get(key(row as never)));
    // Parquet, read back
    const pq = await cli(['--registry', w.registry, 'runs', 'export', '--model', 'tuned', '--format', 'parquet', '--out', join(out, 'runs.parquet')]);
    expect(pq.code, pq.stderr).toBe(0);
    const bytes = readFileSync(join(out, 'runs.parquet'));
    const objects = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) });
    expect(objects).toHaveLength(want.size);
    for (const row of objects) expect(row.value).toBe(want.get(key(row as never)));
    expect(typeof objects[0].dim).toBe('number');
    // ZenML: the run's metadata as log_model_metadata takes it
    const z = await cli(['--registry', w.registry, 'runs', 'export', w.compare.runId!, '--format', 'zenml']);
    expect(z.code, z.stderr).toBe(0);
    const zen = JSON.parse(z.stdout);
    expect(Object.keys(zen).sort()).toEqual(['base_model_eval', 'finetuned_model_eval']);
    expect(zen.finetuned_model_eval).toEqual(w.compare.results.tuned.metrics);
  });

  it.skipIf(skip)('deleting a run removes it, its metrics and its stored artifacts, and keeps the versions', async () => {
    const reg = await Registry.open(w.registry);
    try {
      const before = await reg.showRun(w.evals.tuned1);
      expect(before.artifacts.length).toBeGreaterThan(0);
      const refused = await cli(['--registry', w.registry, 'runs', 'delete', w.evals.tuned1]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/add --yes/);
      const r = await cli(['--registry', w.registry, 'runs', 'delete', w.evals.tuned1.slice(0, 8), '--yes']);
      expect(r.code, r.stderr).toBe(0);
      await expect(reg.showRun(w.evals.tuned1)).rejects.toThrow(/is not in the registry/);
      expect(await reg.store.all('SELECT * FROM metrics WHERE run_id = ?', w.evals.tuned1)).toEqual([]);
      // bytes only this run held are gone; bytes another run holds too stay
      for (const a of before.artifacts) {
        const others = await reg.store.all('SELECT 1 FROM artifacts WHERE sha256 = ?', a.sha256);
        const blob = await reg.store.all('SELECT 1 FROM artifact_blobs WHERE sha256 = ?', a.sha256);
        expect(blob.length).toBe(others.length ? 1 : 0);
      }
      expect((await reg.showModel('tuned')).versions).toHaveLength(1);
    } finally {
      await reg.close();
    }
  });
});

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser', process.env.CHROMIUM_PATH].find((p) => p && existsSync(p));

describe.skipIf(!chromium)('in Chromium', () => {
  it('a model on two datasets: one section and one chart per dataset, no console error; runs selected and compared', async () => {
    const w = await world('sqlite');
    const dash = await startDashboard({ registry: w.registry, port: 0 });
    const { chromium: browserType } = await import('playwright-core');
    const browser = await browserType.launch({ executablePath: chromium!, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${dash.url}models/base`);
      const reg = await Registry.open(w.registry, { readonly: true });
      const m = await reg.showModel('base');
      await reg.close();
      for (const d of m.datasets) await expect(page.getByText(`dataset ${d.fingerprint!.slice(0, 12)}`).count()).resolves.toBe(1);
      await expect(page.locator('svg.chart').count()).resolves.toBe(2);
      // the runs page: tick two runs, compare them
      await page.goto(`${dash.url}runs?dataset=${encodeURIComponent(m.datasets[0].name!)}`);
      const boxes = page.locator('input[type=checkbox][name=run]');
      await boxes.nth(0).check();
      await boxes.nth(1).check();
      await page.getByRole('button', { name: 'compare selected' }).click();
      await page.waitForURL(/\/compare-runs\?/);
      await expect(page.locator('svg.chart').count()).resolves.toBe(1);
      await expect(page.getByText('reference').count()).resolves.toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await dash.close();
    }
  }, 120_000);
});

it('runs show prints the command, the timings, the hardware and the note', async () => {
  const w = await world('sqlite');
  const r = await cli(['--registry', w.registry, 'runs', 'note', w.evals.base0, 'why: a baseline']);
  expect(r.code, r.stderr).toBe(0);
  const shown = await cli(['--registry', w.registry, 'runs', 'show', w.evals.base0]);
  expect(shown.stdout).toMatch(/^command: emb-bench /m);
  expect(shown.stdout).toMatch(/^started .*, ended .* \(\d+\.\d s\)$/m);
  expect(shown.stdout).toMatch(/^hardware: .*cpu/m);
  expect(shown.stdout).toMatch(/^note: why: a baseline$/m);
  expect(existsSync(w.registry)).toBe(true);
}, 120_000);
