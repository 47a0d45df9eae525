// The model card sentence-transformers writes (README.md): YAML front matter, a "Base model"
// line with the base revision in an HTML comment, the loss and its parameters, training
// hyperparameters (Python reprs), training logs and framework versions. Sections are found by
// heading and keys by name, never by position. A card that is absent or malformed gives a
// warning and whatever could be read, never a failure.
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export interface ModelCard {
  baseModel?: string;
  /** The base model's commit, from `<!-- at revision ... -->`. */
  baseRevision?: string;
  datasets?: string[];
  libraryName?: string;
  tags?: string[];
  /** From the tags' `loss:` entry, else the Loss line. */
  loss?: string;
  lossParameters?: Record<string, unknown>;
  /** MatryoshkaLoss' matryoshka_dims. */
  matryoshkaDims?: number[];
  /** From the tags' `dataset_size:` entry. */
  datasetSize?: number;
  /** The non-default training hyperparameters (all of them when only those are listed). */
  hyperparameters?: Record<string, unknown>;
  trainingLogs?: Array<Record<string, string>>;
  frameworkVersions?: Record<string, string>;
}

/** A Python literal as the card prints it (True, None, 5e-05, {'a': 1}, linear) as a JSON value. */
export function pythonValue(text: string): unknown {
  const t = text.trim();
  if (t === 'True') return true;
  if (t === 'False') return false;
  if (t === 'None') return null;
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  if (/^[[{(]/.test(t)) {
    const json = t
      .replace(/^\(/, '[')
      .replace(/\)$/, ']')
      .replace(/'((?:[^'\\]|\\.)*)'/g, (_, s: string) => JSON.stringify(s.replace(/\\'/g, "'")))
      .replace(/\bTrue\b/g, 'true')
      .replace(/\bFalse\b/g, 'false')
      .replace(/\bNone\b/g, 'null');
    try {
      return JSON.parse(json);
    } catch {
      return t;
    }
  }
  return t;
}

/** The text under a markdown heading (any level) whose title is `title`, up to the next heading of the same or a higher level. */
function section(md: string, title: string): string | null {
  const lines = md.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^#{1,6}\\s+${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'i').test(l.trim()));
  if (start < 0) return null;
  const level = /^#+/.exec(lines[start].trim())![0].length;
  const end = lines.findIndex((l, i) => i > start && /^#+\s/.test(l.trim()) && /^#+/.exec(l.trim())![0].length <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** `- \`name\`: value` lines as an object. */
function keyValues(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of text.matchAll(/^- `([^`]+)`: ?(.*)$/gm)) out[m[1]] = pythonValue(m[2]);
  return out;
}

export function parseModelCard(text: string, onWarning: (message: string) => void = () => {}, where = 'README.md'): ModelCard {
  const card: ModelCard = {};
  let body = text;
  const front = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(text);
  if (front) {
    body = text.slice(front[0].length);
    let meta: Record<string, unknown> | null = null;
    try {
      meta = parseYaml(front[1]) as Record<string, unknown>;
    } catch (e) {
      onWarning(`${where}: the model card's front matter is not valid YAML (${(e as Error).message.split('\n')[0]}); its metadata is skipped`);
    }
    if (meta && typeof meta === 'object') {
      if (typeof meta.base_model === 'string') card.baseModel = meta.base_model;
      if (Array.isArray(meta.datasets)) card.datasets = meta.datasets.map(String);
      if (typeof meta.library_name === 'string') card.libraryName = meta.library_name;
      if (Array.isArray(meta.tags)) {
        card.tags = meta.tags.map(String);
        for (const tag of card.tags) {
          const [k, v] = tag.split(/:(.*)/s);
          if (k === 'loss' && v && !card.loss) card.loss = v; // the outer loss comes first (MatryoshkaLoss, then its inner loss)
          if (k === 'dataset_size' && /^\d+$/.test(v ?? '')) card.datasetSize = Number(v);
        }
      }
    }
  }
  const baseLine = /\*\*Base model:\*\*\s*(?:\[([^\]]+)\]\([^)]*\)|(\S+))(?:\s*<!--\s*at revision\s+([0-9a-f]{7,40})\s*-->)?/.exec(body);
  if (baseLine) {
    card.baseModel ??= baseLine[1] ?? baseLine[2];
    if (baseLine[3]) card.baseRevision = baseLine[3];
  }
  // the (last) Loss line and its json parameters
  const losses = [...body.matchAll(/^\* Loss: \[<code>([^<]+)<\/code>\][^\n]*\n\s*```json\n([\s\S]*?)```/gm)];
  if (losses.length) {
    const [, name, json] = losses[losses.length - 1];
    card.loss ??= name;
    try {
      card.lossParameters = JSON.parse(json);
      const dims = card.lossParameters?.matryoshka_dims;
      if (Array.isArray(dims) && dims.every((d) => Number.isInteger(d))) card.matryoshkaDims = dims as number[];
    } catch {
      onWarning(`${where}: the parameters of ${name} are not valid JSON; skipped`);
    }
  }
  const hyper = section(body, 'Training Hyperparameters');
  if (hyper) {
    const nonDefault = section(hyper, 'Non-Default Hyperparameters');
    const values = keyValues(nonDefault ?? hyper);
    if (Object.keys(values).length) card.hyperparameters = values;
  }
  const logs = section(body, 'Training Logs');
  if (logs) {
    const rows = logs.split('\n').filter((l) => l.trim().startsWith('|'));
    const cells = (l: string) =>
      l
        .trim()
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((c) => c.trim().replace(/\*\*/g, ''));
    if (rows.length >= 2) {
      const head = cells(rows[0]);
      card.trainingLogs = rows.slice(2).map((r) => Object.fromEntries(cells(r).map((c, i) => [head[i] ?? String(i), c])));
    }
  }
  const versions = section(body, 'Framework Versions');
  if (versions) {
    const out: Record<string, string> = {};
    for (const m of versions.matchAll(/^- ([^:\n]+):\s*(.+)$/gm)) out[m[1].trim()] = m[2].trim();
    if (Object.keys(out).length) card.frameworkVersions = out;
  }
  return card;
}

/** The card of a model folder, or undefined when it has none (not worth a warning). */
export function readModelCard(dir: string, onWarning?: (message: string) => void): ModelCard | undefined {
  const path = `${dir}/README.md`;
  if (!existsSync(path)) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    onWarning?.(`${path}: cannot read the model card (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    return undefined;
  }
  return parseModelCard(text, onWarning, path);
}
