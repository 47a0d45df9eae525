// results.json (lib/report/results.ts) against the JSON Schema the package ships: what compare,
// eval and score write from the run layer is valid, carries schema_version, and a file that
// lost a field or holds an impossible value is not.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeDemo } from '../lib/demo/data.js';
import { RESULTS_SCHEMA_VERSION } from '../lib/report/results.js';
import { runCompare, runEncode, runEval, runScore } from '../lib/runs/index.js';
import { resultsSchemaErrors } from './helpers/results-schema.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'emb-results-'));
const read = (dir: string) => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));

describe('results.json and its JSON Schema', () => {
  const demo = writeDemo(tmp());
  const outs = { compare: tmp(), eval: tmp(), score: tmp() };

  beforeAll(async () => {
    const common = { data: demo.data, dims: [16, 8], registry: null, cacheDir: null };
    await runCompare({ ...common, base: demo.base, tuned: demo.tuned, out: outs.compare });
    await runEval({ ...common, model: demo.tuned, out: outs.eval });
    const emb = tmp();
    await runEncode({ model: demo.base, data: demo.data, out: emb, cacheDir: null });
    await runScore({
      data: demo.data,
      queryEmbeddings: join(emb, 'query_embeddings.npy'),
      corpusEmbeddings: join(emb, 'corpus_embeddings.npy'),
      dims: [16, 8],
      out: outs.score,
    });
  }, 120_000);

  it.each(['compare', 'eval', 'score'] as const)('%s writes a valid results.json with schema_version first', (command) => {
    const json = read(outs[command]);
    expect(resultsSchemaErrors(json)).toEqual([]);
    expect(Object.keys(json)[0]).toBe('schema_version');
    expect(json.schema_version).toBe(RESULTS_SCHEMA_VERSION);
    expect(json.command).toBe(command);
  });

  it('a file that lost a field, holds an impossible p-value or a foreign metric key is refused', () => {
    const compare = read(outs.compare);
    const { metrics: _, ...noMetrics } = read(outs.eval);
    expect(resultsSchemaErrors(noMetrics).join('\n')).toMatch(/must have required property 'metrics'/);
    const key = Object.keys(compare.differences)[0];
    compare.differences[key].p_value = 2;
    expect(resultsSchemaErrors(compare).join('\n')).toMatch(/p_value must be <= 1/);
    const score = read(outs.score);
    score.metrics['ndcg@10'] = 0.5;
    expect(resultsSchemaErrors(score).join('\n')).toMatch(/property name must be valid|must match pattern/);
  });
});
