// A training run of ten MiniLM-L6-H384-shaped checkpoints (safetensors, as the trainer saves
// them; random weights, a different seed each) on a 2,000-document set at five dims: one
// `eval` of the training folder (the data read and its texts tokenized once) beside ten
// separate `eval` calls, one per checkpoint, each reading and tokenizing the data again. No
// cache: every checkpoint is encoded in both.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineInfo } from '../dist/lib/score/index.js';
import { runEval, runTraining } from '../dist/lib/runs/index.js';
import { seededRandom } from '../dist/lib/random.js';
import { bertConfig, bertWeights, MINILM_L6_H384, writeBertModel } from './models.js';
import { machine } from './score.js';
import { benchTexts, benchVocab } from './texts.js';

const CHECKPOINTS = 10;
const DOCS = 2000;
const QUERIES = 200;
const DIMS = [384, 256, 128, 64, 32];

/** safetensors bytes of float32 tensors. */
function safetensors(weights) {
  const header = {};
  let offset = 0;
  for (const [name, t] of weights) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, Buffer.from(json), ...[...weights.values()].map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))]);
}

/** A checkpoint folder as the trainer writes it: safetensors weights, configs, tokenizer, trainer_state.json. */
function writeCheckpoint(dir, step, vocab) {
  writeBertModel(dir, MINILM_L6_H384, vocab, { seed: step, maxSeqLength: 128 });
  rmSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(bertConfig(MINILM_L6_H384, vocab.length)));
  writeFileSync(join(dir, 'model.safetensors'), safetensors(bertWeights(MINILM_L6_H384, vocab.length, step)));
  writeFileSync(join(dir, 'trainer_state.json'), JSON.stringify({ global_step: step, epoch: step / 1000, log_history: [{ step, loss: 1 / step }] }));
}

/** A BEIR folder: DOCS documents, QUERIES queries (a sentence of a document each), one relevant document a query. */
function writeData(dir, texts) {
  const u = seededRandom(11);
  mkdirSync(join(dir, 'qrels'), { recursive: true });
  writeFileSync(join(dir, 'corpus.jsonl'), texts.map((t, i) => JSON.stringify({ _id: `d${i}`, title: '', text: t })).join('\n') + '\n');
  const picks = Array.from({ length: QUERIES }, () => Math.floor(u() * texts.length));
  writeFileSync(
    join(dir, 'queries.jsonl'),
    picks.map((d, i) => JSON.stringify({ _id: `q${i}`, text: texts[d].split(/[.!?]/)[0].slice(0, 200) })).join('\n') + '\n',
  );
  writeFileSync(join(dir, 'qrels', 'test.tsv'), ['query-id\tcorpus-id\tscore', ...picks.map((d, i) => `q${i}\td${d}\t1`)].join('\n') + '\n');
}

export async function trainingBench() {
  const root = mkdtempSync(join(tmpdir(), 'emb-bench-training-'));
  try {
    const { texts, source } = benchTexts(DOCS);
    const vocab = benchVocab(texts);
    const data = join(root, 'data');
    writeData(data, texts);
    const run = join(root, 'run');
    const steps = Array.from({ length: CHECKPOINTS }, (_, i) => (i + 1) * 100);
    for (const step of steps) writeCheckpoint(join(run, `checkpoint-${step}`), step, vocab);
    const common = { data, dims: DIMS, registry: null, cacheDir: null };
    const t0 = performance.now();
    for (const step of steps) await runEval({ ...common, model: join(run, `checkpoint-${step}`), out: join(root, `eval-${step}`) });
    const separate = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const training = await runTraining({ ...common, run, out: join(root, 'training') });
    const whole = (performance.now() - t1) / 1000;
    const result = {
      benchmark: 'training',
      date: new Date().toISOString(),
      machine: machine(),
      kernel: engineInfo().kernel,
      sizes: {
        checkpoints: CHECKPOINTS,
        documents: DOCS,
        queries: QUERIES,
        texts_source: source,
        model: 'MiniLM-L6-H384 shape, safetensors, max_seq_length 128',
        dims: DIMS,
      },
      ten_separate_evals_s: separate,
      one_training_eval_s: whole,
      speedup: separate / whole,
      best_at_384: training.result.picks[0]?.best,
    };
    console.log(
      `${CHECKPOINTS} checkpoints x ${DOCS} documents x ${DIMS.length} dims: one eval of the training folder ${whole.toFixed(1)} s | ${CHECKPOINTS} separate evals ${separate.toFixed(1)} s -> ${result.speedup.toFixed(2)}x (kernel ${result.kernel})`,
    );
    return result;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
