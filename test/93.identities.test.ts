// Identities: ids that must not collide (integers past 2^53 in JSON), and model versions in the
// registry (the same files are one version; two folders with one name are told apart).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { writeTinyModel } from './helpers/tiny-model.js';
import { encodeWith, model, segments, texts, tmp } from './helpers/reliability.js';

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
