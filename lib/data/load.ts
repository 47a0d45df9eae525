// One entry point for every dataset format: a BEIR folder or a pairs file.
import { existsSync, statSync } from 'node:fs';
import { UserError } from '../errors.js';
import { loadBeir } from './beir.js';
import type { Dataset } from './dataset.js';
import { loadPairs, ZENML_FIELDS, type PairsFields, type PairsFormat } from './pairs.js';

export interface LoadOptions {
  format?: 'beir' | PairsFormat;
  split?: string;
  fields?: Partial<PairsFields>;
  corpus?: string;
}

export async function loadDataset(path: string, options: LoadOptions = {}): Promise<Dataset> {
  if (!existsSync(path)) throw new UserError(`${path}: dataset not found`, 'ERR_NOT_FOUND');
  const format = options.format ?? (statSync(path).isDirectory() ? 'beir' : undefined);
  if (format === 'beir') return loadBeir(path, options.split ?? 'test');
  return loadPairs(path, {
    format,
    fields: { ...ZENML_FIELDS, ...Object.fromEntries(Object.entries(options.fields ?? {}).filter(([, v]) => v !== undefined)) },
    corpus: options.corpus,
  });
}
