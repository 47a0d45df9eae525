// The part files of sharded runs, typed per command: the run key holds every setting that
// changes a number (merge refuses a set whose keys differ, naming the setting), the extra what
// the merge needs back.
import { join } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { datasetFingerprint } from '../data/dataset.js';
import type { LoadOptions } from '../data/load.js';
import type { ModelSpec } from '../encode/model.js';
import type { ModelEvalResult } from '../evaluate.js';
import type { KLists } from '../metrics/index.js';
import type { PartialHeader, Shard } from '../score/shards.js';

/** What decides a model's embeddings: its files, and the settings a run may override. */
export interface ModelSettings {
  sha256: string;
  prompts: { query: string; document: string };
  max_seq_length: number;
  pooling: string[];
  include_prompt: boolean;
  normalize: boolean;
}

export function modelSettings(spec: ModelSpec): ModelSettings {
  return {
    sha256: spec.sha256,
    prompts: { ...spec.prompts },
    max_seq_length: spec.maxSeqLength,
    pooling: [...spec.pooling],
    include_prompt: spec.includePrompt,
    normalize: spec.normalize,
  };
}

interface DataKey {
  path: string;
  fingerprint: string;
}

export interface CompareRunKey {
  command: 'compare';
  models: { base: ModelSettings; tuned: ModelSettings };
  data: DataKey & { load: Omit<LoadOptions, 'hub'> };
  dims: number[];
  k_lists: KLists;
  seed: number;
  /** The scores' arithmetic (engineArithmetic): shards of another engine class rank near-ties otherwise. */
  arithmetic: string;
}

export interface CompareExtra {
  models: { base: ModelEvalResult['model']; tuned: ModelEvalResult['model'] };
  names: { base?: string; tuned?: string };
  encode_ms: number;
  inferred: number;
  engine: string;
}

export interface ScoreRunKey {
  command: 'score';
  data: DataKey & { load: Omit<LoadOptions, 'hub'> };
  /** sha256 of the query embeddings every shard scores. */
  query_embeddings: string;
  dims: number[];
  k_lists: KLists;
  arithmetic: string;
}

export interface ScoreExtra {
  engine: string;
  inputs: { query_embeddings: string; corpus_embeddings: string };
}

export type CompareHeader = PartialHeader<CompareRunKey, CompareExtra>;
export type ScoreHeader = PartialHeader<ScoreRunKey, ScoreExtra>;

/** How a dataset was read, as a part file keeps it (the Hub's connection settings left out). */
export function loadKey(load: LoadOptions | undefined): Omit<LoadOptions, 'hub'> {
  const { hub: _hub, ...rest } = load ?? {};
  return rest;
}

export function dataKey(dataset: Dataset): DataKey {
  return { path: dataset.source, fingerprint: datasetFingerprint(dataset) };
}

/** `<out>/<command>.shard-I-of-N.part` */
export function partPath(out: string, command: 'compare' | 'score', shard: Shard): string {
  return join(out, `${command}.shard-${shard.index}-of-${shard.count}.part`);
}
