// What a run records in the registry about each model it evaluated.
import type { ModelEvalResult } from '../evaluate.js';
import type { ModelIdentity, RunModelRecord } from '../registry/index.js';
import { modelJson } from '../report/results.js';

/** The model as the registry keeps it: what results.json says, and its card's training metadata. */
export function modelIdentity(result: ModelEvalResult, name?: string): ModelIdentity {
  const card = result.model.card;
  return { ...modelJson(result, name), metadata: card && Object.keys(card).length ? { card } : undefined };
}

/** The registry record of one evaluated model; `metadataKey` is ZenML's name for its metrics (e.g. base_model_eval). */
export function modelRecord(role: string, result: ModelEvalResult, name: string | undefined, metadataKey: string): RunModelRecord {
  return { role, model: modelIdentity(result, name), metrics: result.metrics, metadata: { [metadataKey]: result.metrics } };
}
