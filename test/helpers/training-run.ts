// A training run's output folder as sentence-transformers' trainer writes it: checkpoint-<step>/
// folders (small safetensors models with different weights, and trainer_state.json with the
// log history up to that step), and optionally the final model at the root.
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTinyTransformer } from './transformer-model.js';

export interface TrainingLog {
  /** eval_* numbers the trainer's evaluator logged at a step. */
  eval?: Record<number, Record<string, number>>;
}

/** trainer_state.json as the Hugging Face Trainer writes it at `step`. */
export function trainerState(step: number, stepsPerEpoch: number, log: TrainingLog = {}, allSteps: number[] = [step]): string {
  const history: Array<Record<string, unknown>> = [];
  for (const s of allSteps.filter((x) => x <= step)) {
    history.push({ epoch: s / stepsPerEpoch, grad_norm: 1 / s, learning_rate: 2e-5 * (1 - s / 1000), loss: 1 / Math.sqrt(s), step: s });
    if (log.eval?.[s]) history.push({ epoch: s / stepsPerEpoch, ...log.eval[s], eval_runtime: 1.5, eval_samples_per_second: 10, step: s });
  }
  return JSON.stringify(
    {
      best_metric: null,
      best_model_checkpoint: null,
      epoch: step / stepsPerEpoch,
      eval_steps: allSteps[0],
      global_step: step,
      log_history: history,
      max_steps: 1000,
    },
    null,
    2,
  );
}

/** Writes one checkpoint folder (model files first, trainer_state.json last, as the trainer does). */
export function writeCheckpoint(
  root: string,
  step: number,
  o: { seed?: number; hidden?: number; stepsPerEpoch?: number; log?: TrainingLog; allSteps?: number[] } = {},
): string {
  const dir = join(root, `checkpoint-${step}`);
  mkdirSync(dir, { recursive: true });
  writeTinyTransformer(dir, { family: 'bert', hidden: o.hidden ?? 16, seed: o.seed ?? step });
  writeFileSync(join(dir, 'trainer_state.json'), trainerState(step, o.stepsPerEpoch ?? 200, o.log, o.allSteps ?? [step]));
  return dir;
}

/** A training output with checkpoints at `steps` (weights seeded by the step), and the final model (a copy of the last checkpoint's weights) at the root when `final`. */
export function writeTrainingRun(root: string, steps: number[], o: { final?: boolean; log?: TrainingLog; hidden?: number } = {}): string {
  for (const step of steps) writeCheckpoint(root, step, { log: o.log, allSteps: steps, hidden: o.hidden });
  if (o.final) {
    const last = join(root, `checkpoint-${steps[steps.length - 1]}`);
    for (const f of [
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'modules.json',
      'sentence_bert_config.json',
      'config_sentence_transformers.json',
      '1_Pooling',
    ])
      cpSync(join(last, f), join(root, f), { recursive: true });
  }
  return root;
}
