// The registry's answers as the terminal shows them: plain-text tables, text from the registry
// stripped of control characters.
import { type compareSelection, HEADLINE_METRIC, parseMetricKey, type Registry } from '../lib/index.js';
import { formatTable, pct, stripControl } from './format.js';

/** What a Registry query resolves to. */
type Listed<K extends 'listModels' | 'showModel' | 'listRuns' | 'showRun' | 'diffRuns' | 'metadataHistory'> = Awaited<ReturnType<Registry[K]>>;

/** The headline metric x 100 at each dim: `768:70.12 256:68.11`. */
export function headlineByDim(metrics: Record<string, number>): string {
  return (
    Object.entries(metrics)
      .map(([key, value]) => ({ key: parseMetricKey(key), value }))
      .filter((m) => m.key?.name === HEADLINE_METRIC)
      .sort((a, b) => b.key!.dim - a.key!.dim)
      .map((m) => `${m.key!.dim}:${pct(m.value)}`)
      .join(' ') || '-'
  );
}

export function modelsText(rows: Listed<'listModels'>): string {
  return formatTable(
    ['model', 'versions', 'latest', 'staging', 'production'],
    rows.map((r) => [r.name, String(r.versions), String(r.latest ?? '-'), String(r.staging ?? '-'), String(r.production ?? '-')]),
  );
}

/** A dataset as every view names it: its name and the start of its fingerprint. */
export const datasetLabel = (d: { name: string | null; fingerprint: string | null } | null) =>
  d ? `${stripControl(d.name ?? '-')} (${(d.fingerprint ?? '-').slice(0, 12)})` : '-';

export const tagsText = (tags: Record<string, string>) =>
  Object.entries(tags)
    .map(([k, v]) => stripControl(v === '' ? k : `${k}=${v}`))
    .join(', ') || '-';

export function modelText(m: Listed<'showModel'>): string {
  const head = [
    `model ${stripControl(m.name)}${m.description ? `: ${stripControl(m.description)}` : ''}`,
    ...(Object.keys(m.tags).length ? [`tags: ${tagsText(m.tags)}`] : []),
  ];
  const versions = formatTable(
    ['version', 'stage', 'sha256', 'width', 'tags', 'description'],
    m.versions.map((v) => [String(v.version), String(v.stage), String(v.sha256).slice(0, 12), String(v.width ?? '-'), tagsText(v.tags), v.description || '-']),
  );
  // every place that shows metrics names the dataset and the run
  const byDataset = m.datasets.map((d) => {
    const rows = m.versions.flatMap((v) => {
      const at = v.datasets.find((x) => x.fingerprint === d.fingerprint);
      return at ? [[String(v.version), at.role, at.latestRun.slice(0, 8), String(at.runs), headlineByDim(at.metrics)]] : [];
    });
    return `dataset ${datasetLabel(d)}\n${formatTable(['version', 'role', 'latest run', 'runs', `${HEADLINE_METRIC} x 100 by dim`], rows)}`;
  });
  const lineage = m.versions.flatMap((v) => {
    const card = v.metadata.card;
    const base = v.baseModel;
    if (!card && !base) return [];
    const from = base
      ? ` fine-tuned from ${stripControl(base.name)}${base.revision ? `@${base.revision.slice(0, 12)}` : ''}${base.version ? ` (registry version ${base.version})` : ''}`
      : '';
    const loss = card?.loss ? `, ${stripControl(card.loss)}${card.matryoshkaDims ? ` dims ${card.matryoshkaDims.join(',')}` : ''}` : '';
    const size = card?.datasetSize ? `, ${card.datasetSize} training samples` : '';
    return [`version ${v.version}:${from}${loss}${size}`];
  });
  return [...head, versions, ...(byDataset.length ? ['', ...byDataset.flatMap((t) => [t, ''])] : ['', 'no succeeded runs']), ...lineage].join('\n').trimEnd();
}

export function historyText(rows: Listed<'metadataHistory'>): string {
  const value = (v: unknown) => (v === null ? '(absent)' : stripControl(JSON.stringify(v)).slice(0, 80));
  return rows.length
    ? formatTable(
        ['changed', 'by', 'source', 'key', 'old', 'new'],
        rows.map((r) => [r.changedAt.slice(0, 19).replace('T', ' '), r.changedBy, r.source, r.key, value(r.old), value(r.new)]),
      )
    : 'no metadata changes';
}

export function selectionText(s: Awaited<ReturnType<typeof compareSelection>>): string {
  const signed = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)}`;
  const groups = s.groups.map((g) => {
    const rows = g.rows.map((r) => [
      r.label,
      ...g.dims.map((d) => {
        const t = r.tests?.[d];
        return `${pct(r.values[d])}${t ? ` (${signed(t.diff)} [${signed(t.ciLow)}, ${signed(t.ciHigh)}]${t.significant ? ' *' : ''})` : ''}`;
      }),
    ]);
    const problems = g.rows.filter((r) => r.problem).map((r) => `no tests for ${r.label}: ${r.problem}`);
    return [
      `dataset ${datasetLabel({ name: g.dataset, fingerprint: g.fingerprint })}, reference ${g.reference}`,
      formatTable(['model', ...g.dims.map((d) => `dim ${d}`)], rows),
      ...problems,
    ].join('\n');
  });
  return `${s.metric} x 100; against each dataset's reference: difference [95% CI], * significant (${s.correction})\n\n${groups.join('\n\n')}`;
}

export function runsText(rows: Listed<'listRuns'>): string {
  if (!rows.length) return 'no runs match';
  return formatTable(
    ['run', 'command', 'status', 'started', 'dataset', 'models', 'tags', 'note'],
    rows.map((r) => [
      String(r.id).slice(0, 8),
      String(r.command),
      String(r.status),
      String(r.startedAt).slice(0, 19).replace('T', ' '),
      datasetLabel({ name: r.datasetName, fingerprint: r.datasetFingerprint }),
      String(r.models ?? '-'),
      tagsText(r.tags),
      (r.note || '-').slice(0, 60),
    ]),
  );
}

export function runText(r: Listed<'showRun'>): string {
  const seconds = r.endedAt ? (Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000 : null;
  const hw = r.hardware ?? {};
  const hardware = Object.entries(hw)
    .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
  return [
    `run ${r.id}: ${r.command} ${r.status}${r.error ? `: ${stripControl(r.error)}` : ''}`,
    `command: emb-bench ${r.argv.map(stripControl).join(' ')}`,
    `started ${r.startedAt}, ended ${r.endedAt ?? '...'}${seconds !== null ? ` (${seconds.toFixed(1)} s)` : ''}`,
    ...(r.note ? [`note: ${stripControl(r.note)}`] : []),
    ...(Object.keys(r.tags).length ? [`tags: ${tagsText(r.tags)}`] : []),
    `dataset ${datasetLabel({ name: r.datasetName, fingerprint: r.datasetFingerprint })} ${JSON.stringify(r.datasetCounts)}`,
    `dims ${(r.dims ?? []).join(',') || '-'}`,
    `hardware: ${stripControl(hardware) || '-'}`,
    `software: ${
      stripControl(
        Object.entries(r.software ?? {})
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
      ) || '-'
    }`,
    ...r.models.map((m) => `${m.role}: ${stripControl(m.name)} v${m.version} (${m.sha256.slice(0, 12)}) ${HEADLINE_METRIC} x 100 ${headlineByDim(m.metrics)}`),
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
      ['role', 'metric (x 100)', d.a.slice(0, 8), d.b.slice(0, 8), 'change'],
      d.rows.map((r) => [r.role, r.key, pct(r.a), pct(r.b), r.change === null ? '-' : `${r.change >= 0 ? '+' : ''}${pct(r.change)}`]),
    )
  );
}
