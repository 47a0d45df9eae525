// Turning flag strings into typed values; every bad value is a UserError naming the flag.
import { UserError } from '../lib/errors.js';
import { DEFAULT_K_LISTS, type KLists } from '../lib/metrics/index.js';

export function parseIntList(text: string, flag: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const values = parts.map((p) => {
    if (!/^\d+$/.test(p) || Number(p) < 1) throw new UserError(`${flag}: "${p}" is not a positive integer (expected e.g. 768,512,256)`, 'ERR_OPTION');
    return Number(p);
  });
  const dup = values.find((v, i) => values.indexOf(v) !== i);
  if (dup !== undefined) throw new UserError(`${flag}: ${dup} is listed twice`, 'ERR_OPTION');
  return values;
}

export function parsePositiveInt(text: string, flag: string): number {
  return parseIntList(text, flag)[0];
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
    accuracy: o.accuracyAt ? parseIntList(o.accuracyAt, '--accuracy-at') : DEFAULT_K_LISTS.accuracy,
    precisionRecall: o.precisionRecallAt ? parseIntList(o.precisionRecallAt, '--precision-recall-at') : DEFAULT_K_LISTS.precisionRecall,
    mrr: o.mrrAt ? parseIntList(o.mrrAt, '--mrr-at') : DEFAULT_K_LISTS.mrr,
    ndcg: o.ndcgAt ? parseIntList(o.ndcgAt, '--ndcg-at') : DEFAULT_K_LISTS.ndcg,
    map: o.mapAt ? parseIntList(o.mapAt, '--map-at') : DEFAULT_K_LISTS.map,
  };
}
