// The registry's runs as a tidy table (one row per run, model, dim and metric, with the run's
// settings beside), written as CSV, Parquet or JSON for pandas, a notebook or a spreadsheet; and
// one run's metrics as the metadata a ZenML step logs with log_model_metadata as it is.
import { parquetWriteBuffer } from 'hyparquet-writer';
import { UserError } from '../errors.js';
import { parseMetricKey, sortMetricNames } from '../metrics/index.js';
import type { Registry, RunFilter } from './registry.js';

export const EXPORT_FORMATS = ['csv', 'parquet', 'json', 'zenml'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** One value: a metric of a model (role) of a run at a dim. */
export interface ExportRow {
  run_id: string;
  started_at: string;
  ended_at: string | null;
  command: string;
  status: string;
  note: string;
  role: string;
  model: string;
  version: number;
  model_sha256: string;
  dataset: string | null;
  dataset_fingerprint: string | null;
  dim: number;
  metric: string;
  value: number;
  /** The run's settings, as JSON text: dims, k lists, command line, software, hardware, tags. */
  dims: string;
  k_lists: string;
  argv: string;
  software: string;
  hardware: string;
  tags: string;
}

/** The column order of the table (and of the CSV header). */
export const EXPORT_COLUMNS: Array<keyof ExportRow> = [
  'run_id',
  'started_at',
  'ended_at',
  'command',
  'status',
  'note',
  'role',
  'model',
  'version',
  'model_sha256',
  'dataset',
  'dataset_fingerprint',
  'dim',
  'metric',
  'value',
  'dims',
  'k_lists',
  'argv',
  'software',
  'hardware',
  'tags',
];

/** The runs given by id (or prefix), else those the filter selects (newest first, `limit` at most), as tidy rows. */
export async function exportRows(registry: Registry, o: { ids?: string[]; filter?: RunFilter; limit?: number }): Promise<ExportRow[]> {
  const ids = o.ids?.length ? o.ids : (await registry.listRuns(o.limit ?? 1_000_000, o.filter)).map((r) => r.id);
  const rows: ExportRow[] = [];
  for (const id of ids) {
    const r = await registry.showRun(id);
    const settings = {
      dims: JSON.stringify(r.dims),
      k_lists: JSON.stringify(r.kLists),
      argv: JSON.stringify(r.argv),
      software: JSON.stringify(r.software),
      hardware: JSON.stringify(r.hardware),
      tags: JSON.stringify(r.tags),
    };
    for (const m of r.models) {
      const keys = Object.keys(m.metrics).map((key) => ({ key, p: parseMetricKey(key)! }));
      const names = sortMetricNames(keys.map((k) => k.p.name));
      keys.sort((a, b) => b.p.dim - a.p.dim || names.indexOf(a.p.name) - names.indexOf(b.p.name));
      for (const { key, p } of keys)
        rows.push({
          run_id: r.id,
          started_at: r.startedAt,
          ended_at: r.endedAt,
          command: r.command,
          status: r.status,
          note: r.note,
          role: m.role,
          model: m.name,
          version: m.version,
          model_sha256: m.sha256,
          dataset: r.datasetName,
          dataset_fingerprint: r.datasetFingerprint,
          dim: p.dim,
          metric: p.name,
          value: m.metrics[key],
          ...settings,
        });
    }
  }
  return rows;
}

/** RFC 4180 CSV: a header, fields quoted when they hold a comma, quote or line break; numbers as JavaScript prints them (round-trip exact). */
export function rowsToCsv(rows: ExportRow[]): string {
  const field = (v: unknown) => {
    const t = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
  };
  return [EXPORT_COLUMNS.join(','), ...rows.map((r) => EXPORT_COLUMNS.map((c) => field(r[c])).join(','))].join('\n') + '\n';
}

const PARQUET_TYPES: Partial<Record<keyof ExportRow, 'INT32' | 'DOUBLE'>> = { version: 'INT32', dim: 'INT32', value: 'DOUBLE' };

/** Parquet (Snappy) with one typed column per field: integers INT32, values DOUBLE, the rest UTF-8 strings (nullable). */
export function rowsToParquet(rows: ExportRow[]): Uint8Array {
  const columnData = EXPORT_COLUMNS.map((name) => {
    const type = PARQUET_TYPES[name] ?? 'STRING';
    return { name, type, nullable: type === 'STRING', data: rows.map((r) => r[name] ?? null) };
  });
  return new Uint8Array(parquetWriteBuffer({ columnData: columnData as never }));
}

/**
 * One run's metadata as its models carry it, keyed as ZenML's fine-tuning guide logs it
 * (`base_model_eval`, `finetuned_model_eval`, or `model_eval` for eval): a JSON object a ZenML
 * step passes to `log_model_metadata(metadata=...)` as it is.
 */
export async function zenmlMetadata(registry: Registry, id: string): Promise<Record<string, Record<string, number>>> {
  const r = await registry.showRun(id);
  const out: Record<string, Record<string, number>> = {};
  for (const m of r.models)
    for (const [key, value] of Object.entries(m.metadata)) if (value && typeof value === 'object') out[key] = value as Record<string, number>;
  if (!Object.keys(out).length) throw new UserError(`run ${r.id} has no model metadata to log (status ${r.status})`, 'ERR_NOT_FOUND');
  return out;
}

/** The export as bytes in `format` (zenml: exactly one run id). */
export async function exportRuns(
  registry: Registry,
  format: ExportFormat,
  o: { ids?: string[]; filter?: RunFilter; limit?: number },
): Promise<string | Uint8Array> {
  if (!EXPORT_FORMATS.includes(format)) throw new UserError(`format: "${format}" is not one of ${EXPORT_FORMATS.join(', ')}`, 'ERR_OPTION', 'format');
  if (format === 'zenml') {
    if (o.ids?.length !== 1) throw new UserError('format: zenml exports one run; give its id', 'ERR_OPTION', 'format');
    return JSON.stringify(await zenmlMetadata(registry, o.ids[0]), null, 2) + '\n';
  }
  const rows = await exportRows(registry, o);
  if (format === 'csv') return rowsToCsv(rows);
  if (format === 'parquet') return rowsToParquet(rows);
  return JSON.stringify(rows, null, 2) + '\n';
}
