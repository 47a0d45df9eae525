// report.md: the table a person reads, then every metric, then the queries that moved most.
// Every text that comes from the data or the user is escaped (escape.ts).
import type { CompareResult } from '../compare.js';
import type { Dataset } from '../data/dataset.js';
import { type KLists, metricKey, metricNames } from '../metrics/index.js';
import { codeSpan, escapeMarkdown } from './escape.js';
import { deployMarkdown } from './deploy.js';
import type { TrainingResult } from '../training.js';

const pct = (v: number) => (v * 100).toFixed(2);
const signed = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)}`;
const pText = (p: number) => (p < 0.001 ? '<0.001' : p.toFixed(3));

/** The headline table: `metric` at every dim, both models, the difference and its test. */
/** The sentence naming the metric conventions where they are not sentence-transformers'. */
function conventionsLine(kLists: KLists | undefined): string {
  if (kLists?.conventions !== 'trec') return '';
  return ` Metrics in trec_eval's conventions under MTEB's names (graded relevance, a judged query without a relevant document scored 0, MAP over every relevant document, ties ordered by document id descending${kLists.ignoreIdenticalIds ? ", a document whose id equals the query's left out" : ''}), as the MTEB leaderboard reports them.`;
}

export function differenceTable(result: CompareResult, metric: string): string {
  const rows = result.dims.map((dim) => {
    const d = result.differences[metricKey(dim, metric)];
    return `| ${dim} | ${pct(d.base)} | ${pct(d.tuned)} | ${signed(d.diff)} | [${signed(d.ciLow)}, ${signed(d.ciHigh)}] | ${pText(d.pHolm)} | ${d.significant ? (d.diff > 0 ? 'better' : 'worse') : 'no significant change'} |`;
  });
  return [`| dim | base ${metric} | fine-tuned ${metric} | difference | 95% CI | p (Holm) | verdict |`, '|---:|---:|---:|---:|---|---:|---|', ...rows].join(
    '\n',
  );
}

/** The queries whose `metric` rose and fell most at `dim` (default: the smallest). */
export function movers(
  result: CompareResult,
  dataset: Dataset,
  metric: string,
  count = 5,
  dim = Math.min(...result.dims),
): { gained: string; lost: string; dim: number } {
  const key = metricKey(dim, metric);
  const base = result.base.perQuery[key];
  const tuned = result.tuned.perQuery[key];
  const textOf = new Map(dataset.queries.ids.map((id, i) => [id, dataset.queries.texts[i]]));
  const order = result.base.queryIds.map((id, q) => ({ id, delta: tuned[q] - base[q], b: base[q], t: tuned[q] })).sort((a, b) => b.delta - a.delta);
  const line = (r: (typeof order)[number]) => {
    const text = (textOf.get(r.id) ?? '').replace(/\s+/g, ' ');
    return `| ${escapeMarkdown(r.id)} | ${escapeMarkdown(text.length > 90 ? text.slice(0, 87) + '...' : text)} | ${r.b.toFixed(3)} | ${r.t.toFixed(3)} | ${r.delta >= 0 ? '+' : ''}${r.delta.toFixed(3)} |`;
  };
  const head = `| query | text | base | fine-tuned | change |\n|---|---|---:|---:|---:|`;
  return {
    dim,
    gained: [
      head,
      ...order
        .filter((r) => r.delta > 0)
        .slice(0, count)
        .map(line),
    ].join('\n'),
    lost: [
      head,
      ...order
        .filter((r) => r.delta < 0)
        .reverse()
        .slice(0, count)
        .map(line),
    ].join('\n'),
  };
}

export function compareMarkdown(result: CompareResult, dataset: Dataset, metric: string, names: { base: string; tuned: string }, moversDim?: number): string {
  const b = result.base.model;
  const t = result.tuned.model;
  const all = [
    `| metric | ${result.dims.map((d) => `dim ${d} base | dim ${d} tuned`).join(' | ')} |`,
    `|---|${result.dims.map(() => '---:|---:').join('|')}|`,
    ...metricNames(result.base.kLists).map(
      (n) =>
        `| ${n} | ${result.dims.map((d) => `${result.base.metrics[metricKey(d, n)].toFixed(4)} | ${result.tuned.metrics[metricKey(d, n)].toFixed(4)}`).join(' | ')} |`,
    ),
  ].join('\n');
  const m = movers(result, dataset, metric, 5, moversDim);
  return `# emb-bench compare: ${escapeMarkdown(names.base)} vs ${escapeMarkdown(names.tuned)}

Dataset **${escapeMarkdown(dataset.name)}**${dataset.split ? ` (split ${escapeMarkdown(dataset.split)})` : ''}: ${result.base.counts.scoredQueries} queries scored against ${result.base.counts.corpus} documents.${conventionsLine(result.base.kLists)}

- base: ${codeSpan(b.path)} (width ${b.width}, ${b.pooling.join('+') || 'graph'} pooling, sha256 ${b.sha256.slice(0, 12)})
- fine-tuned: ${codeSpan(t.path)} (width ${t.width}, ${t.pooling.join('+') || 'graph'} pooling, sha256 ${t.sha256.slice(0, 12)})

## ${metric} by dimension (x 100)

${differenceTable(result, metric)}

Differences are fine-tuned minus base. Interval: ${result.stats.interval}; p: ${result.stats.test}, ${result.stats.correction}; significant at alpha = ${result.stats.alpha} (seed ${result.stats.seed}).

![chart](chart.png)

${deployMarkdown(result, metric, names)}
## Every metric

${all}

## Queries that gained most at dim ${m.dim} (${metric}; \`--movers-dim\` picks the dim)

${m.gained}

## Queries that lost most at dim ${m.dim} (${metric})

${m.lost}
`;
}

/** report.md of a training run: the pick per dim, the metric at every checkpoint and dim, the trainer's own numbers beside. */
export function trainingMarkdown(result: TrainingResult, dataset: Dataset, names: { run: string; base?: string }): string {
  const metric = result.metric;
  const cell = (c: TrainingResult['checkpoints'][number], dim: number) => {
    const key = metricKey(dim, metric);
    const d = result.againstBase[c.checkpoint.name]?.[key];
    const mark = d?.significant ? (d.diff > 0 ? ' ▲' : ' ▼') : '';
    return `${pct(c.result.metrics[key])}${mark}`;
  };
  const sameAs = (c: TrainingResult['checkpoints'][number]) => {
    const twin = result.checkpoints.find((o) => o !== c && o.result.model.sha256 === c.result.model.sha256);
    return twin && c.checkpoint.name === 'final' ? ` (= ${escapeMarkdown(twin.checkpoint.name)})` : '';
  };
  const table = [
    `| checkpoint | step | epoch | ${result.dims.map((d) => `dim ${d}`).join(' | ')} |`,
    `|---|---:|---:|${result.dims.map(() => '---:').join('|')}|`,
    ...(result.base
      ? [
          `| base: ${escapeMarkdown(names.base ?? result.base.model.name)} | | | ${result.dims.map((d) => pct(result.base!.metrics[metricKey(d, metric)])).join(' | ')} |`,
        ]
      : []),
    ...result.checkpoints.map(
      (c) =>
        `| ${escapeMarkdown(c.checkpoint.name)}${sameAs(c)} | ${c.checkpoint.step ?? ''} | ${c.checkpoint.epoch ?? ''} | ${result.dims.map((d) => cell(c, d)).join(' | ')} |`,
    ),
  ].join('\n');
  const picks = [
    '| dim | best checkpoint | best | earliest within noise of the best | its difference [95% CI] |',
    '|---:|---|---:|---|---|',
    ...result.picks.map((p) => {
      const e = p.againstBest[p.earliest];
      return `| ${p.dim} | ${escapeMarkdown(p.best)} | ${pct(p.bestValue)} | ${escapeMarkdown(p.earliest)} | ${e ? `${signed(e.diff)} [${signed(e.ciLow)}, ${signed(e.ciHigh)}], p ${pText(e.pHolm)} (Holm)` : 'the best itself'} |`;
    }),
  ].join('\n');
  const trainer = result.checkpoints.flatMap((c) =>
    c.trainer.map(
      (t) =>
        `| ${escapeMarkdown(c.checkpoint.name)} | ${escapeMarkdown(t.key)} | ${t.ours.toFixed(4)} | ${t.trainer.toFixed(4)} | ${t.agrees ? 'agree' : `**disagree**: ${escapeMarkdown(t.note ?? '')}`} |`,
    ),
  );
  const disagreements = result.checkpoints.reduce((n, c) => n + c.trainer.filter((t) => !t.agrees).length, 0);
  return `# emb-bench training run: ${escapeMarkdown(names.run)}

Dataset **${escapeMarkdown(dataset.name)}**${dataset.split ? ` (split ${escapeMarkdown(dataset.split)})` : ''}: ${(result.checkpoints[0]?.result ?? result.base)?.counts.scoredQueries ?? 0} queries scored against ${dataset.corpus.ids.length} documents; ${result.checkpoints.length} checkpoints${result.skipped.length ? ` (${result.skipped.length} deleted by the trainer before they were read: ${result.skipped.map(escapeMarkdown).join(', ')})` : ''}.${conventionsLine((result.checkpoints[0]?.result ?? result.base)?.kLists)}

## The pick (${metric} x 100)

${result.picks.length ? picks : 'No checkpoint was evaluated.'}

The earliest checkpoint within noise is the first (by step) whose paired difference from the best is not significant (${result.stats.samples}-sample paired bootstrap interval, paired randomization test, Holm across the checkpoints at each dim, alpha ${result.stats.alpha}, seed ${result.stats.seed}).

## ${metric} x 100 at every checkpoint

${table}
${result.base ? `\n▲ / ▼: significantly better / worse than the base (paired randomization test, Holm across every checkpoint and dim).\n` : ''}
![chart](chart.png)

## The trainer's own evaluator

${trainer.length ? `${disagreements ? `**${disagreements} of the trainer's numbers disagree with emb-bench's** beyond one query's worth (1 / scored queries).` : "The trainer's numbers agree with emb-bench's within one query's worth (1 / scored queries)."}\n\n| checkpoint | key | emb-bench | trainer | |\n|---|---|---:|---:|---|\n${trainer.join('\n')}` : 'The trainer logged no evaluator numbers for the keys emb-bench computes (`eval_<name>_cosine_<metric>`, the name ending in `dim_<d>` for a truncation).'}
`;
}
