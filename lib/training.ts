// A training run evaluated whole: every checkpoint encoded once and scored at every dim (the
// same evaluation as `eval` on that checkpoint alone), the best checkpoint per dim with the
// earliest one within the noise of it, each checkpoint against the base model, and the trainer's
// own evaluator numbers beside emb-bench's where it logged the same keys.
import type { Dataset } from './data/dataset.js';
import { type Checkpoint, trainerLogAt } from './encode/checkpoints.js';
import { Encoder, type EncoderOptions } from './encode/encoder.js';
import { type EvalOptions, evaluateModel, type ModelEvalResult } from './evaluate.js';
import { metricKey } from './metrics/index.js';
import { checkDims } from './score/index.js';
import { compareMetrics, DEFAULT_STATS, type Difference, holm, type StatsOptions } from './stats/index.js';

export interface CheckpointResult {
  checkpoint: Checkpoint;
  result: ModelEvalResult;
  /** The trainer's numbers for the keys emb-bench computes, at this checkpoint's step. */
  trainer: TrainerAgreement[];
  /** The trainer's training log at this step (loss, learning_rate, grad_norm). */
  trainLog: Record<string, number>;
}

/** One number the trainer's evaluator logged beside emb-bench's for the same checkpoint and key. */
export interface TrainerAgreement {
  /** emb-bench's key (`dim_256_cosine_ndcg@10`) and the trainer's (`eval_dim_256_cosine_ndcg@10`). */
  key: string;
  trainerKey: string;
  ours: number;
  trainer: number;
  /** Within what the data explains (one query's worth, 1 / scored queries, for near-ties the two runtimes order differently). */
  agrees: boolean;
  /** Why they disagree, when they do: a different truncation (the dim the trainer's number matches) or a different eval set. */
  note?: string;
}

export interface CheckpointPick {
  dim: number;
  /** The checkpoint with the highest metric (the earliest of equals). */
  best: string;
  bestValue: number;
  /** The earliest checkpoint whose difference from the best is not significant (the best itself when none earlier is). */
  earliest: string;
  /** Each other checkpoint against the best (tuned = the checkpoint, base = the best), Holm across the checkpoints at this dim. */
  againstBest: Record<string, Difference>;
}

export interface TrainingResult {
  dims: number[];
  metric: string;
  checkpoints: CheckpointResult[];
  /** compare: the base model, evaluated once. */
  base: ModelEvalResult | null;
  /** compare: each checkpoint against the base on `metric` (keyed by checkpoint name, then metric key), Holm across every (checkpoint, dim). */
  againstBase: Record<string, Record<string, Difference>>;
  picks: CheckpointPick[];
  stats: Required<StatsOptions> & { correction: string };
  /** Checkpoints the trainer deleted before they could be read (save_total_limit). */
  skipped: string[];
}

/**
 * A trainer key for an emb-bench key: `eval_<name>_cosine_<metric>`, where the evaluator's name
 * ends in `dim_<d>` for a truncation to d (the Matryoshka recipe names them so) and any other
 * name is the full width (sentence-transformers' default, no truncate_dim).
 */
function trainerDim(trainerKey: string, width: number): { dim: number; name: string } | null {
  const m = /^eval_(.*)_cosine_(.+)$/.exec(trainerKey);
  if (!m) return null;
  const d = /(?:^|_)dim_(\d+)$/.exec(m[1]);
  return { dim: d ? Number(d[1]) : width, name: m[2] };
}

/** The trainer's logged numbers against emb-bench's for the same checkpoint. */
export function trainerAgreement(result: ModelEvalResult, trainerEval: Record<string, number>): TrainerAgreement[] {
  const tolerance = 1 / Math.max(1, result.counts.scoredQueries);
  const out: TrainerAgreement[] = [];
  for (const [trainerKey, value] of Object.entries(trainerEval)) {
    const t = trainerDim(trainerKey, result.model.width);
    if (!t) continue;
    const key = metricKey(t.dim, t.name);
    const ours = result.metrics[key];
    if (ours === undefined) continue;
    const agrees = Math.abs(ours - value) <= tolerance;
    let note: string | undefined;
    if (!agrees) {
      const other = result.dims.find((d) => d !== t.dim && Math.abs(result.metrics[metricKey(d, t.name)] - value) <= tolerance);
      note =
        other !== undefined
          ? `a different truncation: the trainer's number matches emb-bench's at dim ${other}`
          : `a different eval set (or prompts, or truncation to a dim not evaluated here): ${(ours - value).toFixed(4)} apart, more than one query's worth (${tolerance.toFixed(4)})`;
    }
    out.push({ key, trainerKey, ours, trainer: value, agrees, ...(note ? { note } : {}) });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Encodes and scores one checkpoint (with `encoder.tokens`, the texts are tokenized once for all
 * of a run's checkpoints). The numbers are `eval`'s for that folder.
 */
export async function evaluateCheckpoint(
  checkpoint: Checkpoint,
  dataset: Dataset,
  options: EvalOptions & { encoder?: EncoderOptions },
): Promise<CheckpointResult> {
  const encoder = await Encoder.load(checkpoint.path, { signal: options.signal, ...options.encoder });
  try {
    if (options.dims) checkDims(options.dims, await encoder.width(), `checkpoint ${checkpoint.name}`);
    const result = await evaluateModel(encoder, dataset, options);
    const log = trainerLogAt(checkpoint.state, checkpoint.step);
    return { checkpoint, result, trainer: trainerAgreement(result, log.eval), trainLog: log.train };
  } finally {
    await encoder.close();
  }
}

const byStep = (a: CheckpointResult, b: CheckpointResult) => (a.checkpoint.step ?? Number.MAX_SAFE_INTEGER) - (b.checkpoint.step ?? Number.MAX_SAFE_INTEGER);

/**
 * The picks and tests over the checkpoints evaluated so far (in step order): per dim the best
 * and the earliest within its noise; with a base, each checkpoint against it.
 */
export async function summarizeTraining(
  evaluated: CheckpointResult[],
  base: ModelEvalResult | null,
  metric: string,
  options: { stats?: StatsOptions; signal?: AbortSignal; skipped?: string[] } = {},
): Promise<TrainingResult> {
  const stats = { ...DEFAULT_STATS, ...options.stats };
  const checkpoints = [...evaluated].sort(byStep);
  const dims = checkpoints[0]?.result.dims ?? base?.dims ?? [];
  const picks: CheckpointPick[] = [];
  for (const dim of checkpoints.length ? dims : []) {
    const key = metricKey(dim, metric);
    let best = checkpoints[0];
    for (const c of checkpoints) if (c.result.metrics[key] > best.result.metrics[key]) best = c;
    const others = checkpoints.filter((c) => c !== best);
    const raw: Difference[] = [];
    for (const c of others) raw.push((await compareMetrics([dim], [metric], best.result.perQuery, c.result.perQuery, stats, options.signal))[key]);
    const adjusted = holm(raw.map((d) => d.pValue));
    const againstBest: Record<string, Difference> = {};
    others.forEach((c, i) => (againstBest[c.checkpoint.name] = { ...raw[i], pHolm: adjusted[i], significant: adjusted[i] < stats.alpha }));
    const earliest = checkpoints.find((c) => c === best || !againstBest[c.checkpoint.name].significant)!;
    picks.push({ dim, best: best.checkpoint.name, bestValue: best.result.metrics[key], earliest: earliest.checkpoint.name, againstBest });
  }
  const againstBase: Record<string, Record<string, Difference>> = {};
  if (base) {
    const tests: Array<{ name: string; key: string; d: Difference }> = [];
    for (const c of checkpoints) {
      const diffs = await compareMetrics(dims, [metric], base.perQuery, c.result.perQuery, stats, options.signal);
      for (const [key, d] of Object.entries(diffs)) tests.push({ name: c.checkpoint.name, key, d });
    }
    const adjusted = holm(tests.map((t) => t.d.pValue));
    tests.forEach((t, i) => {
      againstBase[t.name] ??= {};
      againstBase[t.name][t.key] = { ...t.d, pHolm: adjusted[i], significant: adjusted[i] < stats.alpha };
    });
  }
  return {
    dims,
    metric,
    checkpoints,
    base,
    againstBase,
    picks,
    stats: { ...stats, correction: 'Holm across the checkpoints at each dim (against the best); across every (checkpoint, dim) (against the base)' },
    skipped: options.skipped ?? [],
  };
}
