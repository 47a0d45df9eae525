// Turning flag strings into typed values; every bad value is a UserError naming the flag.
import { availableParallelism } from 'node:os';
import { UserError } from '../lib/errors.js';
import { DEFAULT_K_LISTS, type KLists } from '../lib/metrics/index.js';
import { warn } from './context.js';

export function parseIntList(text: string, flag: string): number[] {
  if (text.trim() === '') throw new UserError(`${flag}: expected a comma-separated list of positive integers, e.g. 768,512,256`, 'ERR_OPTION');
  const values = text.split(',').map((s) => {
    const p = s.trim();
    if (!/^\d+$/.test(p) || Number(p) < 1 || !Number.isSafeInteger(Number(p)))
      throw new UserError(`${flag}: "${p}" is not a positive integer (expected e.g. 768,512,256)`, 'ERR_OPTION');
    return Number(p);
  });
  const dup = values.find((v, i) => values.indexOf(v) !== i);
  if (dup !== undefined) throw new UserError(`${flag}: ${dup} is listed twice`, 'ERR_OPTION');
  return values;
}

export function parsePositiveInt(text: string, flag: string): number {
  const p = text.trim();
  if (!/^\d+$/.test(p) || Number(p) < 1 || !Number.isSafeInteger(Number(p))) throw new UserError(`${flag}: "${text}" is not a positive integer`, 'ERR_OPTION');
  return Number(p);
}

/** A seed: an integer in [0, 2^32). */
export function parseSeed(text: string): number {
  const p = text.trim();
  if (!/^\d+$/.test(p) || Number(p) >= 2 ** 32) throw new UserError(`--seed: "${text}" is not an integer in [0, 4294967295]`, 'ERR_OPTION');
  return Number(p);
}

/** --threads: a positive integer; above the core count it is capped (and said so). */
export function parseThreads(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = parsePositiveInt(text, '--threads');
  const cores = availableParallelism();
  if (n > cores) warn(`--threads ${n} is more than the ${cores} cores here; using ${cores}`);
  return Math.min(n, cores);
}

export interface KListFlags {
  accuracyAt?: string;
  precisionRecallAt?: string;
  mrrAt?: string;
  ndcgAt?: string;
  mapAt?: string;
}

export function parseKLists(o: KListFlags): KLists {
  return {
    accuracy: o.accuracyAt !== undefined ? parseIntList(o.accuracyAt, '--accuracy-at') : DEFAULT_K_LISTS.accuracy,
    precisionRecall: o.precisionRecallAt !== undefined ? parseIntList(o.precisionRecallAt, '--precision-recall-at') : DEFAULT_K_LISTS.precisionRecall,
    mrr: o.mrrAt !== undefined ? parseIntList(o.mrrAt, '--mrr-at') : DEFAULT_K_LISTS.mrr,
    ndcg: o.ndcgAt !== undefined ? parseIntList(o.ndcgAt, '--ndcg-at') : DEFAULT_K_LISTS.ndcg,
    map: o.mapAt !== undefined ? parseIntList(o.mapAt, '--map-at') : DEFAULT_K_LISTS.map,
  };
}
