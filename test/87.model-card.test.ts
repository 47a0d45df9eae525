// The model card sentence-transformers writes, read into the model version's metadata: base
// model and revision (lineage), loss and Matryoshka dims, dataset size, hyperparameters (Python
// reprs), training logs, framework versions. A card that is malformed is a warning, not a failure.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelCard, pythonValue } from '../lib/encode/card.js';
import { commitId, type FakeHub, filesOf, startFakeHub } from './helpers/hub-server.js';
import { cli, ROOT } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';
import { writeTinyModel } from './helpers/tiny-model.js';
import { writeTinyTransformer } from './helpers/transformer-model.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'emb-card-'));
const CARD = readFileSync(join(ROOT, 'test', 'fixtures', 'st-card.md'), 'utf8');

describe('model cards', () => {
  it.each([
    ['False', false],
    ['None', null],
    ['2e-05', 2e-5],
    ['-1', -1],
    ['cosine', 'cosine'],
    ['BatchSamplers.NO_DUPLICATES', 'BatchSamplers.NO_DUPLICATES'],
    ["{'min_num_params': 0, 'xla': False, 'name': 'it\\'s'}", { min_num_params: 0, xla: false, name: "it's" }],
    ['[]', []],
    ['(1, 2)', [1, 2]],
  ])('Python value %s', (text, want) => {
    expect(pythonValue(text)).toEqual(want);
  });

  it('a sentence-transformers card: every section by its heading', () => {
    const card = parseModelCard(CARD.replace('COMMIT', 'abcdef0123456789abcdef0123456789abcdef01'));
    expect(card).toMatchObject({
      baseModel: 'acme/base',
      baseRevision: 'abcdef0123456789abcdef0123456789abcdef01',
      datasets: ['zenml/rag_qa_embedding_questions_0_60_0'],
      libraryName: 'sentence-transformers',
      loss: 'MatryoshkaLoss',
      matryoshkaDims: [384, 256, 128, 64],
      datasetSize: 1490,
      frameworkVersions: { Python: '3.11.9', 'Sentence Transformers': '3.0.1', Transformers: '4.42.4', PyTorch: '2.3.1+cu121' },
    });
    expect(card.lossParameters).toMatchObject({ loss: 'MultipleNegativesRankingLoss', n_dims_per_step: -1 });
    expect(card.hyperparameters).toEqual({
      eval_strategy: 'epoch',
      per_device_train_batch_size: 32,
      learning_rate: 2e-5,
      num_train_epochs: 4,
      lr_scheduler_type: 'cosine',
      warmup_ratio: 0.1,
      tf32: false,
      load_best_model_at_end: true,
      optim: 'adamw_torch_fused',
      batch_sampler: 'no_duplicates',
    });
    expect(card.trainingLogs).toEqual([
      { Epoch: '1.0', Step: '47', 'dim_384_cosine_ndcg@10': '0.4821', 'dim_64_cosine_ndcg@10': '0.4012' },
      { Epoch: '2.0', Step: '94', 'dim_384_cosine_ndcg@10': '0.5501', 'dim_64_cosine_ndcg@10': '0.4633' },
    ]);
  });

  it('sections in another order and a card without front matter still read', () => {
    const [head, rest] = CARD.split('### Training Hyperparameters');
    const reordered = rest.replace(/### Framework Versions[\s\S]*$/, '');
    const card = parseModelCard(`${head.replace(/^---[\s\S]*?---\n/, '')}### Framework Versions\n- Python: 3.12.1\n\n### Training Hyperparameters${reordered}`);
    expect(card.frameworkVersions).toEqual({ Python: '3.12.1' });
    expect(card.hyperparameters?.learning_rate).toBe(2e-5);
    expect(card.baseModel).toBe('acme/base');
  });

  it('malformed front matter: a warning naming the file, and what the body says', () => {
    const warnings: string[] = [];
    const card = parseModelCard(CARD.replace('library_name: sentence-transformers', 'library_name: [unclosed'), (w) => warnings.push(w), '/m/README.md');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^\/m\/README\.md: the model card's front matter is not valid YAML/);
    expect(card.loss).toBe('MatryoshkaLoss');
    expect(card.baseModel).toBe('acme/base');
  });
});

describe('the card in the registry: lineage from the tuned version to its base', () => {
  let hub: FakeHub;
  beforeAll(async () => {
    hub = await startFakeHub();
    const onnx = tmp();
    writeTinyModel(onnx, { pooling: 'mean', width: 16 });
    hub.repos.set('acme/base', { type: 'model', commits: { [commitId('base')]: filesOf(onnx) }, refs: { main: commitId('base') } });
  });
  afterAll(() => hub.close());

  it('compare base (from the Hub) and a tuned folder whose card names it: models show links them', async () => {
    const home = tmp();
    const env = { HF_ENDPOINT: hub.url, HF_HOME: home, HF_HUB_CACHE: join(home, 'hub'), HF_TOKEN: '' };
    const tuned = writeTinyTransformer(tmp(), { family: 'bert' });
    writeFileSync(join(tuned.dir, 'README.md'), CARD.replace('COMMIT', commitId('base')));
    const reg = join(tmp(), 'r.db');
    const r = await cli(
      [
        '--registry',
        reg,
        'compare',
        'acme/base',
        tuned.dir,
        '--data',
        writeTinyBeir(),
        '--dims',
        '16,8',
        '--out',
        join(tmp(), 'o'),
        '--tuned-name',
        'acme/tuned',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const show = await cli(['--registry', reg, 'models', 'show', 'acme/tuned', '--json'], env);
    const version = JSON.parse(show.stdout).versions[0];
    expect(version.base_model).toEqual({ name: 'acme/base', revision: commitId('base'), version: 1 });
    expect(version.metadata.card).toMatchObject({ loss: 'MatryoshkaLoss', matryoshkaDims: [384, 256, 128, 64], hyperparameters: { learning_rate: 2e-5 } });
    const text = await cli(['--registry', reg, 'models', 'show', 'acme/tuned'], env);
    expect(text.stdout).toMatch(
      /version 1: fine-tuned from acme\/base@[0-9a-f]{12} \(registry version 1\), MatryoshkaLoss dims 384,256,128,64, 1490 training samples/,
    );
  });

  it('a malformed card is a warning on stderr; the run succeeds', async () => {
    const m = writeTinyTransformer(tmp(), { family: 'bert' });
    writeFileSync(join(m.dir, 'README.md'), '---\ntags: [a\n---\n# x\n');
    const r = await cli(['eval', m.dir, '--data', writeTinyBeir(), '--out', join(tmp(), 'o'), '--no-log', '--no-cache']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: .*README\.md: the model card's front matter is not valid YAML/);
  });
});
