// `encode`: a model's query and corpus embeddings as .npy files (file order), whole or one slice.
import type { Dataset } from '../data/dataset.js';
import type { LoadOptions } from '../data/load.js';
import { DEFAULT_SPLIT } from '../defaults.js';
import { Encoder } from '../encode/encoder.js';
import { checkAborted } from '../errors.js';
import { embedDataset } from '../evaluate.js';
import type { Matrix } from '../data/matrix.js';
import { checkOutDir, writeEmbeddings } from '../report/outputs.js';
import { type Shard, shardRange } from '../score/shards.js';
import { datasetOf } from './eval.js';
import { encoderOptions, type EncodingOptions, type RunListeners, type ScoringOptions } from './options.js';

export interface EncodeRunOptions extends Pick<ScoringOptions, 'device' | 'threads'>, EncodingOptions, RunListeners {
  model: string;
  /** A BEIR folder or a pairs file (read with `load`), or a loaded Dataset: rows in its order, as `score` reads them. */
  data: string | Dataset;
  load?: LoadOptions;
  /** The qrels split (`load.split` takes it too). */
  split?: string;
  out: string;
  /** Encode only slice I of N of the corpus and of the queries. */
  shard?: Shard;
}

export interface EncodeRun {
  queries: Matrix;
  corpus: Matrix;
  /** The query and the corpus .npy written. */
  files: [string, string];
}

/**
 * Encodes a dataset's queries and corpus (all of them: `score` takes file order) and writes
 * query_embeddings.npy and corpus_embeddings.npy (`.shard-I-of-N` before .npy for a shard).
 * @throws UserError on bad input; InterruptedError once `signal` fires.
 */
export async function runEncode(o: EncodeRunOptions): Promise<EncodeRun> {
  const full = await datasetOf(o.data, { ...o.load, split: o.load?.split ?? o.split ?? DEFAULT_SPLIT }, o);
  checkOutDir(o.out);
  // A shard encodes slice I of the corpus and slice I of the queries (file order); `score`
  // takes the query shards as a comma-separated list and a corpus shard with its shard option.
  const q = o.shard ? shardRange(full.queries.ids.length, o.shard) : null;
  const d = o.shard ? shardRange(full.corpus.ids.length, o.shard) : null;
  const dataset = {
    ...full,
    queries: q ? { ids: full.queries.ids.slice(q.start, q.end), texts: full.queries.texts.slice(q.start, q.end) } : full.queries,
    corpus: d ? { ids: full.corpus.ids.slice(d.start, d.end), texts: full.corpus.texts.slice(d.start, d.end) } : full.corpus,
  };
  const encoder = await Encoder.load(o.model, encoderOptions(o));
  try {
    const { queries, corpus } = await embedDataset(encoder, dataset);
    checkAborted(o.signal);
    const files = writeEmbeddings(o.out, queries, corpus, o.shard ? `.shard-${o.shard.index}-of-${o.shard.count}` : '') as [string, string];
    return { queries, corpus, files };
  } finally {
    await encoder.close();
  }
}
