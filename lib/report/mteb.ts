// MTEB's result files, laid out as its results repository lays them out, so that MTEB's loader
// (mteb/load_results.py, TaskResult.from_disk in mteb/results/task_result.py, read at
// embeddings-benchmark/mteb 02c088e) and the tools built on it read a run as they read MTEB's own:
//
//   <org>__<model>[-dim<d>]/<revision>/<Task>.json   (TaskResult: dataset_revision, task_name,
//                                                     mteb_version, scores, evaluation_time)
//   <org>__<model>[-dim<d>]/<revision>/model_meta.json (name, revision, embed_dim, ...)
//
// A Matryoshka dim is a model of its own to MTEB (its files have no field for a truncation): the
// full width keeps the model's name and each smaller dim appends `-dim<d>`, with `embed_dim` d in
// model_meta.json. The revision is the Hub commit where the model came from the Hub, else
// `sha256-<first 12 hex digits>` of emb-bench's model hash. The scores are the trec conventions'
// metrics (MTEB's own), unrounded, under split `<split>` and hf_subset `default`, with
// main_score = ndcg_at_10; mteb_version is null (MTEB did not write them); dataset_revision the
// Hub dataset's commit, else MTEB's `no_revision_available`.
import type { Dataset } from '../data/dataset.js';
import type { EvalResult, ModelEvalResult } from '../evaluate.js';
import { UserError } from '../errors.js';
import { metricKey } from '../metrics/index.js';

/** What MTEB needs to know about a model: its name (org/name) and revision, and its width. */
export interface MtebModel {
  name: string;
  revision: string;
  width: number;
  maxTokens?: number;
  /** The model it was fine-tuned from, where known (model_meta.json's adapted_from). */
  adaptedFrom?: string;
}

/** A file-name-safe form (MTEB's files are named after the task and model). */
const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

/** The MTEB identity of an evaluated model. */
export function mtebModel(r: ModelEvalResult, adaptedFrom?: string): MtebModel {
  const m = r.model;
  return {
    name: m.hub?.id ?? m.name,
    revision: m.hub?.commit ?? `sha256-${m.sha256.slice(0, 12)}`,
    width: m.width,
    maxTokens: m.maxSeqLength,
    ...(adaptedFrom ? { adaptedFrom } : {}),
  };
}

/** The files (relative path -> content) of each model's results on the dataset, one folder per (model, dim). */
export function mtebResultFiles(dataset: Dataset, results: Array<{ model: MtebModel; result: EvalResult; seconds: number }>): Record<string, () => string> {
  const files: Record<string, () => string> = {};
  const task = dataset.name;
  const split = dataset.split ?? 'test';
  for (const { model, result, seconds } of results) {
    if (result.kLists.conventions !== 'trec')
      throw new UserError("mtebResults: MTEB's result files hold MTEB's numbers: run with conventions trec (--conventions trec)", 'ERR_OPTION', 'mtebResults');
    for (const dim of result.dims) {
      const name = dim === model.width ? model.name : `${model.name}-dim${dim}`;
      const folder = `${safe(name.replace('/', '__'))}/${safe(model.revision)}`;
      const scores: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(result.metrics)) {
        const prefix = metricKey(dim, '');
        if (key.startsWith(prefix)) scores[key.slice(prefix.length)] = value;
      }
      scores.main_score = scores.ndcg_at_10 ?? null;
      scores.hf_subset = 'default';
      scores.languages = [];
      files[`${folder}/${safe(task)}.json`] = () =>
        `${JSON.stringify(
          {
            dataset_revision: /@([0-9a-f]{40})$/.exec(dataset.source)?.[1] ?? 'no_revision_available',
            task_name: task,
            mteb_version: null,
            scores: { [split]: [scores] },
            evaluation_time: seconds,
            kg_co2_emissions: null,
          },
          null,
          2,
        )}\n`;
      files[`${folder}/model_meta.json`] = () =>
        `${JSON.stringify(
          {
            name,
            revision: model.revision,
            embed_dim: dim,
            max_tokens: model.maxTokens ?? null,
            similarity_fn_name: 'cosine',
            adapted_from: model.adaptedFrom ?? null,
            framework: ['Sentence Transformers', 'ONNX'],
          },
          null,
          2,
        )}\n`;
    }
  }
  return files;
}
