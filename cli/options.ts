// Turning flag strings into typed values; every bad value is a UserError naming the flag.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { DEFAULT_K_LISTS, type KLists, TREC_K_LISTS, UserError } from '../lib/index.js';
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

/** A whole number (0 included). */
export function parseCount(text: string, flag: string): number {
  const p = text.trim();
  if (!/^\d+$/.test(p) || !Number.isSafeInteger(Number(p))) throw new UserError(`${flag}: "${text}" is not a whole number (0, 1, 2, ...)`, 'ERR_OPTION');
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

export function parsePort(text: string): number {
  const p = text.trim();
  if (!/^\d+$/.test(p) || Number(p) > 65535) throw new UserError(`--port: "${text}" is not a port number (0-65535)`, 'ERR_OPTION');
  return Number(p);
}

/** --set key=value pairs (dotted keys nest, values are JSON when they parse) or --file meta.json, as one object. */
export function parseMetadata(pairs: string[] | undefined, file: string | undefined): Record<string, unknown> {
  if (Boolean(pairs?.length) === Boolean(file)) throw new UserError('log-metadata: give either --set key=value ... or --file meta.json', 'ERR_OPTION');
  if (file) {
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UserError(`--file ${file}: not a readable JSON file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message.split('\n')[0]})`, 'ERR_JSON');
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UserError(`--file ${file}: expected a JSON object`, 'ERR_JSON');
    return value as Record<string, unknown>;
  }
  const out: Record<string, unknown> = {};
  for (const pair of pairs!) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UserError(`--set: "${pair}" is not key=value`, 'ERR_OPTION');
    const path = pair.slice(0, eq).split('.');
    if (path.some((k) => k === '' || k === '__proto__' || k === 'constructor' || k === 'prototype'))
      throw new UserError(`--set: "${pair.slice(0, eq)}" is not a usable key`, 'ERR_OPTION');
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      /* a plain string */
    }
    let at = out;
    for (const k of path.slice(0, -1)) {
      at[k] ??= {};
      if (typeof at[k] !== 'object' || at[k] === null || Array.isArray(at[k]))
        throw new UserError(`--set: "${pair.slice(0, eq)}" nests under "${k}", which was set to a value`, 'ERR_OPTION');
      at = at[k] as Record<string, unknown>;
    }
    at[path[path.length - 1]] = value;
  }
  return out;
}

export interface KListFlags {
  conventions?: string;
  ignoreIdenticalIds?: boolean;
  accuracyAt?: string;
  precisionRecallAt?: string;
  mrrAt?: string;
  ndcgAt?: string;
  mapAt?: string;
}

/** The k lists of the command line: its conventions' defaults, each list replaceable. */
export function parseKLists(o: KListFlags): KLists {
  const trec = o.conventions === 'trec';
  if (o.ignoreIdenticalIds && !trec)
    throw new UserError("--ignore-identical-ids: only with --conventions trec (sentence-transformers' evaluator keeps such documents)", 'ERR_OPTION');
  const d = trec ? TREC_K_LISTS : DEFAULT_K_LISTS;
  return {
    accuracy: o.accuracyAt !== undefined ? parseIntList(o.accuracyAt, '--accuracy-at') : d.accuracy,
    precisionRecall: o.precisionRecallAt !== undefined ? parseIntList(o.precisionRecallAt, '--precision-recall-at') : d.precisionRecall,
    mrr: o.mrrAt !== undefined ? parseIntList(o.mrrAt, '--mrr-at') : d.mrr,
    ndcg: o.ndcgAt !== undefined ? parseIntList(o.ndcgAt, '--ndcg-at') : d.ndcg,
    map: o.mapAt !== undefined ? parseIntList(o.mapAt, '--map-at') : d.map,
    ...(trec ? { conventions: 'trec' as const, ...(o.ignoreIdenticalIds !== undefined ? { ignoreIdenticalIds: o.ignoreIdenticalIds } : {}) } : {}),
  };
}

/** A comma-separated list of names: none empty, none twice. */
export function parseList(text: string, flag: string): string[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UserError(`${flag}: expected a comma-separated list without empty entries, got "${text}"`, 'ERR_OPTION');
  const dup = items.find((v, i) => items.indexOf(v) !== i);
  if (dup !== undefined) throw new UserError(`${flag}: ${dup} is listed twice`, 'ERR_OPTION');
  return items;
}
