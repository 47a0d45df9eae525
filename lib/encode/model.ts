// Reading a sentence-transformers model folder (or a bare .onnx file with its configs beside it
// or one folder up): what the files say, never assumed values.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { invalidParameter, UserError } from '../errors.js';
import { externalDataLocations } from '../onnx/external.js';
import { safetensorsFiles } from '../onnx/safetensors.js';
import { type ModelCard, readModelCard } from './card.js';

export const POOLING_MODES = ['cls', 'max', 'mean', 'mean_sqrt_len_tokens', 'weightedmean', 'lasttoken'] as const;
export type PoolingMode = (typeof POOLING_MODES)[number];

export interface ModelSpec {
  /** The path the user gave. */
  path: string;
  name: string;
  /** 'onnx': an exported graph; 'safetensors': weights + config.json, the graph built in process. */
  format: 'onnx' | 'safetensors';
  /** The ONNX file, or for safetensors the first weights file (what errors name). */
  modelFile: string;
  /** safetensors: the weights files and config.json. */
  weights?: { files: string[]; config: string };
  /** A model from the Hugging Face Hub: its id, the revision asked for, and the commit it resolved to. */
  hub?: { id: string; revision: string; commit: string };
  /** What the model card (README.md) says about its training, when there is one. */
  card?: ModelCard;
  tokenizerPath: string;
  maxSeqLength: number;
  /** Pooling modes, concatenated in this order when several are set (as sentence-transformers does). */
  pooling: PoolingMode[];
  includePrompt: boolean;
  normalize: boolean;
  prompts: { query: string; document: string };
  /** sha256 over the files that decide the embeddings. */
  sha256: string;
  files: string[];
}

function readJson(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'ERR_MODEL_CONFIG');
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message.split('\n')[0]})`, 'ERR_MODEL_CONFIG');
  }
}

const POOLING_KEYS: Record<string, PoolingMode> = {
  pooling_mode_cls_token: 'cls',
  pooling_mode_max_tokens: 'max',
  pooling_mode_mean_tokens: 'mean',
  pooling_mode_mean_sqrt_len_tokens: 'mean_sqrt_len_tokens',
  pooling_mode_weightedmean_tokens: 'weightedmean',
  pooling_mode_lasttoken: 'lasttoken',
};

export function parsePoolingConfig(config: Record<string, unknown>, where: string): { modes: PoolingMode[]; includePrompt: boolean } {
  const modes: PoolingMode[] = [];
  if (typeof config.pooling_mode === 'string') {
    const mode = config.pooling_mode === 'mean_sqrt_len' ? 'mean_sqrt_len_tokens' : config.pooling_mode;
    if (!POOLING_MODES.includes(mode as PoolingMode))
      throw new UserError(`${where}: unknown pooling mode "${config.pooling_mode}" (expected one of ${POOLING_MODES.join(', ')})`, 'ERR_POOLING');
    modes.push(mode as PoolingMode);
  } else {
    for (const [key, mode] of Object.entries(POOLING_KEYS)) if (config[key] === true) modes.push(mode);
    const unknown = Object.keys(config).filter((k) => k.startsWith('pooling_mode_') && !(k in POOLING_KEYS) && config[k] === true);
    if (unknown.length)
      throw new UserError(`${where}: unknown pooling mode "${unknown[0]}" (expected one of ${Object.keys(POOLING_KEYS).join(', ')})`, 'ERR_POOLING');
  }
  if (modes.length === 0) throw new UserError(`${where}: no pooling mode is set`, 'ERR_POOLING');
  return { modes, includePrompt: config.include_prompt !== false };
}

function readModules(path: string): Array<{ type?: string; path?: string }> {
  const modules = readJson(path) as unknown;
  if (!Array.isArray(modules) || modules.some((m) => typeof m !== 'object' || m === null))
    throw new UserError(`${path}: expected a JSON array of modules ({"type": ..., "path": ...})`, 'ERR_MODEL_CONFIG');
  return modules as Array<{ type?: string; path?: string }>;
}

export interface ModelOverrides {
  /** Told about what the run goes on despite (a malformed model card). */
  onWarning?: (message: string) => void;
  queryPrompt?: string;
  documentPrompt?: string;
  noPrompts?: boolean;
  pooling?: PoolingMode;
  maxSeqLength?: number;
}

/**
 * The external-data files the graph at `modelFile` names (resolved beside it): the weights of a
 * model exported with external data, which decide its embeddings as much as the graph does.
 * A file that is not a well-formed protobuf names none (onnxruntime then says what is wrong).
 */
function externalDataFiles(modelFile: string): string[] {
  let locations: string[];
  try {
    locations = externalDataLocations(readFileSync(modelFile));
  } catch {
    return [];
  }
  const dir = dirname(modelFile);
  return locations.map((location) => {
    const file = resolve(dir, location);
    if (!existsSync(file) || !statSync(file).isFile())
      throw new UserError(`${modelFile}: the graph's external data file "${location}" is not there (looked for ${file})`, 'ERR_NOT_MODEL');
    return file;
  });
}

/** Feeds a file to `hash` in chunks (external data and safetensors files may exceed 2 GiB). */
function hashFile(hash: ReturnType<typeof createHash>, path: string): void {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(16 << 20);
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

export function readModel(path: string, overrides: ModelOverrides = {}): ModelSpec {
  const given = resolve(path);
  if (!existsSync(given))
    throw new UserError(`${path}: model not found (neither a file or folder here nor a Hub id org/name[@revision])`, 'ERR_NOT_FOUND', 'model');
  let modelFile: string;
  let searchDirs: string[];
  let weights: ModelSpec['weights'];
  if (statSync(given).isDirectory()) {
    const candidates = [join(given, 'onnx', 'model.onnx'), join(given, 'model.onnx')];
    const found = candidates.find((c) => existsSync(c));
    if (found && !statSync(found).isFile()) throw new UserError(`${found}: expected an ONNX file, found a folder`, 'ERR_NOT_MODEL');
    const safetensors = found ? null : safetensorsFiles(given);
    if (!found && !(safetensors && existsSync(join(given, 'config.json'))))
      throw new UserError(
        `${path}: not a model folder (looked for ${candidates.join(' and ')}), nor a safetensors checkpoint (model.safetensors with config.json)`,
        'ERR_NOT_MODEL',
      );
    if (safetensors) weights = { files: safetensors, config: join(given, 'config.json') };
    modelFile = found ?? safetensors![0];
    searchDirs = [given];
  } else {
    if (!given.endsWith('.onnx')) throw new UserError(`${path}: expected a model folder or an .onnx file`, 'ERR_NOT_MODEL');
    modelFile = given;
    searchDirs = [dirname(given), dirname(dirname(given))];
  }
  const find = (file: string) => searchDirs.map((d) => join(d, file)).find((p) => existsSync(p));
  const tokenizerPath = find('tokenizer.json');
  if (!tokenizerPath) throw new UserError(`${path}: tokenizer.json not found (looked in ${searchDirs.join(' and ')})`, 'ERR_TOKENIZER');

  const modulesPath = find('modules.json');
  const modules = modulesPath ? readModules(modulesPath) : [];
  const root = modulesPath ? dirname(modulesPath) : searchDirs[0];
  const poolingModule = modules.find((m) => m.type?.endsWith('.Pooling'));
  const poolingPath = poolingModule ? join(root, poolingModule.path ?? '1_Pooling', 'config.json') : find(join('1_Pooling', 'config.json'));
  let pooling: PoolingMode[];
  let includePrompt = true;
  if (overrides.pooling) pooling = [overrides.pooling];
  else if (poolingPath && existsSync(poolingPath)) {
    const parsed = parsePoolingConfig(readJson(poolingPath), poolingPath);
    pooling = parsed.modes;
    includePrompt = parsed.includePrompt;
  } else pooling = []; // only valid if the graph outputs sentence_embedding; checked by the encoder

  const sbertPath = find('sentence_bert_config.json');
  const tokConfigPath = find('tokenizer_config.json');
  if (overrides.maxSeqLength !== undefined && (!Number.isInteger(overrides.maxSeqLength) || overrides.maxSeqLength < 1))
    throw invalidParameter('maxSeqLength', 'a positive integer', overrides.maxSeqLength);
  let maxSeqLength = overrides.maxSeqLength ?? 0;
  if (!maxSeqLength && sbertPath) {
    const v = readJson(sbertPath).max_seq_length;
    if (v !== undefined && v !== null) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
        throw new UserError(`${sbertPath}: max_seq_length must be a positive integer, got ${JSON.stringify(v)}`, 'ERR_MODEL_CONFIG');
      maxSeqLength = v;
    }
  }
  if (!maxSeqLength && tokConfigPath) {
    const v = Number(readJson(tokConfigPath).model_max_length);
    if (Number.isFinite(v) && v > 0 && v < 1e6) maxSeqLength = v;
  }
  if (!maxSeqLength) maxSeqLength = 512; // sentence-transformers' fallback for BERT-like models

  const stConfigPath = find('config_sentence_transformers.json');
  const prompts = { query: '', document: '' };
  if (stConfigPath && !overrides.noPrompts) {
    const p = readJson(stConfigPath).prompts ?? {};
    if (typeof p !== 'object' || Array.isArray(p)) throw new UserError(`${stConfigPath}: prompts must be an object of strings`, 'ERR_MODEL_CONFIG');
    for (const [name, text] of Object.entries(p))
      if (typeof text !== 'string') throw new UserError(`${stConfigPath}: prompt "${name}" must be a string, got ${JSON.stringify(text)}`, 'ERR_MODEL_CONFIG');
    const texts = p as Record<string, string>;
    prompts.query = texts.query ?? '';
    prompts.document = texts.document ?? texts.passage ?? texts.corpus ?? '';
  }
  if (overrides.queryPrompt !== undefined) prompts.query = overrides.queryPrompt;
  if (overrides.documentPrompt !== undefined) prompts.document = overrides.documentPrompt;
  if (overrides.noPrompts) {
    prompts.query = '';
    prompts.document = '';
  }

  const normalize = modules.some((m) => m.type?.endsWith('.Normalize'));
  const files = [
    ...(weights ? [...weights.files, weights.config] : [modelFile, ...externalDataFiles(modelFile)]),
    tokenizerPath,
    modulesPath,
    poolingPath,
    sbertPath,
    tokConfigPath,
    stConfigPath,
  ].filter((f): f is string => typeof f === 'string' && existsSync(f));
  const hash = createHash('sha256');
  for (const f of files) hashFile(hash.update(basename(f)), f);
  // A folder's name; for model/onnx/model.onnx the folder above onnx/; else the file's stem.
  const name = statSync(given).isDirectory()
    ? basename(given)
    : basename(dirname(given)) === 'onnx'
      ? basename(dirname(dirname(given)))
      : basename(given, '.onnx');
  const cardPath = find('README.md');
  return {
    path,
    name,
    card: cardPath ? readModelCard(dirname(cardPath), overrides.onWarning) : undefined,
    format: weights ? 'safetensors' : 'onnx',
    modelFile,
    weights,
    tokenizerPath,
    maxSeqLength,
    pooling,
    includePrompt,
    normalize,
    prompts,
    sha256: hash.digest('hex'),
    files,
  };
}
