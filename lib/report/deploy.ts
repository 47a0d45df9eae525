// Which dimension and precision to deploy: quality against bytes per vector for every (dim,
// precision) pair of a run with quantized precisions, the Pareto front of each model, and each
// pair's loss against float32 at its dim. The report, the chart and the dashboard read it.
import type { CompareResult } from '../compare.js';
import type { EvalResult } from '../evaluate.js';
import { metricKey, qualifiedName } from '../metrics/index.js';
import { bytesPerVector, type Precision } from '../score/quantized.js';
import type { Difference } from '../stats/index.js';
import { escapeMarkdown } from './escape.js';

export interface DeployPoint {
  dim: number;
  precision: Precision;
  bytesPerVector: number;
  indexBytes: number;
  value: number;
  /** Quantized pairs: the paired test against float32 at the same dim (null for float32). */
  versusFloat32: Difference | null;
  /** No other pair of the model is as small and as good, one of them strictly. */
  pareto: boolean;
}

/** Every (dim, precision) pair of one model's result under `metric`, fewest bytes first. */
export function deployPoints(result: EvalResult, metric: string): DeployPoint[] {
  const q = result.quantization;
  const precisions: Precision[] = q?.precisions ?? ['float32'];
  const points: DeployPoint[] = result.dims.flatMap((dim) =>
    precisions.map((precision) => {
      const key = metricKey(dim, qualifiedName(precision, metric));
      const b = bytesPerVector(precision, dim);
      return {
        dim,
        precision,
        bytesPerVector: b,
        indexBytes: b * result.counts.corpus,
        value: result.metrics[key],
        versusFloat32: precision === 'float32' ? null : (q?.versusFloat32[key] ?? null),
        pareto: false,
      };
    }),
  );
  const front = paretoFront(points.map((p) => ({ bytes: p.bytesPerVector, value: p.value })));
  points.forEach((p, i) => {
    p.pareto = front[i];
  });
  return points.sort((a, b) => a.bytesPerVector - b.bytesPerVector || b.value - a.value);
}

/** For each point, whether no other is as small and as good, one of the two strictly. */
export function paretoFront(points: Array<{ bytes: number; value: number }>): boolean[] {
  return points.map((p) => !points.some((o) => o !== p && o.bytes <= p.bytes && o.value >= p.value && (o.bytes < p.bytes || o.value > p.value)));
}

/**
 * The smallest pair whose metric is not significantly below float32's at the same dim and at
 * least `share` of the best pair's value (null when none).
 */
export function smallestSafe(points: DeployPoint[], share = 0.95): DeployPoint | null {
  const best = Math.max(...points.map((p) => p.value));
  return points.find((p) => !(p.versusFloat32?.significant && p.versusFloat32.diff < 0) && p.value >= share * best) ?? null;
}

const pct = (v: number) => (v * 100).toFixed(2);
const signed = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)}`;
const pText = (p: number) => (p < 0.001 ? '<0.001' : p.toFixed(3));

/** A size in bytes as B, KiB, MiB or GiB. */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}

/** report.md's section for a compare with quantized precisions. */
export function deployMarkdown(result: CompareResult, metric: string, names: { base: string; tuned: string }): string {
  const q = result.base.quantization;
  if (!q) return '';
  const base = deployPoints(result.base, metric);
  const tuned = deployPoints(result.tuned, metric);
  const tunedAt = new Map(tuned.map((p) => [`${p.dim}/${p.precision}`, p]));
  const loss = (p: DeployPoint) =>
    p.versusFloat32 ? `${signed(p.versusFloat32.diff)}${p.versusFloat32.significant ? (p.versusFloat32.diff < 0 ? ' ▼' : ' ▲') : ''}` : '';
  const rows = base.map((b) => {
    const t = tunedAt.get(`${b.dim}/${b.precision}`)!;
    const d = result.differences[metricKey(b.dim, qualifiedName(b.precision, metric))];
    const front = [b.pareto ? 'base' : '', t.pareto ? 'fine-tuned' : ''].filter(Boolean).join(', ');
    return `| ${b.dim} | ${b.precision} | ${b.bytesPerVector} | ${humanBytes(b.indexBytes)} | ${pct(b.value)} | ${loss(b)} | ${pct(t.value)} | ${loss(t)} | ${d ? `${signed(d.diff)} (p ${pText(d.pHolm)})${d.significant ? (d.diff > 0 ? ' better' : ' worse') : ''}` : ''} | ${front} |`;
  });
  const pick = (points: DeployPoint[], who: string) => {
    const s = smallestSafe(points);
    return s
      ? `- ${who}: **dim ${s.dim}, ${s.precision}** (${s.bytesPerVector} bytes a vector, ${humanBytes(s.indexBytes)} for this corpus), ${metric} ${pct(s.value)}${s.versusFloat32 ? `, ${signed(s.versusFloat32.diff)} against float32 at dim ${s.dim} (not significant)` : ''}.`
      : `- ${who}: no pair keeps 95% of its best ${metric} without a significant loss against float32.`;
  };
  return `## Which dimension and precision to deploy (${metric} x 100)

The smallest pair that keeps at least 95% of the model's best ${metric} and is not significantly worse than float32 at its own dim:

${pick(base, `base (${escapeMarkdown(names.base)})`)}
${pick(tuned, `fine-tuned (${escapeMarkdown(names.tuned)})`)}

| dim | precision | bytes / vector | index (${result.base.counts.corpus} docs) | base | vs float32 | fine-tuned | vs float32 | fine-tuned - base | Pareto front |
|---:|---|---:|---:|---:|---:|---:|---:|---|---|
${rows.join('\n')}

Quantized as sentence-transformers' \`quantize_embeddings\` (commit cad2119): int8 / uint8 with per-dimension ranges from ${q.calibration.source === 'corpus' ? 'the corpus embeddings' : `${q.calibration.rows} calibration ${q.calibration.source}`}, binary / ubinary by the sign. First stage: ${q.rescoreMultiplier > 0 ? `the top ${q.rescoreMultiplier} x k by Hamming distance or integer inner product, rescored with the float32 query` : 'Hamming distance or integer inner product, no rescoring'} (kernel ${q.kernel}). vs float32: the pair minus float32 at the same dim, ▼ / ▲ significantly worse / better (paired randomization test, Holm per metric across every dim and precision); fine-tuned - base: the same test, Holm across every (dim, precision) pair. binary and ubinary hold the same bits (binary's bytes are ubinary's - 128), so they retrieve alike.
`;
}
