// Bad input: one line on stderr naming the file, line, field or value; exit 2 (1 for a runtime
// failure); no stack trace; nothing half-written.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { writeTinyModel } from './helpers/tiny-model.js';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
const model = (o = {}) => writeTinyModel(tmp('emb-m-'), { pooling: 'mean', ...o }).dir;

async function evalOn(data: string, extra: string[] = [], modelDir = model()) {
  const out = join(tmp('emb-out-'), 'out');
  const r = await cli(['eval', modelDir, '--data', data, '--out', out, '--no-log', '--no-cache', ...extra]);
  return { ...r, out };
}

function expectOneLine(r: { code: number; stderr: string }, code: number, message: RegExp) {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

const edit = (dir: string, file: string, text: string | Buffer) => writeFileSync(join(dir, file), text);

describe('bad datasets', () => {
  it.each([
    ['a folder that does not exist', () => '/nonexistent/beir', /\/nonexistent\/beir: dataset not found/],
    [
      'malformed JSON on line 3',
      (d: string) => (edit(d, 'corpus.jsonl', '{"_id":"d0","text":"a"}\n{"_id":"d1","text":"b"}\n{"_id": "d2", text}\n'), d),
      /corpus\.jsonl:3: malformed JSON/,
    ],
    [
      'a row without its text',
      (d: string) => (edit(d, 'corpus.jsonl', '{"_id":"d0","text":"a"}\n{"_id":"d1"}\n'), d),
      /corpus\.jsonl:2: field "text" is missing/,
    ],
    ['a row without its id', (d: string) => (edit(d, 'queries.jsonl', '{"text":"wing"}\n'), d), /queries\.jsonl:1: field "_id" is missing/],
    [
      'duplicate query ids',
      (d: string) => (edit(d, 'queries.jsonl', '{"_id":"q0","text":"a"}\n{"_id":"q0","text":"b"}\n'), d),
      /queries\.jsonl:2: duplicate id "q0" \(first at [^)]*queries\.jsonl:1\)/,
    ],
    [
      'qrels with too few columns',
      (d: string) => (edit(d, 'qrels/test.tsv', 'query-id\tcorpus-id\tscore\nq0\td0\n'), d),
      /test\.tsv:2: expected 3 tab-separated columns/,
    ],
    [
      'a non-numeric qrels score',
      (d: string) => (edit(d, 'qrels/test.tsv', 'query-id\tcorpus-id\tscore\nq0\td0\thigh\n'), d),
      /test\.tsv:2: score "high" is not a number/,
    ],
    ['an empty corpus', (d: string) => (edit(d, 'corpus.jsonl', '\n'), d), /corpus\.jsonl: the corpus is empty/],
    [
      'no query with a relevant document',
      (d: string) => (edit(d, 'qrels/test.tsv', 'query-id\tcorpus-id\tscore\nq0\td0\t0\n'), d),
      /no query in queries\.jsonl has a relevant document/,
    ],
    [
      'non-UTF-8 bytes',
      (d: string) => (
        edit(d, 'queries.jsonl', Buffer.concat([Buffer.from('{"_id":"q0","text":"a"}\n{"_id":"q1","text":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')])),
        d
      ),
      /queries\.jsonl:2: not valid UTF-8/,
    ],
  ])('%s', async (_, make, message) => {
    const r = await evalOn(make(writeTinyBeir()));
    expectOneLine(r, 2, message);
    expect(existsSync(join(r.out, 'results.json'))).toBe(false);
  });

  it('qrels naming unknown ids: a warning, not fatal', async () => {
    const d = writeTinyBeir();
    edit(d, 'qrels/test.tsv', 'query-id\tcorpus-id\tscore\nq0\td1\t1\nq999\td1\t1\nq1\tnope\t1\n');
    const r = await evalOn(d);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: .*1 qrels rows name a query id not in queries\.jsonl/);
    expect(r.stderr).toMatch(/warning: .*1 qrels rows name a document id not in corpus\.jsonl/);
  });
});

describe('bad pairs files', () => {
  const pairs = (name: string, text: string | Buffer) => {
    const p = join(tmp('emb-pairs-'), name);
    writeFileSync(p, text);
    return p;
  };
  const compareOn = (data: string, ...extra: string[]) =>
    cli(['compare', model(), model({ seed: 5 }), '--data', data, '--dims', '8,4', '--out', join(tmp('emb-o-'), 'o'), '--no-log', '--no-cache', ...extra]);

  it('reads a CSV with ";" delimiters and quoted fields holding ";", quotes and newlines', async () => {
    const csv = 'id;anchor;positive;extra\n1;"what; is ""lift""";"wing\nlift";x\n2;flow;"flow of a wing";y\n3;doc;docs;z\n';
    const r = await compareOn(pairs('p.csv', csv), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).dataset.scored_queries).toBe(3);
  });

  it.each([
    ['a CSV row with the wrong field count', 'p.csv', 'id,anchor,positive\n1,a,b\n2,a\n', /p\.csv:3: expected 3 fields/],
    ['a Parquet file that is not Parquet', 'p.parquet', 'definitely not parquet', /p\.parquet: not a readable Parquet file/],
    [
      'a JSON item without the query field',
      'p.json',
      '[{"id":"1","anchor":"a","positive":"b"},{"id":"2","positive":"c"}]',
      /p\.json: item 1: field "anchor" is missing/,
    ],
    [
      'duplicate ids in a pairs file',
      'p.jsonl',
      '{"id":"1","anchor":"a","positive":"b"}\n{"id":"1","anchor":"c","positive":"d"}\n',
      /p\.jsonl:2: duplicate query id "1"/,
    ],
    ['an unknown extension', 'p.txt', 'x', /p\.txt: cannot tell the format/],
  ])('%s', async (_, name, text, message) => {
    expectOneLine(await compareOn(pairs(name, text)), 2, message);
  });
});

describe('bad dims, models and outputs', () => {
  it.each([
    [['--dims', '8,0'], /--dims: "0" is not a positive integer/],
    [['--dims=-4'], /--dims: "-4" is not a positive integer/],
    [['--dims', '8,8'], /--dims: 8 is listed twice/],
    [['--dims', '16'], /--dims: 16 is larger than the model \S+ width 8/],
  ])('eval %j', async (extra, message) => {
    expectOneLine(await evalOn(writeTinyBeir(), extra), 2, message);
  });

  it('a graph without a usable output lists what it has', async () => {
    expectOneLine(
      await evalOn(writeTinyBeir(), [], model({ outputName: 'logits' })),
      2,
      /graph outputs are \[logits\]; expected sentence_embedding, token_embeddings or last_hidden_state/,
    );
  });

  it('a failure during inference is a runtime error: exit 1', async () => {
    const r = await evalOn(writeTinyBeir(), [], model({ tableRows: 5 })); // ids >= 5 are out of the table
    expectOneLine(r, 1, /inference failed/);
  });

  it('an --out path that cannot be a folder', async () => {
    const file = join(tmp('emb-f-'), 'file');
    writeFileSync(file, 'x');
    const r = await cli(['eval', model(), '--data', writeTinyBeir(), '--out', join(file, 'sub'), '--no-log', '--no-cache']);
    expectOneLine(r, 2, /--out .*file\/sub: cannot create the folder/);
  });

  it('--verbose adds the stack', async () => {
    const r = await cli(['--verbose', 'eval', model(), '--data', '/nonexistent', '--no-log']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('interruption', () => {
  it('SIGINT while encoding: prompt exit, finished batches stay cached, the rerun continues', async () => {
    const data = writeTinyBeir({ docs: 60000, queries: 20, wordsPerDoc: 40 });
    const m = model();
    const cache = tmp('emb-cache-');
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'emb-bench.js'), 'eval', m, '--data', data, '--out', join(cache, 'o'), '--no-log', '--cache-dir', cache],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const cacheBytes = () =>
      readdirSync(cache, { recursive: true, encoding: 'utf8' })
        .filter((f) => /\.(seg|part)$/.test(f))
        .reduce((n, f) => n + statSync(join(cache, f)).size, 0);
    // the condition the test needs (finished batches in the cache), however loaded the machine;
    // the bound only keeps a broken build from hanging the suite
    let running = true;
    void exited.then(() => (running = false));
    const until = Date.now() + 150_000;
    while (running && cacheBytes() < 200000 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(running, 'the run ended before it was interrupted').toBe(true);
    expect(cacheBytes()).toBeGreaterThanOrEqual(200000);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/interrupted \(SIGINT\)/);
    expect(existsSync(join(cache, 'o', 'results.json'))).toBe(false);
    const rerun = await cli(['eval', m, '--data', data, '--out', join(cache, 'o'), '--no-log', '--cache-dir', cache, '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    const inferred = JSON.parse(rerun.stdout).inferred_texts;
    expect(inferred).toBeGreaterThan(0);
    expect(inferred).toBeLessThan(60000 + 20);
  }, 240_000);
});
