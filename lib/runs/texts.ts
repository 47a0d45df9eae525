// What a run's pages show beside its numbers: the query texts of the dataset it read.
import { existsSync } from 'node:fs';
import { loadDataset } from '../data/load.js';
import type { DatasetJson } from '../report/results.js';

/**
 * The query texts of a run's dataset by query id (results.json's `dataset`), when the dataset is
 * still on this machine where the run read it; null otherwise (a Hub dataset is not fetched for
 * it, and a dataset that no longer reads is no error here).
 */
export async function queryTextsOf(dataset: Pick<DatasetJson, 'source' | 'split'> | undefined): Promise<Map<string, string> | null> {
  if (!dataset?.source || !existsSync(dataset.source)) return null;
  try {
    const ds = await loadDataset(dataset.source, { split: dataset.split ?? undefined });
    return new Map(ds.queries.ids.map((id, i) => [id, ds.queries.texts[i]]));
  } catch {
    return null;
  }
}
