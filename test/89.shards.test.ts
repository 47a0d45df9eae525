// Sharded compare: shards as separate processes with the Slurm and Kubernetes variables set,
// merged, equal to the one-process run exactly (metrics, differences, per-query values) for
// N = 1, 2, 3, 7: uneven slices, shards with no relevant document, exact score ties across
// slice borders (duplicated documents). A set with a shard missing, twice, damaged or from
// another run is refused with the shards named.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseShard, shardRange } from '../lib/score/shards.js';
import { type CompareShardRun, runCompare, runMerge, shardFromEnv } from '../lib/runs/index.js';
import { Registry } from '../lib/registry/index.js';
import { cli, ROOT, rng } from './helpers/shared.js';
import { slurmUnavailable, startSlurm } from './helpers/slurm.js';
import { WORDS, writeTinyTransformer } from './helpers/transformer-model.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'emb-shard-'));

/** 61 documents where runs of identical texts straddle the slice borders of N = 2, 3 and 7. */
function tiedBeir(): string {
  const dir = tmp();
  const r = rng(5);
  const text = () => Array.from({ length: 3 + Math.floor(r() * 8) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');
  const docs: string[] = [];
  while (docs.length < 61) {
    const t = text();
    for (let c = 0; c < 1 + Math.floor(r() * 4); c++) docs.push(t); // 1-4 copies in a row
  }
  docs.length = 61;
  mkdirSync(join(dir, 'qrels'));
  writeFileSync(join(dir, 'corpus.jsonl'), docs.map((t, i) => JSON.stringify({ _id: `d${i}`, title: '', text: t })).join('\n') + '\n');
  const queries = Array.from({ length: 14 }, (_, q) => ({ _id: `q${q}`, text: text() }));
  writeFileSync(join(dir, 'queries.jsonl'), queries.map((q) => JSON.stringify(q)).join('\n') + '\n');
  // relevant documents only in the first third: later shards of N = 7 hold none
  const rows = queries.flatMap((q, i) => [`${q._id}\td${(i * 3) % 20}\t1`, `${q._id}\td${(i * 7) % 20}\t1`]);
  writeFileSync(join(dir, 'qrels', 'test.tsv'), ['query-id\tcorpus-id\tscore', ...rows].join('\n') + '\n');
  return dir;
}

describe('shards', () => {
  it('slices are contiguous, cover every row once and differ in size by at most one', () => {
    for (const [total, n] of [
      [61, 7],
      [5, 7],
      [100, 3],
    ]) {
      const ranges = Array.from({ length: n }, (_, i) => shardRange(total, { index: i, count: n }));
      expect(ranges[0].start).toBe(0);
      expect(ranges[n - 1].end).toBe(total);
      for (let i = 1; i < n; i++) expect(ranges[i].start).toBe(ranges[i - 1].end);
      const sizes = ranges.map((x) => x.end - x.start);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('the shard comes from --shard, Slurm array variables or a Kubernetes Indexed Job', () => {
    expect(parseShard('2/7')).toEqual({ index: 2, count: 7 });
    expect(() => parseShard('7/7')).toThrow(/shard: expected I\/N with 0 <= I < N/);
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' })).toEqual({ index: 3, count: 4 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '1', EMB_BENCH_SHARD_COUNT: '2' })).toEqual({ index: 1, count: 2 });
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '1' })).toThrow(/EMB_BENCH_SHARD_COUNT/);
    expect(shardFromEnv({})).toBeNull();
  });
});

describe('sharded compare, merged', () => {
  const data = tiedBeir();
  const base = writeTinyTransformer(tmp(), { family: 'bert', seed: 1 }).dir;
  const tuned = writeTinyTransformer(tmp(), { family: 'roberta', dtype: 'BF16', seed: 2 }).dir;
  const args = (out: string) => ['compare', base, tuned, '--data', data, '--dims', '16,8,4', '--out', out, '--no-log', '--no-cache'];
  let one: { json: { base: { metrics: Record<string, number> }; tuned: { metrics: Record<string, number> }; differences: unknown }; perQuery: string };

  beforeAll(async () => {
    const out = tmp();
    const r = await cli([...args(out), '--json']);
    expect(r.code, r.stderr).toBe(0);
    one = { json: JSON.parse(r.stdout), perQuery: readFileSync(join(out, 'per_query.jsonl'), 'utf8') };
  }, 120_000);

  it.each([1, 2, 3, 7])(
    'N = %i: shards as separate processes, merged, equal the one-process run exactly',
    async (n) => {
      const parts = tmp();
      const runs = Array.from({ length: n }, (_, i) =>
        cli(
          args(parts),
          i % 2 ? { JOB_COMPLETION_INDEX: String(i), EMB_BENCH_SHARD_COUNT: String(n) } : { SLURM_ARRAY_TASK_ID: String(i), SLURM_ARRAY_TASK_COUNT: String(n) },
        ),
      );
      for (const r of await Promise.all(runs)) expect(r.code, r.stderr).toBe(0);
      const files = readdirSync(parts).filter((f) => f.endsWith('.part'));
      expect(files).toHaveLength(n);
      const out = tmp();
      const merged = await cli(['merge', ...files.map((f) => join(parts, f)), '--out', out, '--no-log', '--json']);
      expect(merged.code, merged.stderr).toBe(0);
      const json = JSON.parse(merged.stdout);
      expect(json.base.metrics).toEqual(one.json.base.metrics);
      expect(json.tuned.metrics).toEqual(one.json.tuned.metrics);
      expect(json.differences).toEqual(one.json.differences);
      expect(readFileSync(join(out, 'per_query.jsonl'), 'utf8')).toBe(one.perQuery);
    },
    180_000,
  );

  it('encode --shard, score --corpus-shard and merge equal encode and score on one host, exactly', async () => {
    const emb = tmp();
    const full = tmp();
    expect((await cli(['encode', base, '--data', data, '--out', full, '--no-cache'])).code).toBe(0);
    const whole = await cli([
      'score',
      '--data',
      data,
      '--query-embeddings',
      join(full, 'query_embeddings.npy'),
      '--corpus-embeddings',
      join(full, 'corpus_embeddings.npy'),
      '--dims',
      '16,4',
      '--out',
      tmp(),
      '--json',
    ]);
    expect(whole.code, whole.stderr).toBe(0);
    for (const i of [0, 1, 2]) {
      const r = await cli(['encode', base, '--data', data, '--out', emb, '--no-cache'], { SLURM_ARRAY_TASK_ID: String(i), SLURM_ARRAY_TASK_COUNT: '3' });
      expect(r.code, r.stderr).toBe(0);
    }
    const queries = [0, 1, 2].map((i) => join(emb, `query_embeddings.shard-${i}-of-3.npy`)).join(',');
    const parts = tmp();
    for (const i of [0, 1, 2]) {
      const r = await cli([
        'score',
        '--data',
        data,
        '--query-embeddings',
        queries,
        '--corpus-embeddings',
        join(emb, `corpus_embeddings.shard-${i}-of-3.npy`),
        '--dims',
        '16,4',
        '--out',
        parts,
        '--corpus-shard',
        `${i}/3`,
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
    const out = tmp();
    const merged = await cli(['merge', ...[0, 1, 2].map((i) => join(parts, `score.shard-${i}-of-3.part`)), '--out', out, '--json']);
    expect(merged.code, merged.stderr).toBe(0);
    expect(JSON.parse(merged.stdout).metrics).toEqual(JSON.parse(whole.stdout).metrics);
  }, 120_000);

  const slurmReason = slurmUnavailable();
  it.skipIf(slurmReason !== null)(
    `deploy/slurm/compare.sbatch on a real single-node Slurm: 3 array tasks and a dependent merge give the one-process results${slurmReason ? ` (skipped: ${slurmReason})` : ''}`,
    async () => {
      const cluster = startSlurm();
      try {
        const shared = tmp();
        const env = {
          ...process.env,
          ...cluster.env,
          SHARED: shared,
          EMB_BENCH: `${process.execPath} ${join(ROOT, 'bin', 'emb-bench.js')} --registry ${join(shared, 'registry.db')}`,
        };
        const submit = spawnSync('bash', [join(ROOT, 'deploy', 'slurm', 'compare.sbatch'), base, tuned, data, '16,8,4', '3'], { env, encoding: 'utf8' });
        expect(submit.status, submit.stderr).toBe(0);
        expect(submit.stdout).toMatch(/shards: job \d+ \(array 0-2\), merge: job \d+/);
        const results = join(shared, 'results', 'results.json');
        for (let i = 0; i < 480 && !existsSync(results); i++) await new Promise((r) => setTimeout(r, 500));
        expect(
          existsSync(results),
          readdirSync(join(shared, 'logs'))
            .map((f) => readFileSync(join(shared, 'logs', f), 'utf8'))
            .join('\n'),
        ).toBe(true);
        const json = JSON.parse(readFileSync(results, 'utf8'));
        expect(json.base.metrics).toEqual(one.json.base.metrics);
        expect(json.tuned.metrics).toEqual(one.json.tuned.metrics);
        expect(json.differences).toEqual(one.json.differences);
        expect(
          readdirSync(join(shared, 'parts'))
            .filter((f) => f.endsWith('.part'))
            .sort(),
        ).toEqual([0, 1, 2].map((i) => `compare.shard-${i}-of-3.part`));
      } finally {
        cluster.stop();
      }
    },
    300_000,
  );

  it('merge refuses a set with a shard missing, given twice, damaged, or from another run', async () => {
    const parts = tmp();
    for (const i of [0, 1, 2]) expect((await cli([...args(parts), '--shard', `${i}/3`])).code).toBe(0);
    const p = (i: number) => join(parts, `compare.shard-${i}-of-3.part`);
    const merge = (...files: string[]) => cli(['merge', ...files, '--out', join(tmp(), 'o'), '--no-log']);
    let r = await merge(p(0), p(2));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/merge: 1 of 3 shards are missing: 1\/3/);
    r = await merge(p(0), p(1), p(1), p(2));
    expect(r.stderr).toMatch(/shard 1\/3 is given twice/);
    const other = tmp();
    expect((await cli(['compare', base, tuned, '--data', data, '--dims', '16,8', '--out', other, '--no-log', '--no-cache', '--shard', '1/3'])).code).toBe(0);
    r = await merge(p(0), join(other, 'compare.shard-1-of-3.part'), p(2));
    expect(r.stderr).toMatch(/shard 1\/3 belongs to another run than/);
    const bytes = readFileSync(p(2));
    bytes[bytes.length - 5] ^= 1;
    writeFileSync(p(2), bytes);
    r = await merge(p(0), p(1), p(2));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/compare\.shard-2-of-3\.part: not a whole emb-bench shard result \(its checksum does not match\)/);
  }, 180_000);
});

describe('sharded compare from the library (the run layer, in process)', () => {
  const data = tiedBeir();
  const base = writeTinyTransformer(tmp(), { family: 'bert', seed: 1 }).dir;
  const tuned = writeTinyTransformer(tmp(), { family: 'roberta', dtype: 'BF16', seed: 2 }).dir;
  const common = { base, tuned, data, dims: [16, 8], cacheDir: null };

  it("the README's example: a logged, sharded compare and its merge equal the one-process compare", async () => {
    const registry = join(tmp(), 'registry.db');
    const parts = tmp();
    const shards = [];
    for (const index of [0, 1]) shards.push(await runCompare({ ...common, out: parts, shard: { index, count: 2 }, registry }));
    expect(shards.map((s) => s.kind)).toEqual(['compare-shard', 'compare-shard']);
    const merged = await runMerge({ parts: shards.map((s) => (s as CompareShardRun).part), out: join(tmp(), 'merged'), registry });
    const whole = await runCompare({ ...common, out: tmp(), registry: null });
    if (merged.kind !== 'compare' || whole.kind !== 'compare') throw new Error('expected compare runs');
    expect(merged.results.base.metrics).toEqual(whole.results.base.metrics);
    expect(merged.results.differences).toEqual(whole.results.differences);
    expect(merged.runId).toMatch(/^[0-9a-f-]{36}$/);
    const reg = await Registry.open(registry, { readonly: true });
    try {
      expect((await reg.showRun(merged.runId!)).status).toBe('succeeded');
    } finally {
      await reg.close();
    }
  }, 120_000);

  it('merge refuses shards run with other settings and names the setting (a query prompt on one shard only)', async () => {
    const parts = tmp();
    const a = (await runCompare({ ...common, out: parts, shard: { index: 0, count: 2 }, registry: null })) as CompareShardRun;
    const b = (await runCompare({ ...common, out: parts, shard: { index: 1, count: 2 }, registry: null, queryPrompt: 'query: ' })) as CompareShardRun;
    await expect(runMerge({ parts: [a.part, b.part], out: tmp(), registry: null })).rejects.toThrow(
      /shard 1\/2 belongs to another run than .*: run\.models\.base\.prompts\.query is "query: " there and "" in/,
    );
    const c = (await runCompare({ ...common, out: tmp(), shard: { index: 1, count: 2 }, registry: null, seed: 7 })) as CompareShardRun;
    await expect(runMerge({ parts: [a.part, c.part], out: tmp(), registry: null })).rejects.toThrow(/run\.seed is 7 there and 0 in/);
  }, 120_000);

  it('a damaged part header is caught by the checksum; a part of the older format is named as such', async () => {
    const parts = tmp();
    const a = (await runCompare({ ...common, out: parts, shard: { index: 0, count: 1 }, registry: null })) as CompareShardRun;
    const bytes = readFileSync(a.part);
    const at = bytes.indexOf('"roles"');
    bytes[at + 1] = 'x'.charCodeAt(0); // "xoles": without the checksum, a TypeError on the roles
    writeFileSync(a.part, bytes);
    await expect(runMerge({ parts: [a.part], out: tmp(), registry: null })).rejects.toThrow(
      /not a whole emb-bench shard result \(its checksum does not match\)/,
    );
    bytes.write('EMBPART1', 0, 'latin1');
    writeFileSync(a.part, bytes);
    await expect(runMerge({ parts: [a.part], out: tmp(), registry: null })).rejects.toThrow(/older format \(EMBPART1\).*run the shard again/);
  }, 60_000);
});
