// The registry's answers as the terminal shows them: plain-text tables, text from the registry
// stripped of control characters.
import { HEADLINE_METRIC, parseMetricKey, type Registry } from '../lib/index.js';
import { stripControl, formatTable } from './format.js';

/** What a Registry query resolves to. */
type Listed<K extends 'listModels' | 'showModel' | 'listRuns' | 'showRun' | 'diffRuns'> = Awaited<ReturnType<Registry[K]>>;

const num = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(4));

/** The headline metric at each dim: `768:0.7012 256:0.6811`. */
export function headlineByDim(metrics: Record<string, number>): string {
  return (
    Object.entries(metrics)
      .map(([key, value]) => ({ key: parseMetricKey(key), value }))
      .filter((m) => m.key?.name === HEADLINE_METRIC)
      .map((m) => `${m.key!.dim}:${m.value.toFixed(4)}`)
      .join(' ') || '-'
  );
}

export function modelsText(rows: Listed<'listModels'>): string {
  return formatTable(
    ['model', 'versions', 'latest', 'staging', 'production'],
    rows.map((r) => [r.name, String(r.versions), String(r.latest ?? '-'), String(r.staging ?? '-'), String(r.production ?? '-')]),
  );
}

export function modelText(m: Listed<'showModel'>): string {
  return [
    `model ${stripControl(m.name)}`,
    formatTable(
      ['version', 'stage', 'sha256', 'width', 'latest run', `${HEADLINE_METRIC} by dim`],
      m.versions.map((v) => [
        String(v.version),
        String(v.stage),
        String(v.sha256).slice(0, 12),
        String(v.width ?? '-'),
        String(v.latest_run ?? '-').slice(0, 8),
        headlineByDim(v.latest_metrics),
      ]),
    ),
    ...m.versions.flatMap((v) => {
      const card = v.metadata.card;
      const base = v.base_model;
      if (!card && !base) return [];
      const from = base
        ? ` fine-tuned from ${stripControl(base.name)}${base.revision ? `@${base.revision.slice(0, 12)}` : ''}${base.version ? ` (registry version ${base.version})` : ''}`
        : '';
      const loss = card?.loss ? `, ${stripControl(card.loss)}${card.matryoshkaDims ? ` dims ${card.matryoshkaDims.join(',')}` : ''}` : '';
      const size = card?.datasetSize ? `, ${card.datasetSize} training samples` : '';
      return [`version ${v.version}:${from}${loss}${size}`];
    }),
  ].join('\n');
}

export function runsText(rows: Listed<'listRuns'>): string {
  return formatTable(
    ['run', 'command', 'status', 'started', 'dataset', 'models'],
    rows.map((r) => [
      String(r.id).slice(0, 8),
      String(r.command),
      String(r.status),
      String(r.started_at),
      String(r.dataset_name ?? '-'),
      String(r.models ?? '-'),
    ]),
  );
}

export function runText(r: Listed<'showRun'>): string {
  return [
    `run ${r.id}: ${r.command} ${r.status} (${r.started_at} -> ${r.ended_at ?? '...'})${r.error ? `: ${stripControl(r.error)}` : ''}`,
    `dataset ${stripControl(r.dataset_name ?? '-')} ${JSON.stringify(r.dataset_counts)}`,
    ...r.models.map((m) => `${m.role}: ${stripControl(m.name)} v${m.version} (${m.sha256.slice(0, 12)}) ${HEADLINE_METRIC} ${headlineByDim(m.metrics)}`),
    ...r.artifacts.map((a) => `artifact ${stripControl(a.name)} (${a.size} bytes)`),
  ].join('\n');
}

export function diffText(d: Listed<'diffRuns'>): string {
  const warning = d.sameDataset
    ? ''
    : `warning: the two runs read different datasets (${stripControl(d.datasets.a ?? '-')} and ${stripControl(d.datasets.b ?? '-')}): their numbers do not compare\n`;
  return (
    warning +
    formatTable(
      ['role', 'metric', d.a.slice(0, 8), d.b.slice(0, 8), 'change'],
      d.rows.map((r) => [r.role, r.key, num(r.a), num(r.b), r.change === null ? '-' : `${r.change >= 0 ? '+' : ''}${r.change.toFixed(4)}`]),
    )
  );
}
