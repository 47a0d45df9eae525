// BEIR-shaped datasets on the Hub, as the yardsticks publish them: MTEB's configs in Parquet
// (corpus, queries, default qrels), MTEB's older files (corpus.jsonl, queries.jsonl,
// qrels/<split>.tsv) and NanoBEIR's one-split-per-dataset layout, served by the Hub-shaped test
// server and read through the shared cache, online and offline, graded qrels kept.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBeir } from '../lib/data/beir.js';
import { loadDataset } from '../lib/data/load.js';
import { beirLayout, type HubOptions } from '../lib/hub/hub.js';
import { cli } from './helpers/shared.js';
import { commitId, type FakeHub, startFakeHub } from './helpers/hub-server.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { writeTinyModel } from './helpers/tiny-model.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'emb-beirhub-'));
type Rec = Record<string, string | number>;
const jsonl = (file: string): Rec[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
const parquet = (rows: Rec[], columns: Array<[string, 'STRING' | 'INT64']>) =>
  Buffer.from(
    parquetWriteBuffer({
      columnData: columns.map(([name, type]) => ({
        name,
        type,
        data: rows.map((r) => (type === 'INT64' ? BigInt(r[name] as number) : String(r[name]))),
      })) as never,
    }),
  );

describe('BEIR-shaped Hub datasets', () => {
  let hub: FakeHub;
  // a local BEIR folder with graded qrels (0, 1, 2) and titles: the reference the Hub copies must equal
  const local = writeTinyBeir({ docs: 40, queries: 10, seed: 9 });
  const corpus: Rec[] = jsonl(join(local, 'corpus.jsonl')).map((d, i) => ({ ...d, title: i % 3 === 0 ? `title ${i}` : '' }));
  writeFileSync(join(local, 'corpus.jsonl'), corpus.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const queries = jsonl(join(local, 'queries.jsonl'));
  const qrels: Rec[] = queries.flatMap((q, i) => [
    { 'query-id': q._id, 'corpus-id': `d${(i * 7) % 40}`, score: 2 },
    { 'query-id': q._id, 'corpus-id': `d${(i * 7 + 1) % 40}`, score: i % 2 },
  ]);
  writeFileSync(
    join(local, 'qrels', 'test.tsv'),
    ['query-id\tcorpus-id\tscore', ...qrels.map((r) => `${r['query-id']}\t${r['corpus-id']}\t${r.score}`)].join('\n') + '\n',
  );
  const tsv = readFileSync(join(local, 'qrels', 'test.tsv'));

  beforeAll(async () => {
    hub = await startFakeHub();
    hub.repos.set('mteb/tiny', {
      type: 'dataset',
      commits: {
        [commitId('mteb')]: {
          'README.md': Buffer.from('# tiny'),
          'corpus/corpus-00000-of-00001.parquet': parquet(corpus, [
            ['_id', 'STRING'],
            ['title', 'STRING'],
            ['text', 'STRING'],
          ]),
          'queries/queries-00000-of-00001.parquet': parquet(queries, [
            ['_id', 'STRING'],
            ['text', 'STRING'],
          ]),
          'default/test-00000-of-00001.parquet': parquet(qrels, [
            ['query-id', 'STRING'],
            ['corpus-id', 'STRING'],
            ['score', 'INT64'],
          ]),
          'default/dev-00000-of-00001.parquet': parquet(qrels.slice(0, 2), [
            ['query-id', 'STRING'],
            ['corpus-id', 'STRING'],
            ['score', 'INT64'],
          ]),
        },
      },
      refs: { main: commitId('mteb') },
    });
    hub.repos.set('mteb/tiny-files', {
      type: 'dataset',
      commits: {
        [commitId('old')]: {
          'corpus.jsonl': readFileSync(join(local, 'corpus.jsonl')),
          'queries.jsonl': readFileSync(join(local, 'queries.jsonl')),
          'qrels/test.tsv': tsv,
        },
      },
      refs: { main: commitId('old') },
    });
    // NanoBEIR: one split per dataset in each of corpus / queries / qrels; qrels without a score
    // column; an empty document and an empty query, which its evaluator leaves out
    const nano = (name: string, n: number) => ({
      [`corpus/${name}-00000-of-00001.parquet`]: parquet(
        [...corpus.slice(0, n), { _id: 'empty', title: 't', text: '' }],
        [
          ['_id', 'STRING'],
          ['title', 'STRING'],
          ['text', 'STRING'],
        ],
      ),
      [`queries/${name}-00000-of-00001.parquet`]: parquet(
        [...queries, { _id: 'qe', text: '' }],
        [
          ['_id', 'STRING'],
          ['text', 'STRING'],
        ],
      ),
      [`qrels/${name}-00000-of-00001.parquet`]: parquet(
        [...qrels.filter((r) => Number(r.score) > 0), { 'query-id': 'qe', 'corpus-id': 'd0' }].map((r) => ({
          'query-id': r['query-id'],
          'corpus-id': r['corpus-id'],
        })),
        [
          ['query-id', 'STRING'],
          ['corpus-id', 'STRING'],
        ],
      ),
    });
    // a dataset whose MTEB task sets ignore_identical_ids (mteb/arguana), with a document per
    // query under the query's own id and text
    hub.repos.set('mteb/arguana', {
      type: 'dataset',
      commits: {
        [commitId('arguana')]: {
          'corpus.jsonl': Buffer.from(
            [...corpus, ...queries.map((q) => ({ _id: q._id, title: '', text: q.text }))].map((d) => JSON.stringify(d)).join('\n') + '\n',
          ),
          'queries.jsonl': readFileSync(join(local, 'queries.jsonl')),
          'qrels/test.tsv': tsv,
        },
      },
      refs: { main: commitId('arguana') },
    });
    // the older NanoBEIR repos: one per dataset, split train
    hub.repos.set('zeta-alpha-ai/NanoTiny', { type: 'dataset', commits: { [commitId('zeta')]: nano('train', 20) }, refs: { main: commitId('zeta') } });
    hub.repos.set('sentence-transformers/NanoBEIR-en', {
      type: 'dataset',
      commits: { [commitId('nano')]: { ...nano('NanoTiny', 40), ...nano('NanoSmall', 30) } },
      refs: { main: commitId('nano') },
    });
  });
  afterAll(() => hub.close());
  const options = (cacheDir: string, extra: Partial<HubOptions> = {}): HubOptions => ({ endpoint: hub.url, cacheDir, token: null, offline: false, ...extra });

  it("MTEB's Parquet configs and its older files read as the local folder reads, grades and all; offline from the cache", async () => {
    const reference = loadBeir(local, 'test');
    for (const [id, commit] of [
      ['mteb/tiny', commitId('mteb')],
      ['mteb/tiny-files', commitId('old')],
    ]) {
      const cache = join(tmp(), 'hub');
      const ds = await loadDataset(`hf://datasets/${id}`, { split: 'test', hub: options(cache) });
      expect(ds.source).toBe(`hf://datasets/${id}@${commit}`);
      expect([ds.name, ds.split]).toEqual([id, 'test']);
      expect(ds.corpus).toEqual(reference.corpus);
      expect(ds.queries).toEqual(reference.queries);
      expect(ds.qrels).toEqual(reference.qrels);
      expect(ds.grades).toEqual(reference.grades);
      expect(ds.corpus.texts[0]).toMatch(/^title 0 /);
      const offline = await loadDataset(`hf://datasets/${id}`, { split: 'test', hub: options(cache, { offline: true, endpoint: 'http://127.0.0.1:9' }) });
      expect(offline.grades).toEqual(reference.grades);
    }
    const dev = await loadDataset('hf://datasets/mteb/tiny', { split: 'dev', hub: options(join(tmp(), 'hub')) });
    expect(dev.qrels.size).toBe(1);
    await expect(loadDataset('hf://datasets/mteb/tiny', { split: 'train', hub: options(join(tmp(), 'hub')) })).rejects.toThrow(
      /no qrels for split "train" \(the repo's qrels: dev, test\)/,
    );
  });

  it("NanoBEIR's layout: a split per dataset, named after it, texts without titles, empty ones left out, every qrels row relevant", async () => {
    const ds = await loadDataset('hf://datasets/sentence-transformers/NanoBEIR-en', { split: 'NanoSmall', hub: options(join(tmp(), 'hub')) });
    expect(ds.name).toBe('NanoSmall');
    expect(ds.corpus.ids).toEqual(corpus.slice(0, 30).map((d) => d._id));
    expect(ds.corpus.texts[0]).toBe(corpus[0].text);
    expect(ds.queries.ids).not.toContain('qe');
    expect([...ds.qrels.values()].reduce((n, s) => n + s.size, 0)).toBe(qrels.filter((r) => Number(r.score) > 0).length);
    const zeta = await loadDataset('hf://datasets/zeta-alpha-ai/NanoTiny', { split: 'train', hub: options(join(tmp(), 'hub')) });
    expect([zeta.name, zeta.corpus.ids.length]).toEqual(['NanoTiny', 20]);
    expect(
      beirLayout(['corpus/NanoTiny-0.parquet', 'queries/NanoTiny-0.parquet', 'qrels/NanoTiny-0.parquet', 'qrels/NanoSmall-0.parquet'], 'NanoTiny'),
    ).toEqual({
      corpus: ['corpus/NanoTiny-0.parquet'],
      queries: ['queries/NanoTiny-0.parquet'],
      qrels: ['qrels/NanoTiny-0.parquet'],
    });
    expect(beirLayout(['data/test-0.parquet'], 'test')).toBeNull();
  });

  it('a dataset whose MTEB task sets ignore_identical_ids: left out under trec unless told otherwise, and said so', async () => {
    const dir = tmp();
    const model = writeTinyModel(join(dir, 'm'), { pooling: 'mean', seed: 3 }).dir;
    const home = join(dir, 'home');
    mkdirSync(home);
    const env = { HF_ENDPOINT: hub.url, HF_HOME: home, HF_HUB_CACHE: join(home, 'hub'), HF_TOKEN: '', HF_HUB_OFFLINE: '' };
    const run = async (out: string, ...extra: string[]) => {
      const r = await cli(['eval', model, '--data', 'hf://datasets/mteb/arguana', '--out', join(dir, out), '--no-log', '--no-cache', ...extra], env);
      expect(r.code, r.stderr).toBe(0);
      return { stderr: r.stderr, json: JSON.parse(readFileSync(join(dir, out, 'results.json'), 'utf8')) };
    };
    const mteb = await run('a', '--conventions', 'trec');
    expect(mteb.stderr).toMatch(/mteb\/arguana: MTEB's task sets ignore_identical_ids/);
    expect(mteb.json.k_lists.ignoreIdenticalIds).toBe(true);
    const kept = await run('b', '--conventions', 'trec', '--no-ignore-identical-ids');
    expect(kept.stderr).not.toMatch(/ignore_identical_ids/);
    expect(kept.json.k_lists.ignoreIdenticalIds).toBe(false);
    // each query's own text ranks first when kept: the lists differ
    expect(kept.json.metrics['dim_8_cosine_mrr_at_10']).not.toBe(mteb.json.metrics['dim_8_cosine_mrr_at_10']);
    const st = await run('c');
    expect(st.json.k_lists.ignoreIdenticalIds).toBeUndefined();
  });

  it('eval --conventions trec on the Hub copy equals eval on the local folder', async () => {
    const dir = tmp();
    const model = writeTinyModel(join(dir, 'm'), { pooling: 'mean', seed: 3 }).dir;
    const home = join(dir, 'home');
    mkdirSync(home);
    const env = { HF_ENDPOINT: hub.url, HF_HOME: home, HF_HUB_CACHE: join(home, 'hub'), HF_TOKEN: '', HF_HUB_OFFLINE: '' };
    const run = async (data: string, out: string) => {
      const r = await cli(['eval', model, '--data', data, '--conventions', 'trec', '--out', join(dir, out), '--no-log', '--no-cache'], env);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(readFileSync(join(dir, out, 'results.json'), 'utf8'));
    };
    const hubRun = await run('hf://datasets/mteb/tiny', 'hub');
    const localRun = await run(local, 'local');
    expect(hubRun.metrics).toEqual(localRun.metrics);
    expect(hubRun.dataset.fingerprint).toBe(localRun.dataset.fingerprint);
    expect(hubRun.metrics['dim_8_cosine_ndcg_at_10']).toBeGreaterThan(0);
  });
});
