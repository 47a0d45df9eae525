// `emb-bench models ...`, `emb-bench runs ...` and `emb-bench registry copy`: one Registry call
// each, printed as a table (cli/registry-text.ts) or JSON. Reads open the registry read-only;
// only the commands in WRITES and copy (its target) write.
import { basename, dirname, resolve } from 'node:path';
import {
  compareSelection,
  copyRegistry,
  type ExportFormat,
  exportRuns,
  Registry,
  type RunFilter,
  type SelectionItem,
  type Stage,
  UserError,
  writeOutputSet,
} from '../../lib/index.js';
import { snakeCase, stripControl } from '../format.js';
import { diffText, historyText, modelsText, modelText, runsText, runText, selectionText, tagsText } from '../registry-text.js';

export type RegistryQuery =
  | { kind: 'models-list' }
  | { kind: 'models-show'; name: string }
  | { kind: 'models-promote'; name: string; version: number | 'latest'; stage: Stage }
  | { kind: 'models-demote'; name: string; version: number | 'latest'; how: 'demote' | 'archive' }
  | { kind: 'models-history'; name: string; version: number | 'latest' }
  | { kind: 'models-describe'; name: string; version?: number | 'latest'; text: string }
  | { kind: 'models-tag'; name: string; version?: number | 'latest'; set: Record<string, string>; remove: string[] }
  | { kind: 'runs-list'; filter: RunFilter; limit: number }
  | { kind: 'runs-show'; id: string }
  | { kind: 'runs-diff'; a: string; b: string }
  | { kind: 'runs-compare'; items: SelectionItem[]; reference?: number; metric: string }
  | { kind: 'runs-note'; id: string; text: string }
  | { kind: 'runs-tag'; id: string; set: Record<string, string>; remove: string[] }
  | { kind: 'runs-delete'; id: string }
  | { kind: 'runs-prune' }
  | { kind: 'models-log-metadata'; name: string; version: number | 'latest'; metadata: Record<string, unknown>; replace: boolean };

const WRITES = new Set<RegistryQuery['kind']>([
  'models-promote',
  'models-demote',
  'models-describe',
  'models-tag',
  'models-log-metadata',
  'runs-note',
  'runs-tag',
  'runs-delete',
  'runs-prune',
]);

/** What a query returns and how it reads as text. */
async function answer(registry: Registry, q: RegistryQuery): Promise<{ value: unknown; text: string }> {
  const as = <T>(value: T, text: (v: T) => string) => ({ value, text: text(value) });
  const which = (name: string, version?: number | 'latest') => `${stripControl(name)}${version === undefined ? '' : ` version ${version}`}`;
  switch (q.kind) {
    case 'models-list':
      return as(await registry.listModels(), modelsText);
    case 'models-show':
      return as(await registry.showModel(q.name), modelText);
    case 'models-promote': {
      const version = await registry.promote(q.name, q.version, q.stage);
      return { value: { name: q.name, version, stage: q.stage }, text: `${stripControl(q.name)} version ${version} is now ${q.stage}` };
    }
    case 'models-demote': {
      const stage = await registry.demote(q.name, q.version, q.how, 'cli');
      return { value: { name: q.name, version: q.version, stage }, text: `${which(q.name, q.version)} is now ${stage}` };
    }
    case 'models-history':
      return as(await registry.metadataHistory(q.name, q.version), historyText);
    case 'models-describe':
      await registry.describe(q.name, q.version, q.text);
      return { value: { name: q.name, version: q.version ?? null, description: q.text }, text: `${which(q.name, q.version)}: description set` };
    case 'models-tag': {
      const tags = await registry.tagModel(q.name, q.version, q.set, q.remove);
      return { value: { name: q.name, version: q.version ?? null, tags }, text: `${which(q.name, q.version)} tags: ${tagsText(tags)}` };
    }
    case 'models-log-metadata':
      return {
        value: await registry.logMetadata(q.name, q.version, q.metadata, { replace: q.replace, source: 'cli' }),
        text: `${which(q.name, q.version)}: metadata ${Object.keys(q.metadata).map(stripControl).join(', ')} logged`,
      };
    case 'runs-prune': {
      const ids = await registry.pruneAbandoned();
      return {
        value: { pruned: ids },
        text: ids.length ? `marked ${ids.length} abandoned run(s) failed: ${ids.map((id) => id.slice(0, 8)).join(', ')}` : 'no abandoned runs',
      };
    }
    case 'runs-list':
      return as(await registry.listRuns(q.limit, q.filter), runsText);
    case 'runs-show':
      return as(await registry.showRun(q.id), runText);
    case 'runs-diff':
      return as(await registry.diffRuns(q.a, q.b), diffText);
    case 'runs-compare':
      return as(await compareSelection(registry, q.items, { metric: q.metric, reference: q.reference }), selectionText);
    case 'runs-note': {
      const id = await registry.noteRun(q.id, q.text);
      return { value: { id, note: q.text }, text: `run ${id.slice(0, 8)}: note set` };
    }
    case 'runs-tag': {
      const tags = await registry.tagRun(q.id, q.set, q.remove);
      return { value: { id: q.id, tags }, text: `run ${stripControl(q.id)} tags: ${tagsText(tags)}` };
    }
    case 'runs-delete': {
      const r = await registry.deleteRun(q.id);
      return { value: r, text: `deleted run ${r.id} (${r.artifacts} artifact(s) with it)` };
    }
  }
}

/** `emb-bench runs export`: the runs as a file (or stdout for the text formats). */
export async function exportCommand(path: string, o: { ids: string[]; format: ExportFormat; filter: RunFilter; limit?: number; out?: string }): Promise<void> {
  const registry = await Registry.open(path, { readonly: true });
  try {
    const bytes = await exportRuns(registry, o.format, o);
    if (o.out) {
      writeOutputSet(dirname(resolve(o.out)), { [basename(o.out)]: () => bytes });
      process.stdout.write(`wrote ${stripControl(o.out)}\n`);
    } else if (typeof bytes === 'string') process.stdout.write(bytes);
    else throw new UserError('out: parquet is binary; give --out FILE', 'ERR_OPTION', 'out');
  } finally {
    await registry.close();
  }
}

export async function registryCommand(path: string, q: RegistryQuery, json: boolean): Promise<void> {
  const writes = WRITES.has(q.kind);
  const registry = await Registry.open(path, { readonly: !writes });
  try {
    const { value, text } = await answer(registry, q);
    process.stdout.write((json ? JSON.stringify(snakeCase(value), null, 2) : text) + '\n');
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
        `copied ${s.models} model(s), ${s.versions} version(s), ${s.runs} run(s) from ${stripControl(source.path)} to ${stripControl(target.path)}${s.skippedRuns ? ` (${s.skippedRuns} run(s) already there)` : ''}`,
        ...s.notes.map((n) => `note: ${stripControl(n)}`),
      ].join('\n');
      process.stdout.write((json ? JSON.stringify(snakeCase({ from: source.path, to: target.path, ...s }), null, 2) : text) + '\n');
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
