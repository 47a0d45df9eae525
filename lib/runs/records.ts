// What a run records in the registry about each model it evaluated.
import { resolve } from 'node:path';
import type { ModelEvalResult } from '../evaluate.js';
import type { ModelIdentity, RunModelRecord } from '../registry/index.js';
import { modelJson } from '../report/results.js';

/** The model as the registry keeps it: what results.json says, and its card's training metadata. */
export function modelIdentity(result: ModelEvalResult, name?: string): ModelIdentity {
  const card = result.model.card;
  // a path that finds the model from anywhere: absolute, or the Hub id with its commit
  const path = result.model.hub ? result.model.path : resolve(result.model.path);
  return { ...modelJson(result, name), path, metadata: card && Object.keys(card).length ? { card } : undefined };
}

/** The registry record of one evaluated model; `metadataKey` is ZenML's name for its metrics (e.g. base_model_eval). */
export function modelRecord(role: string, result: ModelEvalResult, name: string | undefined, metadataKey: string): RunModelRecord {
  return { role, model: modelIdentity(result, name), metrics: result.metrics, metadata: { [metadataKey]: result.metrics } };
}
