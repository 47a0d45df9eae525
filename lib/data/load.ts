// One entry point for every dataset format: a BEIR folder or a pairs file.
import { existsSync, statSync } from 'node:fs';
import { UserError } from '../errors.js';
import { beirDataset, loadBeir, type Row, tsvQrelsRows } from './beir.js';
import type { Dataset } from './dataset.js';
import { detectPairsFormat, loadPairs, readPairRows, ZENML_FIELDS, type PairsFields, type PairsFormat } from './pairs.js';
import { type BeirLayout, beirSplit, datasetSplit, type HubOptions, parseRepoRef } from '../hub/hub.js';

export interface LoadOptions {
  /** Hub datasets: where they come from and are cached (default: the environment). */
  hub?: HubOptions;
  format?: 'beir' | PairsFormat;
  split?: string;
  fields?: Partial<PairsFields>;
  corpus?: string;
}

/**
 * A dataset from a BEIR folder, a pairs file, or a Hub dataset (hf://datasets/org/name[@revision],
 * the split's files downloaded into the shared Hugging Face cache).
 * @throws UserError on missing or malformed data, or a Hub failure.
 */
export async function loadDataset(path: string, options: LoadOptions = {}): Promise<Dataset> {
  const hub = existsSync(path) ? null : parseRepoRef(path);
  if (hub?.type === 'dataset') {
    const split = options.split ?? 'test';
    const found = await beirSplit(hub, split, options.hub);
    if (found.beir) return hubBeir(hub.id, split, found.beir);
    const { files, commit, ref } = await datasetSplit(hub, split, options.hub, found.info ?? undefined);
    const fields = { ...ZENML_FIELDS, ...Object.fromEntries(Object.entries(options.fields ?? {}).filter(([, v]) => v !== undefined)) };
    const ds = await loadPairs(files, { fields, corpus: options.corpus, name: hub.id, source: `hf://datasets/${hub.id}@${commit}` });
    return {
      ...ds,
      split,
      warnings: ref.revision !== hub.revision ? [`${hub.id}: split "${split}" read from the Hub's Parquet conversion (${ref.revision})`] : [],
    };
  }
  if (!existsSync(path)) throw new UserError(`${path}: dataset not found (neither a file or folder here nor hf://datasets/org/name)`, 'ERR_NOT_FOUND');
  const format = options.format ?? (statSync(path).isDirectory() ? 'beir' : undefined);
  if (format === 'beir') return loadBeir(path, options.split ?? 'test');
  return loadPairs(path, {
    format,
    fields: { ...ZENML_FIELDS, ...Object.fromEntries(Object.entries(options.fields ?? {}).filter(([, v]) => v !== undefined)) },
    corpus: options.corpus,
  });
}

/** NanoBEIR's repos (sentence-transformers/NanoBEIR-en and its variants, zeta-alpha-ai/Nano<Name>). */
export const isNanoBeirRepo = (id: string) => /^Nano/i.test(id.split('/').pop() ?? '');

/**
 * A BEIR-shaped Hub dataset (MTEB's or NanoBEIR's layout) from its downloaded files. NanoBEIR's
 * are read as sentence-transformers' NanoBEIREvaluator reads them: a document's text without its
 * title, empty texts left out, the dataset named after its split (NanoBEIR-en's NanoSciFact) or
 * its repo (zeta-alpha-ai/NanoSciFact, whose split is train).
 */
async function hubBeir(id: string, split: string, files: BeirLayout & { commit: string }): Promise<Dataset> {
  const rowsOf = async (paths: string[]): Promise<Row[]> =>
    (await Promise.all(paths.map((f) => (f.endsWith('.tsv') ? tsvQrelsRows(f) : readPairRows(f, detectPairsFormat(f)))))).flat();
  const nano = isNanoBeirRepo(id);
  return beirDataset(
    { corpus: await rowsOf(files.corpus), queries: await rowsOf(files.queries), qrels: await rowsOf(files.qrels) },
    {
      name: nano ? (/^Nano/i.test(split) ? split : (id.split('/').pop() ?? id)) : id,
      source: `hf://datasets/${id}@${files.commit}`,
      split,
      corpus: files.corpus[0],
      queries: files.queries[0],
      qrels: files.qrels[0],
    },
    nano ? { titles: false, dropEmpty: true } : undefined,
  );
}
