// `emb-bench models ...`, `emb-bench runs ...` and `emb-bench registry copy`: one Registry call
// each, printed as a table (cli/registry-text.ts) or JSON. Reads open the registry read-only;
// only promote, prune, log-metadata and copy (its target) write.
import { copyRegistry, Registry, type Stage } from '../../lib/index.js';
import { stripControl } from '../format.js';
import { diffText, modelsText, modelText, runsText, runText } from '../registry-text.js';

export type RegistryQuery =
  | { kind: 'models-list' }
  | { kind: 'models-show'; name: string }
  | { kind: 'models-promote'; name: string; version: number | 'latest'; stage: Stage }
  | { kind: 'runs-list' }
  | { kind: 'runs-show'; id: string }
  | { kind: 'runs-diff'; a: string; b: string }
  | { kind: 'runs-prune' }
  | { kind: 'models-log-metadata'; name: string; version: number; metadata: Record<string, unknown>; replace: boolean };

/** What a query returns and how it reads as text. */
async function answer(registry: Registry, q: RegistryQuery): Promise<{ value: unknown; text: string }> {
  const as = <T>(value: T, text: (v: T) => string) => ({ value, text: text(value) });
  switch (q.kind) {
    case 'models-list':
      return as(await registry.listModels(), modelsText);
    case 'models-show':
      return as(await registry.showModel(q.name), modelText);
    case 'models-promote': {
      const version = await registry.promote(q.name, q.version, q.stage);
      return { value: { name: q.name, version, stage: q.stage }, text: `${stripControl(q.name)} version ${version} is now ${q.stage}` };
    }
    case 'models-log-metadata':
      return {
        value: await registry.logMetadata(q.name, q.version, q.metadata, { replace: q.replace }),
        text: `${stripControl(q.name)} version ${q.version}: metadata ${Object.keys(q.metadata).map(stripControl).join(', ')} logged`,
      };
    case 'runs-prune': {
      const ids = await registry.pruneAbandoned();
      return {
        value: { pruned: ids },
        text: ids.length ? `marked ${ids.length} abandoned run(s) failed: ${ids.map((id) => id.slice(0, 8)).join(', ')}` : 'no abandoned runs',
      };
    }
    case 'runs-list':
      return as(await registry.listRuns(), runsText);
    case 'runs-show':
      return as(await registry.showRun(q.id), runText);
    case 'runs-diff':
      return as(await registry.diffRuns(q.a, q.b), diffText);
  }
}

export async function registryCommand(path: string, q: RegistryQuery, json: boolean): Promise<void> {
  const writes = q.kind === 'models-promote' || q.kind === 'runs-prune' || q.kind === 'models-log-metadata';
  const registry = await Registry.open(path, { readonly: !writes });
  try {
    const { value, text } = await answer(registry, q);
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
        `copied ${s.models} model(s), ${s.versions} version(s), ${s.runs} run(s) from ${stripControl(source.path)} to ${stripControl(target.path)}${s.skippedRuns ? ` (${s.skippedRuns} run(s) already there)` : ''}`,
        ...s.notes.map((n) => `note: ${stripControl(n)}`),
      ].join('\n');
      process.stdout.write((json ? JSON.stringify({ from: source.path, to: target.path, ...s }, null, 2) : text) + '\n');
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
