// Models and datasets on the Hugging Face Hub, kept in the cache Python's huggingface_hub uses,
// so the two share it both ways: <cache>/models--org--name/{blobs,refs,snapshots/<commit>/...},
// snapshot files as relative symlinks into blobs/ (copies where links fail), refs/<revision>
// holding the commit. The cache root and repo folder names come from @huggingface/hub; what
// it leaves out is here: HF_ENDPOINT, HF_TOKEN / $HF_HOME/token, HF_HUB_OFFLINE, refs/ files,
// resumable `.incomplete` downloads, checksums, progress, and one-line errors.
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { getHFHubCachePath, getRepoFolderName } from '@huggingface/hub';
import { checkAborted, UserError } from '../errors.js';
import type { ProgressListener } from '../progress.js';

export type RepoType = 'model' | 'dataset';

export interface RepoRef {
  type: RepoType;
  /** org/name */
  id: string;
  /** Branch, tag or commit (default main). */
  revision: string;
}

const REPO = '[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*';
const COMMIT = /^[0-9a-f]{40}$/;

/** A path inside a repo or the cache (a file name, a revision): no empty, `.` or `..` segment, no control character. */
export function unsafePathPart(path: string): boolean {
  return path.split('/').some((p) => p === '' || p === '.' || p === '..') || /[\x00-\x1f\x7f\\]/.test(path);
}

/**
 * `org/name[@rev]`, `hf://org/name[@rev]` or `hf://datasets/org/name[@rev]`; null for anything else.
 * @throws UserError for a revision that would name a path outside the cache (`..`, a leading `/`, empty segments).
 */
export function parseRepoRef(text: string): RepoRef | null {
  const m = new RegExp(`^(hf://)?(datasets/)?(${REPO})(?:@([A-Za-z0-9_./-]+))?$`).exec(text);
  if (!m || (m[2] && !m[1])) return null;
  if (m[4] !== undefined && unsafePathPart(m[4]))
    throw new UserError(`${text}: revision "${m[4]}" is not a branch, tag or commit (no "..", "." or empty segments)`, 'ERR_OPTION');
  return { type: m[2] ? 'dataset' : 'model', id: m[3], revision: m[4] ?? 'main' };
}

export const formatRef = (r: RepoRef) => `${r.type === 'dataset' ? 'hf://datasets/' : ''}${r.id}@${r.revision}`;

export interface HubOptions {
  /** Default: $HF_ENDPOINT or https://huggingface.co */
  endpoint?: string;
  /** Default: $HF_TOKEN, else the file $HF_HOME/token */
  token?: string | null;
  /** Default: $HF_HUB_CACHE, $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub */
  cacheDir?: string;
  /** Default: HF_HUB_OFFLINE=1 */
  offline?: boolean;
  onProgress?: ProgressListener;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /** Seconds a request may wait for an answer, or between two parts of one (default 60). */
  timeoutSeconds?: number;
}

/** Largest metadata answer read (the revision API): a real one is a few hundred KB. */
export const MAX_METADATA_BYTES = 16 << 20;

const truthy = (v: string | undefined) => v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());

function settings(o: HubOptions) {
  const hfHome = process.env.HF_HOME || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
  let token = o.token === undefined ? process.env.HF_TOKEN || null : o.token; // an empty variable is unset
  if (token === null && o.token === undefined) {
    try {
      token = readFileSync(join(hfHome, 'token'), 'utf8').trim() || null;
    } catch {
      token = null;
    }
  }
  return {
    endpoint: (o.endpoint ?? (process.env.HF_ENDPOINT || 'https://huggingface.co')).replace(/\/+$/, ''),
    token,
    cacheDir: o.cacheDir ?? (process.env.HF_HUB_CACHE || getHFHubCachePath()),
    offline: o.offline ?? truthy(process.env.HF_HUB_OFFLINE),
    signal: o.signal,
    timeoutMs: (o.timeoutSeconds ?? 60) * 1000,
  };
}

type Settings = ReturnType<typeof settings>;

const repoFolder = (s: Settings, r: RepoRef) => join(s.cacheDir, getRepoFolderName({ type: r.type, name: r.id }));

/** `path` when it lies inside the cache root, else a UserError: the client writes nowhere else. */
function inCache(s: Settings, r: RepoRef, path: string): string {
  const root = resolve(s.cacheDir);
  if (!resolve(path).startsWith(root + sep)) throw new UserError(`${formatRef(r)}: refusing to write ${path}, outside the cache ${root}`, 'ERR_NETWORK');
  return path;
}
const urlPrefix = (s: Settings, r: RepoRef) => `${s.endpoint}${r.type === 'dataset' ? '/datasets' : ''}/${r.id}`;

/** The commit a revision points to in the cache (refs/<revision>, or the revision itself when it is a cached commit). */
function cachedCommit(s: Settings, r: RepoRef): string | null {
  const folder = repoFolder(s, r);
  if (COMMIT.test(r.revision) && existsSync(join(folder, 'snapshots', r.revision))) return r.revision;
  try {
    const commit = readFileSync(join(folder, 'refs', r.revision), 'utf8').trim();
    return COMMIT.test(commit) && existsSync(join(folder, 'snapshots', commit)) ? commit : null;
  } catch {
    return null;
  }
}

/** An answer whose body is read with the request's idle timeout and the run's signal. */
interface Answer {
  res: Response;
  /** The body's chunks (each resets the idle timeout). */
  chunks(): AsyncGenerator<Uint8Array>;
  /** Drops the body unread. */
  close(): void;
}

/**
 * One request: the run's signal aborts it, and an endpoint that answers nothing for
 * s.timeoutMs (before the headers, or between two chunks of the body) fails it.
 */
async function request(s: Settings, r: RepoRef, url: string, init: RequestInit = {}, what = 'the Hub'): Promise<Answer> {
  const headers = new Headers(init.headers);
  if (s.token) headers.set('authorization', `Bearer ${s.token}`);
  headers.set('user-agent', 'emb-bench');
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, s.timeoutMs);
  };
  const onAbort = () => controller.abort();
  s.signal?.addEventListener('abort', onAbort, { once: true });
  const cleanup = () => {
    clearTimeout(timer);
    s.signal?.removeEventListener('abort', onAbort);
  };
  const failed = (e: unknown): never => {
    cleanup();
    checkAborted(s.signal);
    if (e instanceof UserError) throw e;
    if (timedOut)
      throw new UserError(
        `${formatRef(r)}: ${s.endpoint} sent nothing for ${s.timeoutMs / 1000} s (${what}); run again, or set HF_HUB_OFFLINE=1 to use the cache only`,
        'ERR_NETWORK',
      );
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new UserError(
      `${formatRef(r)}: cannot reach ${s.endpoint} (${cause?.code ?? cause?.message ?? (e as Error).message}); set HF_ENDPOINT, or HF_HUB_OFFLINE=1 to use the cache only`,
      'ERR_NETWORK',
    );
  };
  checkAborted(s.signal);
  arm();
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers, signal: controller.signal });
  } catch (e) {
    return failed(e);
  }
  const answer: Answer = {
    res,
    async *chunks() {
      try {
        if (!res.body) return;
        arm();
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          arm();
          yield chunk;
        }
      } catch (e) {
        cleanup();
        checkAborted(s.signal);
        if (timedOut) failed(e);
        throw e; // the body broke off: the caller says what it was reading
      } finally {
        cleanup();
      }
    },
    close() {
      cleanup();
      res.body?.cancel().catch(() => undefined);
    },
  };
  if (res.ok || res.status === 206) return answer;
  const code = res.headers.get('x-error-code') ?? '';
  answer.close();
  if (res.status === 401)
    throw new UserError(
      `${formatRef(r)}: ${what} needs a token (a gated or private repo): set HF_TOKEN, or log in so that $HF_HOME/token exists`,
      'ERR_HUB_AUTH',
    );
  if (res.status === 403)
    throw new UserError(
      `${formatRef(r)}: the token in ${process.env.HF_TOKEN ? 'HF_TOKEN' : '$HF_HOME/token'} has no access to this repo (accept its terms on the Hub, or use another token)`,
      'ERR_HUB_AUTH',
    );
  if (res.status === 404) {
    if (code === 'RevisionNotFound') throw new UserError(`${formatRef(r)}: revision "${r.revision}" not found on ${s.endpoint}`, 'ERR_NOT_FOUND');
    if (code === 'EntryNotFound') throw new UserError(`${formatRef(r)}: ${what} not found in the repo`, 'ERR_NOT_FOUND');
    throw new UserError(`${formatRef(r)}: repo not found on ${s.endpoint} (or it is private: set HF_TOKEN)`, 'ERR_NOT_FOUND');
  }
  throw new UserError(`${formatRef(r)}: ${s.endpoint} answered ${res.status} ${res.statusText} for ${what}`, 'ERR_NETWORK');
}

/** A metadata answer's JSON, read up to MAX_METADATA_BYTES; null when it is not JSON. */
async function readJson(s: Settings, r: RepoRef, answer: Answer, what: string): Promise<unknown> {
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of answer.chunks()) {
      size += chunk.length;
      if (size > MAX_METADATA_BYTES) {
        answer.close();
        throw new UserError(`${formatRef(r)}: ${s.endpoint} sent more than ${MAX_METADATA_BYTES >> 20} MB for ${what}; not the Hub's metadata`, 'ERR_NETWORK');
      }
      parts.push(chunk);
    }
  } catch (e) {
    if (e instanceof UserError || (e as Error).name === 'InterruptedError') throw e;
    throw new UserError(`${formatRef(r)}: ${s.endpoint}'s answer for ${what} broke off (${(e as Error).message})`, 'ERR_NETWORK');
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch {
    return null;
  }
}

/** The revision's commit and file list, from the Hub's API. */
async function repoInfo(s: Settings, r: RepoRef): Promise<{ commit: string; files: string[] }> {
  const url = `${s.endpoint}/api/${r.type}s/${r.id}/revision/${encodeURIComponent(r.revision)}`;
  const body = ((await readJson(s, r, await request(s, r, url, {}, 'the revision API'), 'the revision API')) ?? {}) as {
    sha?: unknown;
    siblings?: Array<{ rfilename?: unknown }>;
  };
  if (typeof body.sha !== 'string' || !COMMIT.test(body.sha) || !Array.isArray(body.siblings) || !body.siblings.every((f) => typeof f?.rfilename === 'string'))
    throw new UserError(`${formatRef(r)}: ${s.endpoint} gave no commit and file list`, 'ERR_NETWORK');
  return { commit: body.sha, files: body.siblings.map((f) => f.rfilename as string) };
}

function link(blob: string, pointer: string): void {
  mkdirSync(dirname(pointer), { recursive: true });
  rmSync(pointer, { force: true });
  try {
    symlinkSync(relative(dirname(pointer), blob), pointer);
  } catch {
    copyFileSync(blob, pointer);
  }
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** An ETag that names a blob file: no dot first (not `.` or `..`), nothing but letters, digits, `.`, `_`, `-`. */
const ETAG = /^[0-9A-Za-z_-][0-9A-Za-z._-]{0,127}$/;

/**
 * Downloads one file of the snapshot into blobs/ (resuming a `.incomplete` one) and links it.
 * The body must be the announced size, unencoded: a server that sends more is cut off there and
 * its bytes removed.
 */
async function downloadFile(s: Settings, r: RepoRef, commit: string, path: string, o: HubOptions): Promise<void> {
  if (unsafePathPart(path)) throw new UserError(`${formatRef(r)}: the repo lists an unsafe file name "${path}"`, 'ERR_NETWORK');
  const folder = repoFolder(s, r);
  const pointer = inCache(s, r, join(folder, 'snapshots', commit, path));
  if (existsSync(pointer)) return;
  const url = `${urlPrefix(s, r)}/resolve/${commit}/${path.split('/').map(encodeURIComponent).join('/')}`;
  const head = await request(s, r, url, { method: 'HEAD' }, path);
  head.close();
  const etag = (head.res.headers.get('x-linked-etag') ?? head.res.headers.get('etag') ?? '').replace(/^W\//, '').replace(/"/g, '');
  if (!ETAG.test(etag)) throw new UserError(`${formatRef(r)}: ${s.endpoint} gave no usable ETag for ${path} (${JSON.stringify(etag)})`, 'ERR_NETWORK');
  const size = Number(head.res.headers.get('x-linked-size') ?? head.res.headers.get('content-length') ?? Number.NaN);
  if (!Number.isSafeInteger(size) || size < 0) throw new UserError(`${formatRef(r)}: ${s.endpoint} gave no size for ${path}`, 'ERR_NETWORK');
  const blob = inCache(s, r, join(folder, 'blobs', etag));
  if (!existsSync(blob)) {
    mkdirSync(dirname(blob), { recursive: true });
    const incomplete = `${blob}.incomplete`;
    let have = existsSync(incomplete) ? statSync(incomplete).size : 0;
    if (have > size) {
      rmSync(incomplete, { force: true }); // longer than the file: not a prefix of it
      have = 0;
    }
    if (have < size || size === 0) {
      const headers: Record<string, string> = { 'accept-encoding': 'identity', ...(have > 0 ? { range: `bytes=${have}-` } : {}) };
      const answer = await request(s, r, url, { headers }, path);
      const encoding = answer.res.headers.get('content-encoding');
      if (encoding && encoding.toLowerCase() !== 'identity') {
        answer.close();
        throw new UserError(
          `${formatRef(r)}: ${s.endpoint} sent ${path} with content-encoding ${encoding}; a file download must be its bytes as they are`,
          'ERR_NETWORK',
        );
      }
      const resumed = answer.res.status === 206;
      const fd = openSync(incomplete, resumed ? 'a' : 'w');
      let done = resumed ? have : 0;
      let tooLong = false;
      const label = `downloading ${r.id}/${path}`;
      try {
        for await (const chunk of answer.chunks()) {
          checkAborted(o.signal);
          if (done + chunk.length > size) {
            tooLong = true;
            answer.close();
            break;
          }
          writeSync(fd, chunk);
          done += chunk.length;
          o.onProgress?.({ label, done, total: size, unit: 'bytes' });
        }
      } catch (e) {
        if (e instanceof UserError || (e as Error).name === 'InterruptedError') throw e;
        throw new UserError(
          `${formatRef(r)}: the download of ${path} broke off at ${done} bytes (${(e as Error).message}); run again to resume`,
          'ERR_NETWORK',
        );
      } finally {
        closeSync(fd);
      }
      if (tooLong) {
        rmSync(incomplete, { force: true });
        throw new UserError(`${formatRef(r)}: ${s.endpoint} sent more than the ${size} bytes it announced for ${path}; removed what it sent`, 'ERR_NETWORK');
      }
      if (done !== size) throw new UserError(`${formatRef(r)}: ${path} ended at ${done} of ${size} bytes; run again to resume`, 'ERR_NETWORK');
    }
    if (/^[0-9a-f]{64}$/.test(etag) && (await sha256File(incomplete)) !== etag) {
      rmSync(incomplete, { force: true });
      throw new UserError(`${formatRef(r)}: ${path} does not match its sha256 ${etag}; removed, run again`, 'ERR_NETWORK');
    }
    renameSync(incomplete, blob);
  }
  link(blob, pointer);
}

/** Records that `r.revision` is `commit` (refs/<revision>), inside the cache only. */
function writeRef(s: Settings, r: RepoRef, commit: string): void {
  if (r.revision === commit) return;
  const file = inCache(s, r, join(repoFolder(s, r), 'refs', r.revision));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, commit);
}

/** Model files worth downloading: configs, tokenizer, module configs, then one model form. */
function modelFiles(files: string[], readIndex: (path: string) => string[]): string[] {
  const has = (f: string) => files.includes(f);
  const configs = files.filter(
    (f) =>
      [
        'modules.json',
        'config.json',
        'config_sentence_transformers.json',
        'sentence_bert_config.json',
        'tokenizer.json',
        'tokenizer_config.json',
        'special_tokens_map.json',
        'README.md',
      ].includes(f) || /^\d+_[^/]+\/config\.json$/.test(f),
  );
  let weights: string[] = [];
  if (has('onnx/model.onnx')) weights = ['onnx/model.onnx', ...files.filter((f) => f.startsWith('onnx/model.onnx_data'))];
  else if (has('model.onnx')) weights = ['model.onnx', ...files.filter((f) => f.startsWith('model.onnx_data'))];
  else if (has('model.safetensors')) weights = ['model.safetensors'];
  else if (has('model.safetensors.index.json')) weights = ['model.safetensors.index.json', ...readIndex('model.safetensors.index.json')];
  return weights.length ? [...configs, ...weights] : [];
}

export interface Snapshot {
  /** The snapshot folder (files under their repo paths). */
  dir: string;
  commit: string;
  ref: RepoRef;
}

/**
 * A model repo's snapshot in the shared cache, downloading what is missing (configs, tokenizer
 * and one model form: onnx/model.onnx, else model.safetensors or its shards).
 * @throws UserError on a missing repo, revision or file, an auth failure, a network failure, or
 * (offline) a snapshot not in the cache.
 */
export async function modelSnapshot(ref: RepoRef, o: HubOptions = {}): Promise<Snapshot> {
  const s = settings(o);
  const folder = repoFolder(s, ref);
  const offlineSnapshot = () => {
    const commit = cachedCommit(s, ref);
    return commit ? { dir: join(folder, 'snapshots', commit), commit, ref } : null;
  };
  if (s.offline) {
    const snap = offlineSnapshot();
    if (!snap) throw new UserError(`${formatRef(ref)}: HF_HUB_OFFLINE is set and the cache has no snapshot of it (looked in ${folder})`, 'ERR_NOT_FOUND');
    return snap;
  }
  let info: { commit: string; files: string[] };
  try {
    info = await repoInfo(s, ref);
  } catch (e) {
    const snap = (e as UserError).code === 'ERR_NETWORK' ? offlineSnapshot() : null;
    if (!snap) throw e;
    o.onWarning?.(`${(e as Error).message}; using the cached snapshot ${snap.commit}`);
    return snap;
  }
  const dir = join(folder, 'snapshots', info.commit);
  const sharded =
    !info.files.some((f) => ['onnx/model.onnx', 'model.onnx', 'model.safetensors'].includes(f)) && info.files.includes('model.safetensors.index.json');
  if (sharded) await downloadFile(s, ref, info.commit, 'model.safetensors.index.json', o);
  const wanted = modelFiles(info.files, (index) => {
    const map = (JSON.parse(readFileSync(join(dir, index), 'utf8')) as { weight_map?: Record<string, string> }).weight_map ?? {};
    return [...new Set(Object.values(map))];
  });
  if (wanted.length === 0)
    throw new UserError(
      `${formatRef(ref)}: the repo has no usable model file (onnx/model.onnx, model.onnx, model.safetensors or a safetensors index)`,
      'ERR_NOT_MODEL',
    );
  for (const f of wanted) await downloadFile(s, ref, info.commit, f, o);
  writeRef(s, ref, info.commit);
  return { dir, commit: info.commit, ref };
}

/** A model argument: an existing path as it is, else a Hub id resolved to its cached snapshot. */
export async function locateModel(path: string, o: HubOptions = {}): Promise<{ dir: string; hub?: { id: string; revision: string; commit: string } }> {
  if (existsSync(path)) return { dir: path };
  const ref = parseRepoRef(path);
  if (ref?.type !== 'model') return { dir: path }; // readModel says it is not found
  let snap: Snapshot;
  try {
    snap = await modelSnapshot(ref, o);
  } catch (e) {
    // "org/name" may as well be a mistyped local folder: say that it is not one either
    if (e instanceof UserError && e.code === 'ERR_NOT_FOUND' && !path.startsWith('hf://'))
      throw new UserError(`${path}: no such file or folder here; as a Hub id: ${e.message}`, 'ERR_NOT_FOUND');
    throw e;
  }
  return { dir: snap.dir, hub: { id: ref.id, revision: ref.revision, commit: snap.commit } };
}

const DATA_EXTENSIONS = ['parquet', 'jsonl', 'json', 'csv'];

/** The files of `split` in a dataset repo, by the Hub's own conventions (a `test.jsonl`,
 * `data/test-00000-of-00001.parquet`, a `test/` folder...), of one format, parquet first. */
export function splitFiles(files: string[], split: string): string[] {
  const matches = files.filter((f) => {
    const parts = f.split('/');
    const base = parts[parts.length - 1];
    const ext = base.split('.').pop()!.toLowerCase();
    if (!DATA_EXTENSIONS.includes(ext)) return false;
    const stem = base.slice(0, base.length - ext.length - 1);
    return parts.slice(0, -1).includes(split) || stem === split || new RegExp(`^${split.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[-_.]`).test(stem);
  });
  const ext = DATA_EXTENSIONS.find((e) => matches.some((f) => f.toLowerCase().endsWith(`.${e}`)));
  return matches.filter((f) => ext && f.toLowerCase().endsWith(`.${ext}`)).sort();
}

/**
 * The files of one split of a Hub dataset, downloaded into the shared cache: the repo's own
 * Parquet/JSONL/JSON/CSV files for the split, else the Hub's Parquet conversion
 * (refs/convert/parquet). Offline, the cached snapshot's files.
 */
export async function datasetSplit(
  ref: RepoRef,
  split: string,
  o: HubOptions = {},
  known?: { commit: string; files: string[] },
): Promise<{ files: string[]; commit: string; ref: RepoRef }> {
  const s = settings(o);
  const folder = repoFolder(s, ref);
  const fromSnapshot = (r: RepoRef) => {
    const commit = cachedCommit(s, r);
    if (!commit) return null;
    const dir = join(folder, 'snapshots', commit);
    const all = listFiles(dir);
    const picked = splitFiles(all, split);
    return picked.length ? { files: picked.map((f) => join(dir, f)), commit, ref: r } : null;
  };
  const converted: RepoRef = { ...ref, revision: 'refs/convert/parquet' };
  if (s.offline) {
    const hit = fromSnapshot(ref) ?? (ref.revision === 'main' ? fromSnapshot(converted) : null);
    if (!hit)
      throw new UserError(`${formatRef(ref)}: HF_HUB_OFFLINE is set and the cache has no files of split "${split}" (looked in ${folder})`, 'ERR_NOT_FOUND');
    return hit;
  }
  for (const r of ref.revision === 'main' ? [ref, converted] : [ref]) {
    let info: { commit: string; files: string[] };
    try {
      info = r === ref && known ? known : await repoInfo(s, r);
    } catch (e) {
      if (r === converted && (e as UserError).code === 'ERR_NOT_FOUND') break; // no conversion either
      throw e;
    }
    const picked = splitFiles(info.files, split);
    if (picked.length === 0) continue;
    for (const f of picked) await downloadFile(s, r, info.commit, f, o);
    writeRef(s, r, info.commit);
    return { files: picked.map((f) => join(folder, 'snapshots', info.commit, f)), commit: info.commit, ref: r };
  }
  throw new UserError(`${formatRef(ref)}: no Parquet, JSONL, JSON or CSV file for split "${split}" in the repo or its Parquet conversion`, 'ERR_NOT_FOUND');
}

function listFiles(dir: string, prefix = ''): string[] {
  try {
    return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? listFiles(dir, join(prefix, d.name)) : [join(prefix, d.name).split('\\').join('/')],
    );
  } catch {
    return [];
  }
}

/** The files of a BEIR-shaped dataset repo for one split (repo paths), or null when the repo is not BEIR-shaped. */
export interface BeirLayout {
  corpus: string[];
  queries: string[];
  qrels: string[];
}

/**
 * The BEIR shape in a dataset repo's files: MTEB's older layout (corpus.jsonl, queries.jsonl,
 * qrels/<split>.tsv), or configs as folders (MTEB's `corpus/`, `queries/` and `default/` or
 * `qrels/` Parquet; NanoBEIR's `corpus/`, `queries/`, `qrels/` with one split per dataset).
 * A config whose files name the split gives those, else all its files (MTEB's corpus and
 * queries are one split of their own); the qrels must name the split. null: not BEIR-shaped.
 */
export function beirLayout(files: string[], split: string): BeirLayout | null {
  if (files.includes('corpus.jsonl') && files.includes('queries.jsonl'))
    return { corpus: ['corpus.jsonl'], queries: ['queries.jsonl'], qrels: files.filter((f) => f === `qrels/${split}.tsv`) };
  const under = (dir: string) => files.filter((f) => f.startsWith(`${dir}/`) && DATA_EXTENSIONS.includes(f.split('.').pop()!.toLowerCase()));
  const corpus = under('corpus');
  if (corpus.length === 0) return null;
  const pick = (group: string[]) => {
    const named = splitFiles(group, split);
    if (named.length) return named;
    const ext = DATA_EXTENSIONS.find((e) => group.some((f) => f.toLowerCase().endsWith(`.${e}`)));
    return group.filter((f) => ext && f.toLowerCase().endsWith(`.${ext}`)).sort();
  };
  const qrels = [...files.filter((f) => f === `qrels/${split}.tsv`), ...splitFiles([...under('qrels'), ...under('default'), ...under('data')], split)];
  return { corpus: pick(corpus), queries: pick(under('queries')), qrels: qrels.slice(0, qrels[0]?.endsWith('.tsv') ? 1 : qrels.length) };
}

/** The splits a BEIR-shaped repo's qrels name (for errors). */
function qrelsSplits(files: string[]): string {
  const names = files
    .filter((f) => /^(qrels|default|data)\//.test(f))
    .map((f) => (f.split('/').pop() ?? '').replace(/\.[a-z]+$/i, '').replace(/-\d{5}-of-\d{5}$/, ''));
  return [...new Set(names)].sort().join(', ') || 'none';
}

/**
 * A BEIR-shaped dataset repo's files for `split`, downloaded into the shared cache (offline: the
 * cached snapshot's), as local paths; when the repo is not BEIR-shaped (a pairs dataset), the
 * revision's commit and file list it read, for datasetSplit (null offline).
 */
export async function beirSplit(
  ref: RepoRef,
  split: string,
  o: HubOptions = {},
): Promise<{ beir: BeirLayout & { commit: string } } | { beir: null; info: { commit: string; files: string[] } | null }> {
  const s = settings(o);
  const folder = repoFolder(s, ref);
  let commit: string;
  let files: string[];
  if (s.offline) {
    const cached = cachedCommit(s, ref);
    if (!cached) return { beir: null, info: null }; // datasetSplit says what the cache lacks
    commit = cached;
    files = listFiles(join(folder, 'snapshots', commit));
  } else {
    ({ commit, files } = await repoInfo(s, ref));
  }
  const layout = beirLayout(files, split);
  if (!layout) return { beir: null, info: s.offline ? null : { commit, files } };
  if (layout.qrels.length === 0 || layout.queries.length === 0)
    throw new UserError(
      `${formatRef(ref)}: ${layout.queries.length === 0 ? 'no queries' : `no qrels for split "${split}" (the repo's qrels: ${qrelsSplits(files)})`}`,
      'ERR_NOT_FOUND',
      'split',
    );
  const all = [...layout.corpus, ...layout.queries, ...layout.qrels];
  if (!s.offline) {
    for (const f of all) await downloadFile(s, ref, commit, f, o);
    writeRef(s, ref, commit);
  }
  const local = (fs: string[]) => fs.map((f) => join(folder, 'snapshots', commit, f));
  return { beir: { corpus: local(layout.corpus), queries: local(layout.queries), qrels: local(layout.qrels), commit } };
}
