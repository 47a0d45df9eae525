// A training run's output folder as sentence-transformers' trainer (the Hugging Face Trainer)
// writes it: `checkpoint-<step>/` folders, each a model plus `trainer_state.json` (global step,
// epoch, log history), written last; and, when the script saves it there, the final model at the
// root. Nothing here loads a model; it says which folders are checkpoints and what the trainer
// logged for them.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../errors.js';

export const TRAINER_STATE = 'trainer_state.json';
const CHECKPOINT = /^checkpoint-(\d+)$/;

export interface TrainerState {
  globalStep: number | null;
  epoch: number | null;
  /** The trainer's log entries (loss, learning_rate, eval_* metrics), each with its step. */
  logHistory: Array<Record<string, unknown>>;
  bestMetric: number | null;
  bestModelCheckpoint: string | null;
}

export interface Checkpoint {
  /** `checkpoint-500`, or `final` for the model at the run's root. */
  name: string;
  /** Absolute path of the model folder. */
  path: string;
  /** The training step it was saved at (the final model: the trainer's last step, when known). */
  step: number | null;
  epoch: number | null;
  /** Its trainer_state.json, when written. */
  state: TrainerState | null;
}

/** Whether a folder holds a model (what readModel accepts): an ONNX file or safetensors weights with config.json. */
function holdsModel(dir: string): boolean {
  if (!existsSync(dir)) return false;
  const names = readdirSync(dir);
  if (names.some((n) => n.endsWith('.onnx')) || existsSync(join(dir, 'onnx'))) return true;
  return names.includes('config.json') && names.some((n) => n.endsWith('.safetensors'));
}

/** Whether `path` is a local folder with `checkpoint-<step>` subfolders (a training run's output). */
export function isTrainingOutput(path: string): boolean {
  try {
    if (!statSync(path).isDirectory()) return false;
    return readdirSync(path, { withFileTypes: true }).some((e) => e.isDirectory() && CHECKPOINT.test(e.name));
  } catch {
    return false;
  }
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A checkpoint's trainer_state.json, null when it is not there (yet). @throws UserError when it is not valid JSON of that shape. */
export function readTrainerState(dir: string): TrainerState | null {
  const file = join(dir, TRAINER_STATE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message.split('\n')[0]})`, 'ERR_TRAINER_STATE');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UserError(`${file}: expected a JSON object`, 'ERR_TRAINER_STATE');
  const history = json.log_history ?? [];
  if (!Array.isArray(history) || history.some((e) => typeof e !== 'object' || e === null || Array.isArray(e)))
    throw new UserError(`${file}: log_history must be a list of objects`, 'ERR_TRAINER_STATE');
  return {
    globalStep: num(json.global_step),
    epoch: num(json.epoch),
    logHistory: history as Array<Record<string, unknown>>,
    bestMetric: num(json.best_metric),
    bestModelCheckpoint: typeof json.best_model_checkpoint === 'string' ? json.best_model_checkpoint : null,
  };
}

/** The checkpoint folders of a training output in step order (no trainer_state read). */
function checkpointFolders(dir: string): Array<{ name: string; path: string; step: number }> {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const m = CHECKPOINT.exec(e.name);
      return m && e.isDirectory() ? [{ name: e.name, path: join(dir, e.name), step: Number(m[1]) }] : [];
    })
    .sort((a, b) => a.step - b.step);
}

/** A checkpoint as found now, with its trainer state when written. */
export function checkpointAt(path: string, name = basename(path), stepFromName: number | null = null): Checkpoint {
  const state = readTrainerState(path);
  return { name, path: resolve(path), step: state?.globalStep ?? stepFromName, epoch: state?.epoch ?? null, state };
}

/**
 * The checkpoints of a training output, in step order, then the final model at its root when
 * the root holds one (its step: the last step a state file names). `only` picks some: step
 * numbers, checkpoint names, or `final`.
 * @throws UserError when `dir` is not a training output or `only` names a checkpoint it lacks.
 */
export function listCheckpoints(dir: string, only?: string[]): Checkpoint[] {
  if (!isTrainingOutput(dir)) throw new UserError(`${dir}: not a training output (no checkpoint-<step> folders)`, 'ERR_TRAINING_OUTPUT');
  const found: Checkpoint[] = [];
  for (const f of checkpointFolders(dir)) {
    // a folder the trainer deleted (save_total_limit) between the listing and here is left out
    if (!existsSync(f.path)) continue;
    found.push(checkpointAt(f.path, f.name, f.step));
  }
  if (holdsModel(dir)) {
    const root = readTrainerState(dir);
    const last = Math.max(-1, ...found.map((c) => c.step ?? -1));
    found.push({
      name: 'final',
      path: resolve(dir),
      step: root?.globalStep ?? (last >= 0 ? last : null),
      epoch: root?.epoch ?? found.at(-1)?.epoch ?? null,
      state: root,
    });
  }
  if (!only) return found;
  return only.map((want) => {
    const hit = found.find((c) => c.name === want || c.name === `checkpoint-${want}`);
    if (!hit)
      throw new UserError(
        `checkpoints: ${dir} has no checkpoint "${want}" (it has ${found.map((c) => c.name).join(', ') || 'none'})`,
        'ERR_OPTION',
        'checkpoints',
      );
    return hit;
  });
}

/** Names, sizes and modification times of a folder's files: equal in two looks a poll apart means nothing is being written. */
export function folderSnapshot(dir: string): string | null {
  try {
    const parts: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else {
          const s = statSync(p);
          parts.push(`${p}\t${s.size}\t${s.mtimeMs}`);
        }
      }
    };
    walk(dir);
    return parts.join('\n');
  } catch {
    return null; // deleted while looked at
  }
}

/** The checkpoint folders of a training output now (for a watch): name, path and step from the name. */
export function checkpointFoldersNow(dir: string): Array<{ name: string; path: string; step: number }> {
  try {
    return checkpointFolders(dir);
  } catch {
    return [];
  }
}

/** The trainer's log entries of a step: the evaluation entry (its eval_* numbers) and the training entry (loss, learning rate). */
export function trainerLogAt(state: TrainerState | null, step: number | null): { eval: Record<string, number>; train: Record<string, number> } {
  const out = { eval: {} as Record<string, number>, train: {} as Record<string, number> };
  if (!state || step === null) return out;
  for (const entry of state.logHistory) {
    if (entry.step !== step) continue;
    for (const [k, v] of Object.entries(entry)) {
      if (typeof v !== 'number' || k === 'step' || k === 'epoch') continue;
      if (k.startsWith('eval_')) out.eval[k] = v;
      else out.train[k] = v;
    }
  }
  return out;
}
