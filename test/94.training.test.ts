// A training run evaluated whole: every checkpoint equals `eval` on it alone, the pick follows
// the numbers, the trainer's own numbers are set beside emb-bench's, a deleted checkpoint is
// skipped, the watch takes a checkpoint written while it runs, and the registry keeps each
// checkpoint as a version with its step.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Registry } from '../lib/registry/index.js';
import { startDashboard } from '../ui/server.js';
import { runEval, runTraining } from '../lib/runs/index.js';
import { metricKey } from '../lib/metrics/index.js';
import { listCheckpoints } from '../lib/encode/checkpoints.js';
import { trainerAgreement } from '../lib/training.js';
import { cli, ROOT } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { trainerState, writeCheckpoint, writeTrainingRun } from './helpers/training-run.js';
import { writeTinyTransformer } from './helpers/transformer-model.js';

const tmp = (p = 'emb-train-') => mkdtempSync(join(tmpdir(), p));
const DIMS = [16, 8, 4];
const data = writeTinyBeir({ docs: 120, queries: 30, seed: 4 });

describe('a training output folder', () => {
  it('lists checkpoints in step order (not name order), the final model last, and picks by step or name', () => {
    const root = writeTrainingRun(tmp(), [900, 100, 1000], { final: true });
    expect(listCheckpoints(root).map((c) => [c.name, c.step])).toEqual([
      ['checkpoint-100', 100],
      ['checkpoint-900', 900],
      ['checkpoint-1000', 1000],
      ['final', 1000],
    ]);
    expect(listCheckpoints(root, ['1000', 'checkpoint-100', 'final']).map((c) => c.name)).toEqual(['checkpoint-1000', 'checkpoint-100', 'final']);
    expect(() => listCheckpoints(root, ['500'])).toThrow(/has no checkpoint "500" \(it has checkpoint-100, checkpoint-900, checkpoint-1000, final\)/);
    writeFileSync(join(root, 'checkpoint-100', 'trainer_state.json'), '{"log_history": 3}');
    expect(() => listCheckpoints(root)).toThrow(/checkpoint-100\/trainer_state\.json: log_history must be a list of objects/);
  });
});

describe('runTraining', () => {
  it('gives every checkpoint the numbers eval gives it alone, picks the best per dim, and sets the trainer numbers beside', async () => {
    const root = tmp();
    const steps = [100, 200, 300];
    writeTrainingRun(root, steps, { final: true });
    // what eval says of checkpoint-200 alone, logged by "the trainer" at step 200 (agreeing); at
    // step 300 a number half a point off (another eval set)
    const alone: Record<string, Record<string, number>> = {};
    for (const c of ['checkpoint-100', 'checkpoint-200', 'checkpoint-300', '.']) {
      const r = await runEval({ model: join(root, c), data, dims: DIMS, out: tmp(), registry: null, cacheDir: null });
      alone[c === '.' ? 'final' : c] = r.result.metrics;
    }
    const three = alone['checkpoint-300'];
    const log = {
      eval: {
        200: {
          'eval_dim_16_cosine_ndcg@10': alone['checkpoint-200'][metricKey(16, 'ndcg@10')],
          'eval_dim_8_cosine_mrr@10': alone['checkpoint-200'][metricKey(8, 'mrr@10')],
        },
        300: { 'eval_dim_16_cosine_ndcg@10': three[metricKey(16, 'ndcg@10')] + 0.5 },
      },
    };
    for (const s of steps) writeFileSync(join(root, `checkpoint-${s}`, 'trainer_state.json'), trainerState(s, 200, log, steps));
    const registry = join(tmp(), 'registry.db');
    const out = tmp();
    const warnings: string[] = [];
    const seen: string[] = [];
    const run = await runTraining({
      run: root,
      data,
      dims: DIMS,
      out,
      registry,
      cacheDir: null,
      onWarning: (w) => warnings.push(w),
      onCheckpoint: (c) => seen.push(c.checkpoint.name),
    });
    expect(seen).toEqual(['checkpoint-100', 'checkpoint-200', 'checkpoint-300', 'final']);
    // the texts were tokenized once: every later checkpoint was served the first one's tokens
    const texts = 120 + 30;
    expect(run.tokenization.tokenized).toBeLessThanOrEqual(texts + 2); // + the width probe
    expect(run.tokenization.served).toBeGreaterThanOrEqual(3 * texts);
    for (const c of run.result.checkpoints) expect(c.result.metrics).toEqual(alone[c.checkpoint.name]);
    // the pick: the highest ndcg@10 per dim, the earliest of equals
    for (const p of run.result.picks) {
      const key = metricKey(p.dim, 'ndcg@10');
      const values = run.result.checkpoints.map((c) => c.result.metrics[key]);
      expect(p.bestValue).toBe(Math.max(...values));
      expect(p.best).toBe(run.result.checkpoints[values.indexOf(Math.max(...values))].checkpoint.name);
      const earliest = run.result.checkpoints.find((c) => c.checkpoint.name === p.best || !p.againstBest[c.checkpoint.name].significant)!;
      expect(p.earliest).toBe(earliest.checkpoint.name);
      expect(Object.keys(p.againstBest)).toHaveLength(3);
    }
    // the trainer's numbers beside emb-bench's
    const at = (name: string) => run.result.checkpoints.find((c) => c.checkpoint.name === name)!;
    expect(at('checkpoint-200').trainer.map((t) => [t.key, t.agrees])).toEqual([
      [metricKey(16, 'ndcg@10'), true],
      [metricKey(8, 'mrr@10'), true],
    ]);
    const [t300] = at('checkpoint-300').trainer;
    expect([t300.agrees, t300.trainerKey]).toEqual([false, 'eval_dim_16_cosine_ndcg@10']);
    expect(t300.note).toMatch(/a different eval set/);
    expect(at('checkpoint-100').trainLog.loss).toBeCloseTo(0.1, 12);
    // the files
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.command).toBe('training');
    expect(results.checkpoints.map((c: { name: string; step: number }) => [c.name, c.step])).toEqual([
      ['checkpoint-100', 100],
      ['checkpoint-200', 200],
      ['checkpoint-300', 300],
      ['final', 300],
    ]);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toContain('| dim | best checkpoint |');
    for (const p of run.result.picks) expect(report).toContain(`| ${p.dim} | ${p.best} |`);
    expect(readFileSync(join(out, 'chart.png')).subarray(1, 4).toString()).toBe('PNG');
    const lines = readFileSync(join(out, 'per_query.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(Object.keys(lines[0])).toEqual(['query_id', 'checkpoint-100', 'checkpoint-200', 'checkpoint-300', 'final']);
    // the registry: one version per distinct checkpoint (the final model is checkpoint-300's weights), each with its step
    const reg = await Registry.open(registry);
    const model = await reg.showModel(root.split('/').pop()!);
    await reg.close();
    expect(model.versions.map((v) => (v.metadata as { training: { checkpoint: string; step: number } }).training.step)).toEqual([100, 200, 300]);
    expect((model.versions[1].metadata as { training: { trainer_eval: Record<string, number> } }).training.trainer_eval).toEqual(log.eval[200]);
  });

  it('compare: the base is evaluated once and every checkpoint is tested against it, Holm across all', async () => {
    const root = writeTrainingRun(tmp(), [10, 20]);
    const base = writeTinyTransformer(tmp(), { family: 'bert', seed: 77 }).dir;
    const registry = join(tmp(), 'registry.db');
    const run = await runTraining({ run: root, base, data, dims: [16, 8], out: tmp(), registry, cacheDir: null });
    // the dashboard's model page draws the curve by step, the base dashed
    const dash = await startDashboard({ registry, port: 0 });
    try {
      const page = await (await fetch(`${dash.url}models/${encodeURIComponent(root.split('/').pop()!)}`)).text();
      expect(page).toContain('ndcg@10 across training steps, per dim');
      expect(page).toMatch(/<text[^>]*>20<\/text>/); // a step on the x axis
      expect(page).toMatch(/stroke-dasharray="6 4"/);
      const runPage = await (await fetch(`${dash.url}runs/${run.runId}`)).text();
      expect(runPage).toContain('The pick (ndcg@10 x 100)');
    } finally {
      await dash.close();
    }
    const alone = await runEval({ model: base, data, dims: [16, 8], out: tmp(), registry: null, cacheDir: null });
    expect(run.result.base!.metrics).toEqual(alone.result.metrics);
    const tests = Object.values(run.result.againstBase).flatMap((d) => Object.values(d));
    expect(tests).toHaveLength(4);
    const sorted = [...tests].sort((a, b) => a.pValue - b.pValue);
    expect(sorted[0].pHolm).toBeCloseTo(Math.min(1, sorted[0].pValue * 4), 12);
    expect(run.results.base!.model.path).toBe(base);
    expect(run.results.checkpoints[0].against_base).toBeDefined();
  });

  it('skips a checkpoint the trainer deletes while the run reads the ones before it, with a line', async () => {
    const root = writeTrainingRun(tmp(), [1, 2, 3]);
    const warnings: string[] = [];
    const run = await runTraining({
      run: root,
      data,
      dims: [8],
      out: tmp(),
      registry: null,
      cacheDir: null,
      onWarning: (w) => warnings.push(w),
      onCheckpoint: (c) => {
        if (c.checkpoint.name === 'checkpoint-1') rmSync(join(root, 'checkpoint-2'), { recursive: true });
      },
    });
    expect(run.result.checkpoints.map((c) => c.checkpoint.name)).toEqual(['checkpoint-1', 'checkpoint-3']);
    expect(run.result.skipped).toEqual(['checkpoint-2']);
    expect(warnings.join('\n')).toMatch(/checkpoint-2: deleted while it was read/);
  });

  it('watch: takes complete checkpoints only, one written while it runs too, and ends with the results so far', async () => {
    const root = writeTrainingRun(tmp(), [5]);
    const stop = new AbortController();
    const taken: string[] = [];
    const out = tmp();
    const running = runTraining({
      run: root,
      data,
      dims: [8],
      out,
      registry: null,
      cacheDir: null,
      watch: { stop: stop.signal, intervalMs: 50 },
      onCheckpoint: (c) => {
        taken.push(c.checkpoint.name);
        if (c.checkpoint.name === 'checkpoint-5') {
          // one being written (no trainer_state.json yet), and one complete
          writeTinyTransformer(join(root, 'checkpoint-7'), { family: 'bert', seed: 7 });
          writeCheckpoint(root, 6);
        }
        if (c.checkpoint.name === 'checkpoint-6') setTimeout(() => stop.abort(), 300);
      },
    });
    const run = await running;
    expect(taken).toEqual(['checkpoint-5', 'checkpoint-6']);
    expect(run.result.checkpoints.map((c) => c.checkpoint.step)).toEqual([5, 6]);
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).checkpoints).toHaveLength(2);
  });

  it('interrupted between checkpoints: nothing written, the registry run marked interrupted', async () => {
    const root = writeTrainingRun(tmp(), [1, 2, 3]);
    const out = tmp();
    const registry = join(tmp(), 'registry.db');
    const controller = new AbortController();
    await expect(
      runTraining({
        run: root,
        data,
        dims: [8],
        out,
        registry,
        cacheDir: null,
        signal: controller.signal,
        onCheckpoint: (c) => c.checkpoint.name === 'checkpoint-1' && controller.abort('SIGINT'),
      }),
    ).rejects.toThrow(/interrupted \(SIGINT\)/);
    expect(readdirSync(out)).toEqual([]);
    const reg = await Registry.open(registry);
    const [run] = await reg.listRuns();
    await reg.close();
    expect(run.status).toBe('interrupted');
  });

  it('usage errors are refused before a run starts: a dim wider than the checkpoints, --checkpoints with --watch', async () => {
    const root = writeTrainingRun(tmp(), [1]);
    const registry = join(tmp(), 'registry.db');
    await expect(runTraining({ run: root, data, dims: [32], out: tmp(), registry, cacheDir: null })).rejects.toThrow(
      /dims: 32 is larger than the checkpoint checkpoint-1 width 16/,
    );
    await expect(
      runTraining({ run: root, data, out: tmp(), registry, cacheDir: null, checkpoints: ['1'], watch: { stop: new AbortController().signal } }),
    ).rejects.toThrow(/a watch takes every checkpoint/);
    const reg = await Registry.open(registry);
    expect(await reg.listRuns()).toEqual([]);
    await reg.close();
  });

  it('trainer numbers that match no dim point at the eval set', () => {
    const result = {
      dims: [8],
      metrics: { [metricKey(8, 'ndcg@10')]: 0.5 },
      counts: { scoredQueries: 100 },
      model: { width: 8 },
    } as unknown as Parameters<typeof trainerAgreement>[0];
    const [a] = trainerAgreement(result, { 'eval_scifact_cosine_ndcg@10': 0.4 });
    expect(a.key).toBe(metricKey(8, 'ndcg@10')); // no dim in the evaluator's name: the full width
    expect(a.agrees).toBe(false);
    expect(a.note).toMatch(/a different eval set/);
    expect(trainerAgreement(result, { 'eval_scifact_cosine_ndcg@10': 0.505 })[0].agrees).toBe(true); // within one query's worth (0.01)
  });

  it("a trainer number that is emb-bench's at another dim points at the truncation", () => {
    const result = {
      dims: [16, 8],
      metrics: { [metricKey(16, 'ndcg@10')]: 0.7, [metricKey(8, 'ndcg@10')]: 0.6 },
      counts: { scoredQueries: 1000 },
      model: { width: 16 },
    } as unknown as Parameters<typeof trainerAgreement>[0];
    const [a] = trainerAgreement(result, { 'eval_dim_16_cosine_ndcg@10': 0.6 });
    expect(a.note).toMatch(/a different truncation: the trainer's number matches emb-bench's at dim 8/);
  });
});

describe('the command line', () => {
  it('eval on a training folder prints the table and the pick; --checkpoints picks; a missing one is a usage error', async () => {
    const root = writeTrainingRun(tmp(), [10, 20], { final: true });
    const out = tmp();
    const r = await cli(['eval', root, '--data', data, '--dims', '16,8', '--out', out, '--no-cache', '--checkpoints', '20,final']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 checkpoints/);
    expect(r.stdout).toMatch(/checkpoint-20 +20 /);
    expect(r.stdout).toMatch(/dim 16: best (checkpoint-20|final)/);
    const bad = await cli(['eval', root, '--data', data, '--out', out, '--checkpoints', '30']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/has no checkpoint "30"/);
  });

  it('--watch: Ctrl-C ends it cleanly with the checkpoints so far written', async () => {
    const root = writeTrainingRun(tmp(), [1]);
    const out = tmp();
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin', 'emb-bench.js'),
        'eval',
        root,
        '--data',
        data,
        '--dims',
        '8',
        '--out',
        out,
        '--no-cache',
        '--no-log',
        '--watch',
        '--watch-interval',
        '1',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    setTimeout(() => writeCheckpoint(root, 2), 1500);
    // the second checkpoint is taken two looks (1 s apart) after it is complete
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline && !existsSync(join(root, 'checkpoint-2', 'trainer_state.json'))) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 6000));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.checkpoints.map((c: { name: string }) => c.name)).toEqual(['checkpoint-1', 'checkpoint-2']);
    expect(stdout).toMatch(/2 checkpoints/);
  }, 60000);
});
