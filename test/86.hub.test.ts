// Models by Hugging Face Hub id, through a Hub-shaped server on 127.0.0.1: downloads into the
// cache layout Python's huggingface_hub uses, revision pinning, resuming a cut download, the
// 401/403/404 paths, offline mode against a cache laid out by hand as Python lays it out.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HubOptions, modelSnapshot, parseRepoRef } from '../lib/hub/hub.js';
import { InterruptedError } from '../lib/errors.js';
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { cli } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { commitId, type FakeHub, filesOf, startFakeHub } from './helpers/hub-server.js';
import { writeTinyTransformer } from './helpers/transformer-model.js';
import { writeTinyModel } from './helpers/tiny-model.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'emb-hub-'));

describe('Hub ids', () => {
  it.each([
    ['org/name', { type: 'model', id: 'org/name', revision: 'main' }],
    ['hf://org/name@v1.2', { type: 'model', id: 'org/name', revision: 'v1.2' }],
    ['Snowflake/snowflake-arctic-embed-m-v1.5', { type: 'model', id: 'Snowflake/snowflake-arctic-embed-m-v1.5', revision: 'main' }],
    ['hf://datasets/zenml/rag_qa@refs/convert/parquet', { type: 'dataset', id: 'zenml/rag_qa', revision: 'refs/convert/parquet' }],
    ['./models/x', null],
    ['datasets/org/name', null],
    ['a/b/c', null],
  ])('%s', (text, want) => {
    expect(parseRepoRef(text)).toEqual(want);
  });
});

describe('models from a Hub-shaped server', () => {
  let hub: FakeHub;
  const commits = { v1: commitId('v1'), v2: commitId('v2') };
  const data = writeTinyBeir({ docs: 50, queries: 12 });
  let env: Record<string, string>;

  beforeAll(async () => {
    hub = await startFakeHub();
    // a safetensors-only model with two revisions (main -> v2, tag v1), an ONNX model, a gated one
    hub.repos.set('acme/tuned', {
      type: 'model',
      commits: {
        [commits.v1]: filesOf(writeTinyTransformer(tmp(), { family: 'bert', seed: 1 }).dir),
        [commits.v2]: filesOf(writeTinyTransformer(tmp(), { family: 'bert', seed: 2 }).dir),
      },
      refs: { main: commits.v2, v1: commits.v1 },
    });
    const onnx = tmp();
    writeTinyModel(onnx, { pooling: 'mean', width: 16 });
    hub.repos.set('acme/base', { type: 'model', commits: { [commitId('base')]: filesOf(onnx) }, refs: { main: commitId('base') } });
    hub.repos.set('acme/gated', { type: 'model', commits: { [commitId('g')]: filesOf(onnx) }, refs: { main: commitId('g') }, token: 'hf_right' });
    hub.repos.set('acme/garbled', { type: 'model', commits: {}, refs: {}, broken: { status: 200, body: '{"sha": "nope", "siblings": [{"x": 1}' } });
    hub.repos.set('acme/down', { type: 'model', commits: {}, refs: {}, broken: { status: 503, body: 'maintenance' } });
    hub.repos.set('acme/evil', {
      type: 'model',
      commits: {
        [commitId('evil')]: {
          'config.json': Buffer.from('{}'),
          'model.safetensors.index.json': Buffer.from('{"weight_map": {"w": "../../../../outside.safetensors"}}'),
        },
      },
      refs: { main: commitId('evil') },
    });
    hub.repos.set('acme/empty', { type: 'model', commits: { [commitId('e')]: { 'README.md': Buffer.from('# nothing') } }, refs: { main: commitId('e') } });
  });
  afterAll(() => hub.close());

  const freshEnv = () => {
    const home = tmp();
    env = { HF_ENDPOINT: hub.url, HF_HOME: home, HF_HUB_CACHE: join(home, 'hub'), HF_TOKEN: '', HF_HUB_OFFLINE: '' };
    return env;
  };
  const evalArgs = (model: string, ...extra: string[]) => [
    'eval',
    model,
    '--data',
    data,
    '--out',
    join(tmp(), 'o'),
    '--no-log',
    '--no-cache',
    '--json',
    ...extra,
  ];

  it('compare on two Hub ids: downloads into the shared cache, records the commit, and a second run downloads nothing', async () => {
    freshEnv();
    const r = await cli(['compare', 'acme/base', 'hf://acme/tuned', '--data', data, '--dims', '16,8', '--out', join(tmp(), 'o'), '--no-log', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.tuned.model.path).toBe(`hf://acme/tuned@${commits.v2}`);
    expect(json.tuned.model.name).toBe('acme/tuned');
    const folder = join(env.HF_HUB_CACHE, 'models--acme--tuned');
    expect(readFileSync(join(folder, 'refs', 'main'), 'utf8')).toBe(commits.v2);
    // snapshot files are relative links into blobs/, named by their ETag (sha256 for large files)
    const weights = join(folder, 'snapshots', commits.v2, 'model.safetensors');
    expect(lstatSync(weights).isSymbolicLink()).toBe(true);
    expect(readlinkSync(weights)).toMatch(/^\.\.\/\.\.\/blobs\/[0-9a-f]{64}$/);
    expect(readlinkSync(join(folder, 'snapshots', commits.v2, '1_Pooling', 'config.json'))).toMatch(/^\.\.\/\.\.\/\.\.\/blobs\/[0-9a-f]{40}$/);
    expect(readdirSync(join(folder, 'blobs')).some((f) => f.endsWith('.incomplete'))).toBe(false);
    hub.log.length = 0;
    const again = await cli(
      ['compare', 'acme/base', 'hf://acme/tuned', '--data', data, '--dims', '16,8', '--out', join(tmp(), 'o'), '--no-log', '--json'],
      env,
    );
    expect(again.code, again.stderr).toBe(0);
    expect(hub.log.filter((l) => l.startsWith('GET') && l.includes('/resolve/'))).toEqual([]);
    expect(JSON.parse(again.stdout).tuned.metrics).toEqual(json.tuned.metrics);
  });

  it("a pinned revision resolves to its commit and gives that version's numbers", async () => {
    freshEnv();
    const [v1, main] = [await cli(evalArgs('acme/tuned@v1'), env), await cli(evalArgs('acme/tuned'), env)];
    expect(v1.code, v1.stderr).toBe(0);
    expect(JSON.parse(v1.stdout).model.path).toBe(`hf://acme/tuned@${commits.v1}`);
    expect(readFileSync(join(env.HF_HUB_CACHE, 'models--acme--tuned', 'refs', 'v1'), 'utf8')).toBe(commits.v1);
    expect(JSON.parse(v1.stdout).metrics).not.toEqual(JSON.parse(main.stdout).metrics);
  });

  it('a download cut off mid-file fails with one line; the next run resumes it with a Range request', async () => {
    freshEnv();
    hub.cutOnce.set('model.safetensors', 3000);
    const cut = await cli(evalArgs('acme/tuned'), env);
    expect(cut.code).toBe(2);
    expect(cut.stderr.trim().split('\n')).toHaveLength(1);
    expect(cut.stderr).toMatch(/download of model\.safetensors broke off at \d+ bytes.*run again to resume/);
    const blobs = join(env.HF_HUB_CACHE, 'models--acme--tuned', 'blobs');
    expect(readdirSync(blobs).filter((f) => f.endsWith('.incomplete'))).toHaveLength(1);
    hub.log.length = 0;
    const resumed = await cli(evalArgs('acme/tuned'), env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(hub.log.some((l) => /GET .*model\.safetensors bytes=\d+-/.test(l))).toBe(true);
    expect(readdirSync(blobs).filter((f) => f.endsWith('.incomplete'))).toEqual([]);
  });

  it.each([
    [
      'a repo that does not exist (or a mistyped local folder)',
      'acme/nothing',
      {},
      /acme\/nothing: no such file or folder here; as a Hub id: acme\/nothing@main: repo not found on http:\/\/127\.0\.0\.1:\d+/,
    ],
    ['a revision that does not exist', 'acme/tuned@v9', {}, /acme\/tuned@v9: revision "v9" not found/],
    ['a gated repo without a token', 'acme/gated', {}, /needs a token .*set HF_TOKEN/],
    ['a gated repo with the wrong token', 'acme/gated', { HF_TOKEN: 'hf_wrong' }, /the token in HF_TOKEN has no access/],
    ['a repo without a model file', 'acme/empty', {}, /acme\/empty@main: the repo has no usable model file/],
    ["an answer that is not the Hub's JSON", 'acme/garbled', {}, /acme\/garbled@main: http:\/\/127\.0\.0\.1:\d+ gave no commit and file list/],
    ['a server error', 'acme/down', {}, /acme\/down@main: http:\/\/127\.0\.0\.1:\d+ answered 503/],
    [
      'a shard index naming a file outside the repo',
      'acme/evil',
      {},
      /acme\/evil@main: the repo lists an unsafe file name "\.\.\/\.\.\/\.\.\/\.\.\/outside\.safetensors"/,
    ],
  ])('%s: one line, exit 2', async (_, model, extra, message) => {
    const r = await cli(evalArgs(model), { ...freshEnv(), ...extra });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('a gated repo with its token downloads; the token also comes from $HF_HOME/token', async () => {
    const e = freshEnv();
    writeFileSync(join(e.HF_HOME, 'token'), 'hf_right\n');
    const r = await cli(evalArgs('acme/gated'), e);
    expect(r.code, r.stderr).toBe(0);
  });

  it('an unreachable endpoint: one line naming it', async () => {
    const r = await cli(evalArgs('acme/tuned'), { ...freshEnv(), HF_ENDPOINT: 'http://127.0.0.1:9' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9 /);
  });
});

describe('datasets from a Hub-shaped server', () => {
  let hub: FakeHub;
  const rows = Array.from({ length: 30 }, (_, i) => ({
    id: String(1000 + i),
    anchor: `the ${['wing', 'flow', 'plate', 'shock'][i % 4]} of ${['heat', 'lift', 'layer'][i % 3]} ${i}`,
    positive: `what is the ${['wing', 'flow', 'plate', 'shock'][i % 4]} ${['heat', 'lift', 'layer'][i % 3]}`,
  }));
  const parquetOf = (part: typeof rows) =>
    Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'id', data: part.map((r) => r.id), type: 'STRING' },
          { name: 'anchor', data: part.map((r) => r.anchor), type: 'STRING' },
          { name: 'positive', data: part.map((r) => r.positive), type: 'STRING' },
          { name: 'negative', data: part.map(() => 'unused'), type: 'STRING' },
        ] as never,
      }),
    );

  beforeAll(async () => {
    hub = await startFakeHub();
    const onnx = tmp();
    writeTinyModel(onnx, { pooling: 'mean', width: 16, seed: 1 });
    hub.repos.set('acme/base', { type: 'model', commits: { [commitId('b')]: filesOf(onnx) }, refs: { main: commitId('b') } });
    hub.repos.set('acme/tuned', {
      type: 'model',
      commits: { [commitId('t')]: filesOf(writeTinyTransformer(tmp(), { family: 'bert' }).dir) },
      refs: { main: commitId('t') },
    });
    // the repo's own files: two shards of the test split, and a train split
    hub.repos.set('zenml/qa', {
      type: 'dataset',
      commits: {
        [commitId('qa')]: {
          'README.md': Buffer.from('# qa'),
          'data/test-00000-of-00002.parquet': parquetOf(rows.slice(0, 18)),
          'data/test-00001-of-00002.parquet': parquetOf(rows.slice(18)),
          'data/train-00000-of-00001.parquet': parquetOf(rows.slice(0, 5)),
        },
      },
      refs: { main: commitId('qa') },
    });
    // only the Hub's Parquet conversion has files
    hub.repos.set('zenml/converted', {
      type: 'dataset',
      commits: { [commitId('raw')]: { 'README.md': Buffer.from('# raw') }, [commitId('conv')]: { 'default/test/0000.parquet': parquetOf(rows) } },
      refs: { main: commitId('raw'), 'refs/convert/parquet': commitId('conv') },
    });
  });
  afterAll(() => hub.close());

  it('compare on two Hub models and a Hub dataset, end to end; the dataset is cached like a model', async () => {
    const home = tmp();
    const env = { HF_ENDPOINT: hub.url, HF_HOME: home, HF_HUB_CACHE: join(home, 'hub'), HF_TOKEN: '', HF_HUB_OFFLINE: '' };
    const args = [
      'compare',
      'acme/base',
      'acme/tuned',
      '--data',
      'hf://datasets/zenml/qa',
      '--split',
      'test',
      '--dims',
      '16,8',
      '--out',
      join(tmp(), 'o'),
      '--no-log',
      '--json',
    ];
    const r = await cli(args, env);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.dataset).toMatchObject({
      name: 'zenml/qa',
      source: `hf://datasets/zenml/qa@${commitId('qa')}`,
      split: 'test',
      queries: 30,
      scored_queries: 30,
      corpus: 30,
    });
    expect(readFileSync(join(home, 'hub', 'datasets--zenml--qa', 'refs', 'main'), 'utf8')).toBe(commitId('qa'));
    expect(existsSync(join(home, 'hub', 'datasets--zenml--qa', 'snapshots', commitId('qa'), 'data', 'train-00000-of-00001.parquet'))).toBe(false);
    const offline = await cli(args, { ...env, HF_HUB_OFFLINE: '1', HF_ENDPOINT: 'http://127.0.0.1:9' });
    expect(offline.code, offline.stderr).toBe(0);
    expect(JSON.parse(offline.stdout).tuned.metrics).toEqual(json.tuned.metrics);
  });

  it('a split only the Parquet conversion has is read from refs/convert/parquet, with a warning', async () => {
    const home = tmp();
    const r = await cli(['eval', 'acme/base', '--data', 'hf://datasets/zenml/converted', '--out', join(tmp(), 'o'), '--no-log', '--json'], {
      HF_ENDPOINT: hub.url,
      HF_HOME: home,
      HF_HUB_CACHE: join(home, 'hub'),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).dataset.scored_queries).toBe(30);
    expect(r.stderr).toMatch(/read from the Hub's Parquet conversion \(refs\/convert\/parquet\)/);
  });

  it('a split that does not exist: one line', async () => {
    const home = tmp();
    const r = await cli(['eval', 'acme/base', '--data', 'hf://datasets/zenml/qa', '--split', 'validation', '--out', join(tmp(), 'o'), '--no-log'], {
      HF_ENDPOINT: hub.url,
      HF_HOME: home,
      HF_HUB_CACHE: join(home, 'hub'),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no Parquet, JSONL, JSON or CSV file for split "validation"/);
  });
});

describe("offline, against a cache laid out as Python's huggingface_hub lays it out", () => {
  it('HF_HUB_OFFLINE=1 resolves refs/main to the snapshot and never touches the network', async () => {
    const home = tmp();
    const cache = join(home, 'hub');
    const commit = commitId('python');
    const folder = join(cache, 'models--someone--tuned');
    const model = writeTinyTransformer(tmp(), { family: 'roberta', dtype: 'BF16' });
    // blobs/<etag> holding the content, snapshots/<commit>/<path> relative links, refs/main
    for (const [path, bytes] of Object.entries(filesOf(model.dir))) {
      const etag = commitId(path);
      mkdirSync(join(folder, 'blobs'), { recursive: true });
      writeFileSync(join(folder, 'blobs', etag), bytes);
      const pointer = join(folder, 'snapshots', commit, path);
      mkdirSync(join(pointer, '..'), { recursive: true });
      symlinkSync(`${'../'.repeat(path.split('/').length + 1)}blobs/${etag}`, pointer);
    }
    mkdirSync(join(folder, 'refs'));
    writeFileSync(join(folder, 'refs', 'main'), commit);
    const env = { HF_HOME: home, HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1', HF_ENDPOINT: 'http://127.0.0.1:9' };
    const data = writeTinyBeir();
    const r = await cli(['eval', 'someone/tuned', '--data', data, '--out', join(tmp(), 'o'), '--no-log', '--no-cache', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).model.path).toBe(`hf://someone/tuned@${commit}`);
    const missing = await cli(['eval', 'someone/other', '--data', data, '--out', join(tmp(), 'o'), '--no-log'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/someone\/other@main: HF_HUB_OFFLINE is set and the cache has no snapshot of it \(looked in .*models--someone--other\)/);
    expect(existsSync(join(cache, 'models--someone--other'))).toBe(false);
  });
});

describe('a hostile or broken Hub-shaped server', () => {
  let hub: FakeHub;
  const commit = commitId('hostile');
  const big = Buffer.alloc(5000, 7); // over 1000 bytes: a sha256 ETag and x-linked-size, as LFS files get
  beforeAll(async () => {
    hub = await startFakeHub();
    const files = filesOf(writeTinyModel(tmp(), { pooling: 'mean', width: 16 }).dir);
    hub.repos.set('acme/m', {
      type: 'model',
      commits: { [commit]: { ...files, 'onnx/model.onnx': Buffer.concat([files['onnx/model.onnx']]) } },
      refs: { main: commit },
    });
    hub.repos.set('acme/big', { type: 'model', commits: { [commit]: { 'config.json': Buffer.from('{}'), 'model.safetensors': big } }, refs: { main: commit } });
  });
  afterAll(() => hub.close());
  const options = (extra: Partial<HubOptions> = {}) => ({ endpoint: hub.url, cacheDir: join(tmp(), 'hub'), token: null, offline: false, ...extra });
  const answer = (res: ServerResponse, status: number, headers: Record<string, string>, body?: Buffer | string) => {
    res.writeHead(status, headers);
    res.end(body);
  };

  it('a revision holding ".." is refused before anything is written; nothing lands outside the cache root', async () => {
    expect(() => parseRepoRef('acme/m@../../../../escaped')).toThrow(/revision "\.\.\/\.\.\/\.\.\/\.\.\/escaped" is not a branch, tag or commit/);
    expect(() => parseRepoRef('acme/m@refs//x')).toThrow(/is not a branch/);
    // a server that resolves any revision: before the check, refs/<revision> was written as given
    hub.override = (_req, res, path) => {
      if (!path.startsWith('/api/models/acme/m/revision/')) return false;
      answer(res, 200, { 'content-type': 'application/json' }, JSON.stringify({ sha: commit, siblings: [] }));
      return true;
    };
    const o = options();
    const ref = { type: 'model' as const, id: 'acme/m', revision: '../../../escaped' };
    await expect(modelSnapshot(ref, o)).rejects.toThrow(/no usable model file|outside the cache/);
    expect(existsSync(join(o.cacheDir, '..', 'escaped'))).toBe(false);
    hub.override = null;
  });

  it('an ETag of ".." is refused, naming the file and the endpoint (not a bare EISDIR later)', async () => {
    hub.override = (req, res, path) => {
      if (req.method !== 'HEAD' || !path.endsWith('/config.json')) return false;
      answer(res, 200, { etag: '".."', 'content-length': '2' });
      return true;
    };
    await expect(modelSnapshot({ type: 'model', id: 'acme/big', revision: 'main' }, options())).rejects.toThrow(
      new RegExp(`acme/big@main: ${hub.url.replace(/[.]/g, '\\.')} gave no usable ETag for config\\.json`),
    );
    hub.override = null;
  });

  it('a metadata answer is read up to 16 MB, not to its end', async () => {
    let sent = 0;
    hub.override = (_req, res, path) => {
      if (!path.startsWith('/api/')) return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1 << 20, 32);
      const more = () => {
        while (sent < 200 << 20 && res.write(chunk)) sent += chunk.length;
        if (sent < 200 << 20) res.once('drain', more);
        else res.end();
      };
      more();
      res.on('close', () => res.destroy());
      return true;
    };
    await expect(modelSnapshot({ type: 'model', id: 'acme/m', revision: 'main' }, options())).rejects.toThrow(/sent more than 16 MB for the revision API/);
    expect(sent).toBeLessThan(200 << 20);
    hub.override = null;
  });

  it('a server that stops answering: the run signal aborts at once, the idle timeout ends it', async () => {
    const stalled: ServerResponse[] = [];
    hub.override = (_req, res, path) => {
      if (!path.startsWith('/api/')) return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"sha": ');
      stalled.push(res);
      return true;
    };
    const controller = new AbortController();
    const t0 = Date.now();
    setTimeout(() => controller.abort('SIGTERM'), 200);
    await expect(modelSnapshot({ type: 'model', id: 'acme/m', revision: 'main' }, options({ signal: controller.signal }))).rejects.toThrow(InterruptedError);
    expect(Date.now() - t0).toBeLessThan(5000);
    await expect(modelSnapshot({ type: 'model', id: 'acme/m', revision: 'main' }, options({ timeoutSeconds: 0.3 }))).rejects.toThrow(
      /sent nothing for 0\.3 s \(the revision API\)/,
    );
    for (const res of stalled) res.destroy();
    hub.override = null;
  });

  it('a download is its announced size, unencoded: a gzip body is refused, a longer one cut off and removed', async () => {
    const o = options();
    const incomplete = () => readdirSync(join(o.cacheDir, 'models--acme--big', 'blobs')).filter((f) => f.endsWith('.incomplete'));
    hub.override = (req, res, path) => {
      if (req.method !== 'GET' || !path.endsWith('/model.safetensors')) return false;
      answer(res, 200, { 'content-encoding': 'gzip', 'content-length': String(gzipSync(big).length) }, gzipSync(big));
      return true;
    };
    await expect(modelSnapshot({ type: 'model', id: 'acme/big', revision: 'main' }, o)).rejects.toThrow(/sent model\.safetensors with content-encoding gzip/);
    hub.override = (req, res, path) => {
      if (req.method !== 'GET' || !path.endsWith('/model.safetensors')) return false;
      res.writeHead(200, { 'transfer-encoding': 'chunked' }); // no length: as long as the server likes
      for (let i = 0; i < 20; i++) res.write(big);
      res.end();
      return true;
    };
    await expect(modelSnapshot({ type: 'model', id: 'acme/big', revision: 'main' }, o)).rejects.toThrow(
      /sent more than the 5000 bytes it announced for model\.safetensors; removed/,
    );
    expect(incomplete()).toEqual([]);
    hub.override = null;
    // an .incomplete longer than the file (a server that sent too much before) is started over, not resumed past the end
    const etag = createHash('sha256').update(big).digest('hex');
    writeFileSync(join(o.cacheDir, 'models--acme--big', 'blobs', `${etag}.incomplete`), Buffer.alloc(9000, 1));
    const snap = await modelSnapshot({ type: 'model', id: 'acme/big', revision: 'main' }, o);
    expect(readFileSync(join(snap.dir, 'model.safetensors')).equals(big)).toBe(true);
  });
});
