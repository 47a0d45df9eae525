// No silent wrong number, no crash, no half-written state: the embedding cache under damage and
// write failures, the native boundary under hostile input, interruption in every phase, runs
// left by dead processes, outputs written as a set, and values that must be refused.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCanvas, GlobalFonts, loadImage } from '@napi-rs/canvas';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddingCache } from '../lib/encode/cache.js';
import { Encoder } from '../lib/encode/encoder.js';
import { InterruptedError, UserError } from '../lib/errors.js';
import { loggedRun, Registry } from '../lib/registry/index.js';
import { runEval } from '../lib/runs/index.js';
import { writeOutputSet } from '../lib/report/outputs.js';
import { loadNative } from '../lib/score/native.js';
import { scoreTopK } from '../lib/score/index.js';
import { compareMetrics } from '../lib/stats/index.js';
import { cli, ROOT, rng } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { TINY_VOCAB, writeTinyModel } from './helpers/tiny-model.js';

const tmp = (prefix = 'emb-rel-') => mkdtempSync(join(tmpdir(), prefix));
const model = (o = {}) => writeTinyModel(tmp('emb-m-'), { pooling: 'mean', ...o }).dir;
const texts = (n: number, seed = 1) => {
  const r = rng(seed);
  const words = TINY_VOCAB.slice(4).filter((w) => !w.startsWith('#'));
  return Array.from({ length: n }, () => Array.from({ length: 2 + Math.floor(r() * 8) }, () => words[Math.floor(r() * words.length)]).join(' '));
};
const segments = (dir: string) =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(seg|part)$/.test(f))
    .map((f) => join(dir, f));

async function encodeWith(modelDir: string, input: string[], cacheDir: string | null, warnings: string[] = []) {
  const enc = await Encoder.load(modelDir, { cacheDir, onWarning: (w) => warnings.push(w) });
  try {
    const m = await enc.encode(input, { kind: 'document' });
    return { data: m.data, inferred: enc.inferred };
  } finally {
    await enc.close();
  }
}

describe('embedding cache under damage', () => {
  const m = model({ width: 24 });
  const input = texts(30);
  const record = 16 + 4 * 24 + 4;

  it('a clean rerun does no inference and returns the same bits', async () => {
    const cache = tmp();
    const first = await encodeWith(m, input, cache);
    const second = await encodeWith(m, input, cache);
    expect(second.inferred).toBe(0);
    expect(Array.from(second.data)).toEqual(Array.from(first.data));
  });

  it('truncated at every record boundary and mid-record: never a wrong vector, the rest re-encoded', async () => {
    const clean = (await encodeWith(m, input, null)).data;
    for (const cut of [0, 1, 15, 16, 16 + record - 1, 16 + record, 16 + 7 * record + 18, 16 + 29 * record + 3]) {
      const cache = tmp();
      await encodeWith(m, input, cache);
      const [seg] = segments(cache);
      truncateSync(seg, Math.min(cut, statSync(seg).size));
      const warnings: string[] = [];
      const again = await encodeWith(m, input, cache, warnings);
      expect(Array.from(again.data), `cut at ${cut}`).toEqual(Array.from(clean));
      const whole = cut < 16 ? 0 : Math.floor((cut - 16) / record);
      expect(again.inferred, `cut at ${cut}`).toBe(30 - whole);
      // and a third run finds everything whole
      expect((await encodeWith(m, input, cache)).inferred).toBe(0);
    }
  });

  it('a damaged record is told once, though the documents and the queries both read the cache', async () => {
    const cache = tmp();
    await encodeWith(m, input, cache);
    const [seg] = segments(cache);
    const bytes = readFileSync(seg);
    bytes[16 + 20] ^= 1;
    writeFileSync(seg, bytes);
    const warnings: string[] = [];
    const enc = await Encoder.load(m, { cacheDir: cache, onWarning: (w) => warnings.push(w) });
    try {
      await enc.encode(input, { kind: 'document' });
      await enc.encode(input, { kind: 'query' });
    } finally {
      await enc.close();
    }
    expect(warnings).toEqual([expect.stringMatching(/1 damaged record\(s\) skipped/)]);
  });

  it('a garbled byte anywhere in a record: that record is skipped with a warning naming the file', async () => {
    const clean = (await encodeWith(m, input, null)).data;
    for (const offset of [16, 16 + 5, 16 + 18, 16 + record - 1, 16 + 12 * record + 40]) {
      const cache = tmp();
      await encodeWith(m, input, cache);
      const [seg] = segments(cache);
      const bytes = readFileSync(seg);
      bytes[offset] ^= 0x40;
      writeFileSync(seg, bytes);
      const warnings: string[] = [];
      const again = await encodeWith(m, input, cache, warnings);
      expect(Array.from(again.data), `byte ${offset}`).toEqual(Array.from(clean));
      expect(again.inferred).toBe(1);
      expect(warnings.join('\n')).toContain(seg);
    }
  });

  it.each([0, 50, 200])('a header whose width field says %i: the file is dropped with a warning, never an error about dims', async (width) => {
    const cache = tmp();
    await encodeWith(m, input, cache);
    const [seg] = segments(cache);
    const bytes = readFileSync(seg);
    bytes.writeUInt32LE(width, 8);
    writeFileSync(seg, bytes);
    const warnings: string[] = [];
    const again = await encodeWith(m, input, cache, warnings);
    expect(again.inferred).toBe(30);
    expect(warnings.join('\n')).toMatch(/bad header/);
    expect(existsSync(seg)).toBe(false);
  });

  it('a NaN written into a cached row (checksum fixed up) is not served', async () => {
    const cache = tmp();
    const clean = (await encodeWith(m, input, cache)).data;
    const [seg] = segments(cache);
    const bytes = readFileSync(seg);
    bytes.writeFloatLE(Number.NaN, 16 + 16);
    const { crc32 } = await import('node:zlib');
    bytes.writeUInt32LE(crc32(bytes.subarray(16, 16 + record - 4)), 16 + record - 4);
    writeFileSync(seg, bytes);
    const again = await encodeWith(m, input, cache);
    expect(Array.from(again.data)).toEqual(Array.from(clean));
    expect(again.inferred).toBe(1);
  });

  it('a cache folder that cannot be written: one warning naming it, the run goes on and its numbers are right', async () => {
    const blocker = join(tmp(), 'file');
    writeFileSync(blocker, 'not a folder');
    const warnings: string[] = [];
    const clean = (await encodeWith(m, input, null)).data;
    const got = await encodeWith(m, input, join(blocker, 'cache'), warnings);
    expect(Array.from(got.data)).toEqual(Array.from(clean));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/embedding cache .*file.*: cannot (read|write) .*going on without/);
  });

  // A real full disk: a 16 KiB tmpfs, where this machine lets the tests mount one (root, not in
  // every container). The run goes on, warns once, and its embeddings are the clean run's.
  const tmpfs = (() => {
    const dir = tmp('emb-tmpfs-');
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', dir]);
    return r.status === 0 ? dir : null;
  })();
  afterAll(() => {
    if (tmpfs) spawnSync('umount', [tmpfs]);
  });
  it.skipIf(!tmpfs)('a cache on a full disk (ENOSPC mid-record): one warning, the right numbers, and a rerun reads only whole records', async () => {
    const many = texts(400, 7);
    const clean = (await encodeWith(m, many, null)).data;
    const warnings: string[] = [];
    const got = await encodeWith(m, many, tmpfs!, warnings);
    expect(Array.from(got.data)).toEqual(Array.from(clean));
    expect(warnings.join('\n')).toMatch(/ENOSPC/);
    const again = await encodeWith(m, many, tmpfs!, []);
    expect(Array.from(again.data)).toEqual(Array.from(clean));
    expect(again.inferred).toBeGreaterThan(0);
    expect(again.inferred).toBeLessThan(400);
  });

  it('concurrent writers never interleave, and compaction keeps one copy of each record', async () => {
    const cache = tmp();
    const key = { model: 'x' };
    const writers = [0, 1, 2].map(() => EmbeddingCache.forKey(cache, key));
    const rows = (seed: number) => Float32Array.from({ length: 3 * 4 }, (_, i) => seed + i);
    writers.forEach((w, i) => w.add(['aa'.repeat(16), 'bb'.repeat(16), `c${i}`.repeat(16)], rows(i), 4));
    writers.forEach((w) => w.close());
    const reader = EmbeddingCache.forKey(cache, key);
    expect(reader.lookup(['c0'.repeat(16), 'c1'.repeat(16), 'c2'.repeat(16)]).rows.every((r) => r !== undefined)).toBe(true);
    const r = reader.compact();
    expect(r).toMatchObject({ before: 3, after: 1, records: 5 });
    expect(reader.lookup(['c2'.repeat(16)]).rows[0]).toEqual(Float32Array.from([10, 11, 12, 13]));
  });

  it('a cache folder that is a symlink loop: a warning, not a crash', async () => {
    const dir = tmp();
    spawnSync('ln', ['-s', join(dir, 'loop'), join(dir, 'loop')]);
    const warnings: string[] = [];
    const got = await encodeWith(m, input.slice(0, 3), join(dir, 'loop'), warnings);
    expect(got.inferred).toBe(3);
    expect(warnings.join('\n')).toMatch(/ELOOP/);
  });
});

describe('the native boundary never crashes', () => {
  const { addon } = loadNative();

  it('NaN or Inf in queries or corpus: a coded error from the library and from the addon itself', async () => {
    const ok = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i));
    for (const [where, value] of [
      ['queries', Number.NaN],
      ['corpus', Number.POSITIVE_INFINITY],
    ] as const) {
      const bad = Float32Array.from(ok);
      bad[13] = value;
      const q = { data: where === 'queries' ? bad : ok, rows: 5, cols: 8 };
      const c = { data: where === 'corpus' ? bad : ok, rows: 5, cols: 8 };
      await expect(scoreTopK(q, c, { dims: [8, 4], k: 3 })).rejects.toMatchObject({ code: 'ERR_NON_FINITE' });
      if (addon)
        await expect(
          addon.score({ queries: q.data, corpus: c.data, dim: 8, dims: Int32Array.from([8, 4]), k: 3, threads: 1, device: 'cpu' }),
        ).rejects.toMatchObject({
          code: 'ERR_NON_FINITE',
        });
    }
  });

  it.skipIf(!addon)('the first bad value of a large corpus is the one named', async () => {
    // 100,000 x 8 values, a NaN and then, earlier in the corpus, a value past 1e15: the earlier one
    // is named.
    const rows = 100_000;
    const corpus = Float32Array.from({ length: rows * 8 }, (_, i) => Math.sin(i));
    corpus[600_005] = Number.NaN;
    corpus[300_003] = 1e16;
    const queries = Float32Array.from({ length: 16 }, (_, i) => Math.cos(i));
    await expect(addon?.score({ queries, corpus, dim: 8, dims: Int32Array.from([8, 4]), k: 3, threads: 2, device: 'cpu' })).rejects.toMatchObject({
      code: 'ERR_NON_FINITE',
      message: expect.stringMatching(/row 37500 .* column 3$/),
    });
  });

  it.skipIf(!addon)('a bad corpus value is refused on every path: past the largest dim, bf16, no queries, after a bad query', async () => {
    const dim = 8;
    const rows = 3000;
    const corpus = Float32Array.from({ length: rows * dim }, (_, i) => Math.sin(i));
    corpus[2001 * dim + 6] = Number.POSITIVE_INFINITY; // column 6: outside dims 4 and 2
    const queries = Float32Array.from({ length: 40 * dim }, (_, i) => Math.cos(i));
    const run = (over: Record<string, unknown>) =>
      addon!.score({ queries, corpus, dim, dims: Int32Array.from([4, 2]), k: 5, threads: 2, device: 'cpu', ...over });
    for (const precision of ['fp32', 'bf16', 'bf16-portable', 'auto'])
      await expect(run({ precision, bf16MaxCandidateFraction: 1 })).rejects.toMatchObject({
        code: 'ERR_NON_FINITE',
        message: expect.stringMatching(/^corpus embeddings: row 2001 .* column 6$/),
      });
    await expect(run({ queries: new Float32Array(0) })).rejects.toMatchObject({ message: expect.stringMatching(/^corpus .* row 2001 /) });
    const badQuery = Float32Array.from(queries);
    badQuery[17 * dim + 1] = Number.NaN;
    await expect(run({ queries: badQuery })).rejects.toMatchObject({ message: expect.stringMatching(/^query embeddings: row 17 .* column 1$/) });
  });

  it.skipIf(!addon)('random shapes, values and options straight into the addon: results or coded errors, no crash', async () => {
    const r = rng(99);
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
    for (let t = 0; t < 300; t++) {
      const dim = pick([1, 2, 3, 7, 16, 33]);
      const nq = pick([0, 1, 2, 5, 17]);
      const nc = pick([0, 1, 3, 9, 70]);
      const special = [0, Number.NaN, Number.POSITIVE_INFINITY, -0, 1e38, -1e38, 1e-45];
      const fill = (n: number) => Float32Array.from({ length: n }, () => (r() < 0.03 ? pick(special) : r() * 2 - 1));
      const dims = Int32Array.from({ length: pick([0, 1, 2, 3]) }, () => pick([0, 1, dim, dim + 1, -1, Math.max(1, dim >> 1)]));
      const k = pick([0, 1, 3, 100, -5, 2 ** 31 - 1]);
      const threads = pick([0, 1, 2, 1000]);
      const queries = fill(nq * dim + (r() < 0.05 ? 1 : 0));
      try {
        const out = await addon!.score({ queries, corpus: fill(nc * dim), dim, dims, k, threads, device: 'cpu' });
        expect(out.indices).toHaveLength(dims.length);
        for (const idx of out.indices) for (const i of idx) expect(i >= 0 && i < nc).toBe(true);
      } catch (e) {
        expect((e as { code?: string }).code, String(e)).toMatch(/^ERR_(INVALID_ARG|NON_FINITE)$/);
      }
    }
    for (const bad of [
      undefined,
      null,
      7,
      'x',
      {},
      { queries: [1, 2], corpus: new Float32Array(2), dim: 1, dims: new Int32Array([1]), k: 1, threads: 0, device: 'cpu' },
    ]) {
      expect(() => (addon!.score as (o: unknown) => unknown)(bad)).toThrow();
    }
  });
});

describe('interruption in every phase', () => {
  it('the statistics stop at the next metric once the signal fires', async () => {
    const n = 3000;
    const r = rng(5);
    const perQuery = (shift: number) => ({ 'dim_8_cosine_ndcg@10': Float64Array.from({ length: n }, () => r() + shift) });
    const controller = new AbortController();
    setTimeout(() => controller.abort('SIGINT'), 30);
    const t0 = performance.now();
    await expect(compareMetrics([8], ['ndcg@10'], perQuery(0), perQuery(0.01), { samples: 10_000_000 }, controller.signal)).rejects.toThrow(InterruptedError);
    expect(performance.now() - t0).toBeLessThan(60_000);
    const already = AbortSignal.abort('SIGTERM');
    await expect(compareMetrics([8], ['ndcg@10'], perQuery(0), perQuery(0), {}, already)).rejects.toThrow(/interrupted \(SIGTERM\)/);
  });
});

describe('runs, outputs and values', () => {
  it('compare M M (the A/A check): both sides recorded, differences exactly 0, p = 1', async () => {
    const data = writeTinyBeir();
    const m = model();
    const out = join(tmp(), 'o');
    const reg = join(tmp(), 'r.db');
    const r = await cli(['--registry', reg, 'compare', m, m, '--data', data, '--out', out, '--json', '--no-cache']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    for (const d of Object.values(json.differences) as Array<{ diff: number; p_value: number; ci_low: number; ci_high: number }>) {
      expect(d.diff).toBe(0);
      expect(d.p_value).toBe(1);
      expect([d.ci_low, d.ci_high]).toEqual([0, 0]);
    }
    const registry = await Registry.open(reg, { readonly: true });
    const run = await registry.showRun(json.run_id);
    await registry.close();
    expect(run.status).toBe('succeeded');
    expect(run.models.map((x) => x.role)).toEqual(['base', 'tuned']);
    expect(run.models[0].metrics).toEqual(run.models[1].metrics);
  });

  it('--ndcg-at 5 --chart-metric ndcg@5: every headline uses ndcg@5; a metric not computed is refused before any work', async () => {
    const data = writeTinyBeir();
    const m = model();
    const out = join(tmp(), 'o');
    const r = await cli([
      'compare',
      m,
      model({ seed: 2 }),
      '--data',
      data,
      '--out',
      out,
      '--no-log',
      '--no-cache',
      '--ndcg-at',
      '5',
      '--chart-metric',
      'ndcg@5',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toMatch(/Queries that gained most at dim \d+ \(ndcg@5\)/);
    expect(report).not.toMatch(/ndcg@10/);
    const bad = join(tmp(), 'never');
    const refused = await cli(['compare', m, m, '--data', data, '--out', bad, '--no-log', '--chart-metric', 'ndcg@5']);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toMatch(/^emb-bench: --chart-metric: "ndcg@5" is not one of/);
    expect(existsSync(bad)).toBe(false);
  });

  it('a run that fails before it starts creates no --out folder', async () => {
    const out = join(tmp(), 'never');
    const r = await cli(['eval', model(), '--data', join(tmp(), 'missing'), '--out', out, '--no-log']);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('outputs are written as a set: a failure on the third file leaves the old set and no temporary file', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.txt'), 'old a');
    writeFileSync(join(dir, 'b.txt'), 'old b');
    expect(() =>
      writeOutputSet(dir, {
        'a.txt': () => 'new a',
        'b.txt': () => 'new b',
        'c.txt': () => {
          throw new Error('disk full');
        },
      }),
    ).toThrow(UserError);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('old a');
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('old b');
    expect(readdirSync(dir).sort()).toEqual(['a.txt', 'b.txt']);
    writeOutputSet(dir, { 'a.txt': () => 'new a', 'b.txt': () => 'new b' });
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('new a');
    expect(readdirSync(dir).sort()).toEqual(['a.txt', 'b.txt']);
  });

  it('the registry record is written before the outputs move: a record that fails leaves the previous outputs, a failed run and nothing staged', async () => {
    const reg = join(tmp(), 'r.db');
    const data = writeTinyBeir();
    const out = tmp();
    const m = model();
    await runEval({ model: m, data, out, registry: reg, cacheDir: null });
    const before = readFileSync(join(out, 'results.json'));
    // a real failure inside the record's transaction (as a full disk or a lost server would fail it)
    const db = new Database(reg);
    db.exec(`CREATE TRIGGER full BEFORE INSERT ON run_models BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END`);
    db.close();
    await expect(runEval({ model: model({ seed: 5 }), data, out, registry: reg, cacheDir: null })).rejects.toThrow(/disk is full/);
    expect(readFileSync(join(out, 'results.json')).equals(before)).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['per_query.jsonl', 'results.json']);
    const r = await Registry.open(reg, { readonly: true });
    const [last] = await r.listRuns();
    expect([last.status, (await r.showRun(last.id!)).error]).toEqual(['failed', expect.stringMatching(/^recording the results failed: .*disk is full/)]);
    await r.close();
  });

  it('outputs that cannot be put in place after the record take the record back: failed, with no metrics or artifacts', async () => {
    const reg = join(tmp(), 'r.db');
    const staged = join(tmp(), 'report.md');
    writeFileSync(staged, '# report');
    const record = { role: 'model', model: { name: 'm', sha256: 'a'.repeat(64), path: '/m' }, metrics: { 'dim_8_cosine_ndcg@10': 0.5 } };
    const outputs = {
      files: [{ staged, target: join(tmp(), 'report.md') }],
      commit(): string[] {
        throw new UserError('out: cannot move the outputs into place (EXDEV)', 'ERR_OUT');
      },
      discard() {},
    };
    await expect(loggedRun(reg, { command: 'eval', argv: [] }, async () => ({ models: [record], outputs }))).rejects.toThrow(/EXDEV/);
    const r = await Registry.open(reg, { readonly: true });
    const [run] = await r.listRuns();
    const shown = await r.showRun(run.id!);
    expect([shown.status, shown.error, shown.models, shown.artifacts]).toEqual([
      'failed',
      expect.stringMatching(/^the outputs could not be put in place/),
      [],
      [],
    ]);
    await r.close();
  });

  it('a run left running by a process that is gone is listed as abandoned, and prune marks it failed', async () => {
    const reg = join(tmp(), 'r.db');
    const registry = await Registry.open(reg);
    const id = await registry.startRun({ command: 'eval', argv: [] });
    await registry.close();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const db = new Database(reg);
    db.prepare('UPDATE runs SET pid = ? WHERE id = ?').run(Number(dead), id);
    db.close();
    const listed = await cli(['--registry', reg, 'runs', 'list', '--json']);
    expect(JSON.parse(listed.stdout)[0].status).toBe('abandoned');
    const pruned = await cli(['--registry', reg, 'runs', 'prune', '--abandoned']);
    expect(pruned.code, pruned.stderr).toBe(0);
    const readBack = await Registry.open(reg, { readonly: true });
    const after = await readBack.showRun(id);
    await readBack.close();
    expect(after.status).toBe('failed');
    expect(after.error).toMatch(/abandoned: process \d+/);
  });

  it('read commands do not create a registry', async () => {
    const reg = join(tmp(), 'none.db');
    const r = await cli(['--registry', reg, 'models', 'list']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no registry here yet/);
    expect(existsSync(reg)).toBe(false);
  });

  it.each([
    [['--threads', '4,8'], /--threads: "4,8" is not a positive integer/],
    [['--threads', '0'], /--threads: "0" is not a positive integer/],
    [['--seed', 'abc'], /--seed: "abc" is not an integer/],
    [['--seed', '1e9'], /--seed: "1e9" is not an integer/],
    [['--dims', ''], /--dims: expected a comma-separated list/],
    [['--split', '../../x'], /--split: expected a split name/],
  ])('refuses %j with one line and exit 2', async (extra, message) => {
    const r = await cli(['compare', model(), model(), '--data', writeTinyBeir(), '--out', join(tmp(), 'o'), '--no-log', ...extra]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('--threads above the core count: capped, with a warning', async () => {
    const r = await cli(['eval', model(), '--data', writeTinyBeir(), '--out', join(tmp(), 'o'), '--no-log', '--threads', '1000']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: --threads 1000 is more than the \d+ cores here; using \d+/);
  });

  it('log-metadata: a key nested under a value is refused with one line', async () => {
    const r = await cli(['models', 'log-metadata', 'm', '1', '--set', 'a=1', '--set', 'a.b=2']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^emb-bench: --set: "a\.b" nests under "a", which was set to a value$/);
  });

  it('models promote with a list as VERSION is refused', async () => {
    const r = await cli(['models', 'promote', 'm', '1,2', '--stage', 'production']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/VERSION: "1,2" is not a positive integer/);
  });

  it.each([
    ['modules.json that is not JSON', (d: string) => writeFileSync(join(d, 'modules.json'), '{nope'), /modules\.json: not valid JSON/],
    ['modules.json that is an object', (d: string) => writeFileSync(join(d, 'modules.json'), '{"a": 1}'), /modules\.json: expected a JSON array/],
    [
      'onnx/model.onnx that is a folder',
      (d: string) => {
        spawnSync('rm', [join(d, 'onnx', 'model.onnx')]);
        mkdirSync(join(d, 'onnx', 'model.onnx'));
      },
      /model\.onnx: expected an ONNX file, found a folder/,
    ],
    [
      'max_seq_length -5',
      (d: string) => writeFileSync(join(d, 'sentence_bert_config.json'), '{"max_seq_length": -5}'),
      /max_seq_length must be a positive integer, got -5/,
    ],
    [
      'max_seq_length 2.5',
      (d: string) => writeFileSync(join(d, 'sentence_bert_config.json'), '{"max_seq_length": 2.5}'),
      /max_seq_length must be a positive integer, got 2\.5/,
    ],
    [
      'a numeric prompt',
      (d: string) => writeFileSync(join(d, 'config_sentence_transformers.json'), '{"prompts": {"query": 7}}'),
      /prompt "query" must be a string, got 7/,
    ],
  ])('%s: one line naming the file, exit 2', async (_, edit, message) => {
    const m = model();
    edit(m);
    const r = await cli(['eval', m, '--data', writeTinyBeir(), '--out', join(tmp(), 'o'), '--no-log', '--no-cache']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});

describe('identities', () => {
  it('integer ids beyond 2^53 in JSON keep their source text and do not collide', async () => {
    const dir = tmp();
    const file = join(dir, 'pairs.jsonl');
    writeFileSync(
      file,
      '{"id": 12345678901234567001, "anchor": "what is lift", "positive": "wing lift"}\n{"id": 12345678901234567002, "anchor": "the flow", "positive": "flow of a wing"}\n',
    );
    const { loadDataset } = await import('../lib/data/load.js');
    const ds = await loadDataset(file);
    expect(ds.queries.ids).toEqual(['12345678901234567001', '12345678901234567002']);
  });

  it('two different folders with the same name: the second version says so', async () => {
    const reg = join(tmp(), 'r.db');
    const data = writeTinyBeir();
    const a = join(tmp(), 'model');
    const b = join(tmp(), 'model');
    writeTinyModel(a, { pooling: 'mean', seed: 1 });
    writeTinyModel(b, { pooling: 'mean', seed: 2 });
    expect((await cli(['--registry', reg, 'eval', a, '--data', data, '--out', join(tmp(), 'o'), '--no-cache'])).code).toBe(0);
    const second = await cli(['--registry', reg, 'eval', b, '--data', data, '--out', join(tmp(), 'o'), '--no-cache']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/warning: model "model": version 2 is .*, version 1 was .*; if these are different models, give them different names/);
  });

  it('emb-bench cache compact: many segments become one, the next run still does no inference', async () => {
    const m = model();
    const cache = tmp();
    const input = texts(12);
    for (let i = 0; i < 4; i++) await encodeWith(m, input.slice(i * 3, i * 3 + 3), cache);
    expect(segments(cache)).toHaveLength(4);
    const r = await cli(['cache', 'compact', '--cache-dir', cache]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/4 segment\(s\) -> 1, 12 embeddings/);
    expect(segments(cache)).toHaveLength(1);
    expect((await encodeWith(m, input, cache)).inferred).toBe(0);
  });
});

describe('untrusted text', () => {
  it('model names, ids and texts are escaped in report.md and stripped of control characters on the terminal', async () => {
    const data = writeTinyBeir();
    const qpath = join(data, 'queries.jsonl');
    const lines = readFileSync(qpath, 'utf8').trim().split('\n');
    lines[0] = JSON.stringify({ _id: 'q<img src=x onerror=alert(1)>|x', text: 'what <script>alert(1)</script> | is' });
    writeFileSync(qpath, lines.join('\n') + '\n');
    const qrels = join(data, 'qrels', 'test.tsv');
    const id0 = JSON.parse(readFileSync(join(data, 'corpus.jsonl'), 'utf8').split('\n')[0])._id;
    writeFileSync(qrels, `${readFileSync(qrels, 'utf8').trimEnd()}\nq<img src=x onerror=alert(1)>|x\t${id0}\t1\n`);
    const out = join(tmp(), 'o');
    const r = await cli([
      'compare',
      model(),
      model({ seed: 3 }),
      '--data',
      data,
      '--out',
      out,
      '--no-log',
      '--no-cache',
      '--base-name',
      '\x1b]0;owned\x07<b>base|</b>\x1b[31m',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/\x1b/);
    expect(r.stdout).toContain('<b>base|</b>');
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).not.toMatch(/<script>|<img|<b>|\x1b/);
    expect(report).toContain('&lt;b&gt;base\\|&lt;/b&gt;');
    for (const row of report.split('\n').filter((l) => l.includes('onerror'))) expect(row.split(/(?<!\\)\|/)).toHaveLength(7);
  });
});

describe('model names in any script', () => {
  const cjkFont = ['Noto Sans CJK SC', 'Noto Sans CJK JP', 'WenQuanYi Zen Hei', 'WenQuanYi Micro Hei', 'Droid Sans Fallback'].some((f) =>
    GlobalFonts.families.some((x) => x.family === f),
  );
  // The package ships DejaVu (no CJK glyphs); a CJK name falls back, glyph by glyph, to a CJK
  // font of the host's (Debian: fonts-noto-cjk or fonts-wqy-zenhei; .ci/run installs one).
  it.skipIf(!cjkFont)("CJK model names are drawn in chart.png with real glyphs (the host's CJK font), not boxes", async () => {
    const data = writeTinyBeir();
    const legend = async (name: string) => {
      const out = join(tmp(), 'o');
      const r = await cli(['compare', model(), model({ seed: 3 }), '--data', data, '--out', out, '--no-log', '--no-cache', '--base-name', name]);
      expect(r.code, r.stderr).toBe(0);
      const img = await loadImage(readFileSync(join(out, 'chart.png')));
      const canvas = createCanvas(img.width, img.height);
      const ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0);
      return Buffer.from(ctx.getImageData(40, 50, 200, 24).data);
    };
    // missing glyphs all draw the same box: two different ideographs must differ
    const [a, b] = [await legend('中中中中中'), await legend('文文文文文')];
    expect(a.equals(b)).toBe(false);
  });
});

describe('long texts', () => {
  it('a text far longer than max_seq_length is cut before tokenizing, with the same embedding', async () => {
    const m = model();
    const words = 'what is the query of a wing lift flow ';
    const long = words.repeat(200_000); // 7.6 MB
    const short = words.repeat(200);
    const spaced = ' '.repeat(3_000_000) + 'wing lift';
    const [a, b] = [await encodeWith(m, [long, spaced], null), await encodeWith(m, [short, 'wing lift'], null)];
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});

describe('under a virtual-memory limit (ulimit -v, as on HPC clusters)', () => {
  const limited = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile('sh', ['-c', `ulimit -v 8000000 && exec "$0" "$@"`, process.execPath, join(ROOT, 'bin', 'emb-bench.js'), ...args], (e, stdout, stderr) =>
        resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );

  it('a logged compare runs, and a PostgreSQL registry that cannot be reached is one line (no WebAssembly trace)', async () => {
    const dir = tmp();
    const ok = await limited(['--registry', join(dir, 'r.db'), 'demo', '--out', join(dir, 'demo')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/registry run [0-9a-f-]{36}/);
    const pg = await limited(['--registry', 'postgres://emb@127.0.0.1:1/x', 'models', 'list']);
    expect(pg.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^emb-bench: postgres:\/\/emb@127\.0\.0\.1:1\/x: cannot connect to PostgreSQL at 127\.0\.0\.1:1/),
    ]);
    expect(pg.code).not.toBe(0);
  }, 120_000);
});
