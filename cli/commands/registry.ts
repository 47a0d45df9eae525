// `emb-bench models ...`, `emb-bench runs ...` and `emb-bench registry copy`: registry queries
// as tables or JSON. Reads open the registry read-only; only promote, prune, log-metadata and
// copy (its target) write.
import { copyRegistry, Registry, type Stage } from '../../lib/registry/index.js';
import { clean, formatTable } from '../format.js';

export type RegistryQuery =
  | { kind: 'models-list' }
  | { kind: 'models-show'; name: string }
  | { kind: 'models-promote'; name: string; version: number; stage: Stage }
  | { kind: 'runs-list' }
  | { kind: 'runs-show'; id: string }
  | { kind: 'runs-diff'; a: string; b: string }
  | { kind: 'runs-prune' }
  | { kind: 'models-log-metadata'; name: string; version: number; metadata: Record<string, unknown> };

const num = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(4));

export async function registryCommand(path: string, q: RegistryQuery, json: boolean): Promise<void> {
  const writes = q.kind === 'models-promote' || q.kind === 'runs-prune' || q.kind === 'models-log-metadata';
  const registry = await Registry.open(path, { readonly: !writes });
  try {
    let value: unknown;
    let text: string;
    switch (q.kind) {
      case 'models-list': {
        const rows = await registry.listModels();
        value = rows;
        text = formatTable(
          ['model', 'versions', 'latest', 'staging', 'production'],
          rows.map((r) => [r.name, String(r.versions), String(r.latest ?? '-'), String(r.staging ?? '-'), String(r.production ?? '-')]),
        );
        break;
      }
      case 'models-show': {
        const m = await registry.showModel(q.name);
        value = m;
        text = [
          `model ${clean(m.name)}`,
          formatTable(
            ['version', 'stage', 'sha256', 'width', 'latest run', 'ndcg@10 by dim'],
            m.versions.map((v) => [
              String(v.version),
              String(v.stage),
              String(v.sha256).slice(0, 12),
              String(v.width ?? '-'),
              String(v.latest_run ?? '-').slice(0, 8),
              Object.entries(v.latest_metrics)
                .filter(([k]) => k.endsWith('_ndcg@10'))
                .map(([k, x]) => `${k.split('_')[1]}:${(x as number).toFixed(4)}`)
                .join(' ') || '-',
            ]),
          ),
          ...m.versions.flatMap((v) => {
            const card = (v.metadata as { card?: { loss?: string; matryoshkaDims?: number[]; datasetSize?: number } }).card;
            const base = v.base_model;
            if (!card && !base) return [];
            const from = base
              ? ` fine-tuned from ${clean(base.name)}${base.revision ? `@${base.revision.slice(0, 12)}` : ''}${base.version ? ` (registry version ${base.version})` : ''}`
              : '';
            const loss = card?.loss ? `, ${clean(card.loss)}${card.matryoshkaDims ? ` dims ${card.matryoshkaDims.join(',')}` : ''}` : '';
            const size = card?.datasetSize ? `, ${card.datasetSize} training samples` : '';
            return [`version ${v.version}:${from}${loss}${size}`];
          }),
        ].join('\n');
        break;
      }
      case 'models-promote':
        await registry.promote(q.name, q.version, q.stage);
        value = { name: q.name, version: q.version, stage: q.stage };
        text = `${clean(q.name)} version ${q.version} is now ${q.stage}`;
        break;
      case 'models-log-metadata': {
        value = await registry.logMetadata(q.name, q.version, q.metadata);
        text = `${clean(q.name)} version ${q.version}: metadata ${Object.keys(q.metadata).map(clean).join(', ')} logged`;
        break;
      }
      case 'runs-prune': {
        const ids = await registry.pruneAbandoned();
        value = { pruned: ids };
        text = ids.length ? `marked ${ids.length} abandoned run(s) failed: ${ids.map((id) => id.slice(0, 8)).join(', ')}` : 'no abandoned runs';
        break;
      }
      case 'runs-list': {
        const rows = await registry.listRuns();
        value = rows;
        text = formatTable(
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
        break;
      }
      case 'runs-show': {
        const r = await registry.showRun(q.id);
        value = r;
        text = [
          `run ${r.id}: ${r.command} ${r.status} (${r.started_at} -> ${r.ended_at ?? '...'})${r.error ? `: ${clean(r.error)}` : ''}`,
          `dataset ${clean(r.dataset_name ?? '-')} ${JSON.stringify(r.dataset_counts)}`,
          ...r.models.map(
            (m) =>
              `${m.role}: ${clean(m.name)} v${m.version} (${m.sha256.slice(0, 12)}) ndcg@10 ${Object.entries(m.metrics)
                .filter(([k]) => k.endsWith('_ndcg@10'))
                .map(([k, v]) => `${k.split('_')[1]}:${v.toFixed(4)}`)
                .join(' ')}`,
          ),
          ...(r.artifacts as Array<{ name: string; size: number }>).map((a) => `artifact ${clean(a.name)} (${a.size} bytes)`),
        ].join('\n');
        break;
      }
      case 'runs-diff': {
        const d = await registry.diffRuns(q.a, q.b);
        value = d;
        text = formatTable(
          ['role', 'metric', d.a.slice(0, 8), d.b.slice(0, 8), 'change'],
          d.rows.map((r) => [r.role, r.key, num(r.a), num(r.b), r.change === null ? '-' : `${r.change >= 0 ? '+' : ''}${r.change.toFixed(4)}`]),
        );
        break;
      }
    }
    process.stdout.write((json ? JSON.stringify(value, null, 2) : text) + '\n');
  } finally {
    await registry.close();
  }
}

/** Copies every model, version, stage, run and metric of `from` into `to` (idempotent). */
export async function copyCommand(from: string, to: string, json: boolean, signal?: AbortSignal): Promise<void> {
  const source = await Registry.open(from, { readonly: true });
  try {
    const target = await Registry.open(to);
    try {
      const s = await copyRegistry(source, target, { signal });
      const text = [
        `copied ${s.models} model(s), ${s.versions} version(s), ${s.runs} run(s) from ${clean(source.path)} to ${clean(target.path)}${s.skippedRuns ? ` (${s.skippedRuns} run(s) already there)` : ''}`,
        ...s.notes.map((n) => `note: ${clean(n)}`),
      ].join('\n');
      process.stdout.write((json ? JSON.stringify({ from: source.path, to: target.path, ...s }, null, 2) : text) + '\n');
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
