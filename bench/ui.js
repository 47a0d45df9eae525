// Dashboard pages at scale: a registry of 10,000 compare runs (5 models x 20 versions, 20
// datasets, five dims, every metric; a tag and a note on every tenth run) beside the same pages on
// 100 runs, from the same process: every page, and the runs page under each filter. Each figure is the
// median (and max) of 7 requests after one warm-up, wall time on 127.0.0.1. With
// EMB_BENCH_POSTGRES=postgres://.../db (an empty database) the 10,000-run registry is also copied
// there (`registry copy`, timed) and the same pages are timed against PostgreSQL.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyRegistry, metricKey, metricNames, Registry } from '../dist/lib/index.js';
import { startDashboard } from '../dist/ui/server.js';
import { machine } from './score.js';

const DIMS = [768, 512, 256, 128, 64];

async function fill(path, runs, artifacts) {
  const reg = await Registry.open(path);
  const names = metricNames();
  const metrics = (shift) => Object.fromEntries(DIMS.flatMap((d) => names.map((n) => [metricKey(d, n), Math.min(1, 0.3 + shift + d / 4000)])));
  const ids = [];
  for (let i = 0; i < runs; i++) {
    const model = `model-${i % 5}`;
    const version = Math.floor(i / 5) % 20;
    const id = await reg.startRun({
      command: 'compare',
      argv: ['compare'],
      dataset: {
        name: `data-${i % 20}`,
        fingerprint: createHash('sha256')
          .update(`data-${i % 20}`)
          .digest('hex'),
        counts: { queries: 300 },
      },
      dims: DIMS,
      kLists: {},
    });
    await reg.finishRun(
      id,
      [
        { role: 'base', model: { name: 'base', sha256: 'b'.repeat(64), path: '/models/base' }, metrics: metrics(0) },
        {
          role: 'tuned',
          model: { name: model, sha256: createHash('sha256').update(`${model}/${version}`).digest('hex'), path: `/models/${model}/${version}` },
          metrics: metrics(0.01 * version),
        },
      ],
      artifacts,
    );
    if (i % 10 === 0) {
      await reg.tagRun(id, { nightly: '', gpu: i % 20 === 0 ? 'h100' : 'a100' });
      await reg.noteRun(id, `sweep point ${i}`);
    }
    ids.push(id);
  }
  await reg.close();
  return ids;
}

async function timePages(path, ids) {
  const runId = ids[ids.length - 1];
  const dashboard = await startDashboard({ registry: path, port: 0 });
  const fp = createHash('sha256').update('data-7').digest('hex').slice(0, 12);
  const pages = [
    '',
    'models/model-1',
    'runs',
    'runs?page=3',
    'runs?model=model-2&status=succeeded',
    'runs?dataset=data-7',
    `runs?dataset=${fp}`,
    'runs?since=2026-01-01&command=compare',
    'runs?tag=gpu%3Dh100',
    'runs?q=sweep+point+99',
    `runs?where=${encodeURIComponent('dim_256_cosine_ndcg@10>0.55')}`,
    `runs?metric=${encodeURIComponent('dim_256_cosine_ndcg@10')}&order=metric-desc`,
    `runs/${runId}`,
    `runs/${runId}/queries`,
    `compare?run=${runId}`,
    'compare?a=model-0@1&b=model-1@20',
    `compare-runs?${ids
      .slice(-8)
      .map((id) => `run=${id}`)
      .join('&')}`,
  ];
  const out = {};
  for (const p of pages) {
    const times = [];
    for (let i = 0; i < 8; i++) {
      const t0 = performance.now();
      const res = await fetch(dashboard.url + p);
      const body = await res.text();
      if (res.status !== 200) throw new Error(`${p}: ${res.status} ${body.slice(0, 300)}`);
      if (i > 0) times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    out[`/${p}`] = { median_ms: +times[3].toFixed(1), max_ms: +times[times.length - 1].toFixed(1) };
  }
  await dashboard.close();
  return out;
}

export async function uiBench() {
  const dir = mkdtempSync(join(tmpdir(), 'emb-ui-bench-'));
  // one set of artifacts every run points to (what a compare writes)
  const results = join(dir, 'results.json');
  const perQuery = join(dir, 'per_query.jsonl');
  writeFileSync(results, JSON.stringify({ dataset: { name: 'data', source: '/nowhere' }, differences: {} }));
  writeFileSync(
    perQuery,
    Array.from({ length: 300 }, (_, q) =>
      JSON.stringify({ query_id: `q${q}`, base: { 'dim_64_cosine_ndcg@10': 0.3 }, tuned: { 'dim_64_cosine_ndcg@10': (q % 7) / 7 } }),
    ).join('\n') + '\n',
  );
  const sizes = {};
  for (const runs of [100, 10000]) {
    const path = join(dir, `r${runs}.db`);
    const t0 = performance.now();
    const ids = await fill(path, runs, [results, perQuery]);
    const fillS = (performance.now() - t0) / 1000;
    sizes[runs] = { fill_s: +fillS.toFixed(1), pages: await timePages(path, ids) };
    console.log(`${runs} runs (filled in ${fillS.toFixed(1)} s)`);
    for (const [p, t] of Object.entries(sizes[runs].pages))
      console.log(`  ${p.slice(0, 60).padEnd(60)} median ${String(t.median_ms).padStart(6)} ms  max ${t.max_ms} ms`);
    const url = process.env.EMB_BENCH_POSTGRES;
    if (url && runs === 10000) {
      const [from, to] = [await Registry.open(path, { readonly: true }), await Registry.open(url)];
      const c0 = performance.now();
      const copied = await copyRegistry(from, to);
      const copyS = (performance.now() - c0) / 1000;
      await Promise.all([from.close(), to.close()]);
      sizes.postgres = { copy_s: +copyS.toFixed(1), copied_runs: copied.runs, pages: await timePages(url, ids) };
      console.log(`${runs} runs in PostgreSQL (registry copy ${copyS.toFixed(1)} s)`);
      for (const [p, t] of Object.entries(sizes.postgres.pages))
        console.log(`  ${p.slice(0, 60).padEnd(60)} median ${String(t.median_ms).padStart(6)} ms  max ${t.max_ms} ms`);
    }
  }
  return { machine: machine(), sizes };
}
