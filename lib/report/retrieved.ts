// What each query retrieved, for a person debugging a regression and for other IR tools:
// retrieved.jsonl (each scored query's relevant documents and, per model and dim, its top
// documents with their scores) and TREC run files with the qrels (what trec_eval and ranx read).
import type { Dataset } from '../data/dataset.js';
import type { EvalResult } from '../evaluate.js';
import type { TopKResult } from '../score/types.js';
import { UserError } from '../errors.js';

/** Documents per query and dim in retrieved.jsonl unless asked otherwise. */
export const DEFAULT_RETRIEVED_K = 10;

/** The scored top-k of a result, or an error naming what is missing. */
function topOf(label: string, r: EvalResult) {
  if (!r.top) throw new UserError(`${label}: the result has no ranked lists to write`, 'ERR_OPTION', 'retrievedK');
  return r.top;
}

/** Query q's first `n` documents at dim index o, in rank order: [document id, score]. */
function ranked(dataset: Dataset, top: TopKResult, o: number, q: number, n = top.k): Array<[string, number]> {
  const list: Array<[string, number]> = [];
  for (let j = 0; j < Math.min(n, top.k); j++) {
    const row = top.indices[o][q * top.k + j];
    if (row < 0) break;
    list.push([dataset.corpus.ids[row], top.scores[o][q * top.k + j]]);
  }
  return list;
}

/**
 * retrieved.jsonl: one line per scored query, `{"query_id", "relevant": [ids], "<label>": {"<dim>":
 * [[doc_id, score], ...]}}`, the top `n` of each model (label) at each dim, in rank order; with
 * quantized precisions also `"<dim>_<precision>"` (e.g. `"256_ubinary"`), their final lists
 * (rescored scores, or the first stage's: the inner product, minus the Hamming distance).
 */
export function retrievedJsonl(dataset: Dataset, results: Record<string, EvalResult>, n = DEFAULT_RETRIEVED_K): string {
  const entries = Object.entries(results);
  const first = entries[0][1];
  const lines = first.queryIds.map((qid, q) => {
    const row: Record<string, unknown> = { query_id: qid, relevant: [...(dataset.qrels.get(qid) ?? [])].sort() };
    for (const [label, r] of entries) {
      const top = topOf(label, r);
      const upTo = Math.min(n, top.k);
      const byDim: Record<string, Array<[string, number]>> = {};
      top.dims.forEach((dim, o) => {
        byDim[String(dim)] = ranked(dataset, top, o, q, upTo);
      });
      for (const [precision, t] of Object.entries(r.quantization?.tops ?? {}))
        t.dims.forEach((dim, o) => {
          byDim[`${dim}_${precision}`] = ranked(dataset, t, o, q, Math.min(n, t.k));
        });
      row[label] = byDim;
    }
    return JSON.stringify(row);
  });
  return lines.join('\n') + '\n';
}

/** A TREC run file name part: letters, digits, `._-` only. */
const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

/**
 * TREC run files, `<label>.dim_<d>.run`: `qid Q0 docid rank score tag`, every document of the
 * scored top k in rank order (scores as float32 prints them, shortest round-trip), and
 * `qrels.txt` for the scored queries: under sentence-transformers' conventions `qid 0 docid 1`
 * for each relevant pair; under trec's every judgment with its grade (as trec_eval reads it).
 */
export function trecRunFiles(dataset: Dataset, results: Record<string, EvalResult>): Record<string, () => string> {
  const files: Record<string, () => string> = {};
  const first = Object.values(results)[0];
  for (const [label, r] of Object.entries(results)) {
    const top = topOf(label, r);
    top.dims.forEach((dim, o) => {
      const tag = `emb-bench.${safe(label)}.dim_${dim}`;
      files[`${safe(label)}.dim_${dim}.run`] = () => {
        const out: string[] = [];
        r.queryIds.forEach((qid, q) => {
          ranked(dataset, top, o, q).forEach(([doc, score], j) => {
            out.push(`${qid} Q0 ${doc} ${j + 1} ${score} ${tag}`);
          });
        });
        return out.join('\n') + '\n';
      };
    });
  }
  files['qrels.txt'] = () => first.queryIds.flatMap((qid) => judgmentsOf(dataset, first, qid).map(([doc, g]) => `${qid} 0 ${doc} ${g}`)).join('\n') + '\n';
  return files;
}

/**
 * A scored query's judgments as the other tools read them, by document id: under trec
 * conventions every judgment with its grade (the integer part, as trec_eval reads it), under
 * sentence-transformers' each relevant document with grade 1.
 */
function judgmentsOf(dataset: Dataset, r: EvalResult, qid: string): Array<[string, number]> {
  const rows: Array<[string, number]> =
    r.kLists.conventions === 'trec' && dataset.grades
      ? [...(dataset.grades.get(qid) ?? [])].map(([doc, g]) => [doc, Math.trunc(g)])
      : [...(dataset.qrels.get(qid) ?? [])].map((doc) => [doc, 1]);
  return rows.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * ranx's JSON files: `qrels.json` (`{"q1": {"d1": 2}}`, the judgments as judgmentsOf gives them)
 * and one run per model and dim, `<label>.dim_<d>.json` (`{"q1": {"d1": 0.9}}`, the scored top k),
 * what `Qrels.from_file` and `Run.from_file` read.
 */
export function ranxFiles(dataset: Dataset, results: Record<string, EvalResult>): Record<string, () => string> {
  const files: Record<string, () => string> = {};
  const first = Object.values(results)[0];
  for (const [label, r] of Object.entries(results)) {
    const top = topOf(label, r);
    top.dims.forEach((dim, o) => {
      files[`${safe(label)}.dim_${dim}.json`] = () => {
        const run: Record<string, Record<string, number>> = {};
        r.queryIds.forEach((qid, q) => {
          run[qid] = Object.fromEntries(ranked(dataset, top, o, q));
        });
        return JSON.stringify(run);
      };
    });
  }
  files['qrels.json'] = () => JSON.stringify(Object.fromEntries(first.queryIds.map((qid) => [qid, Object.fromEntries(judgmentsOf(dataset, first, qid))])));
  return files;
}

/** Query and document ids that TREC's whitespace-separated files cannot hold. */
export function checkTrecIds(dataset: Dataset): void {
  const bad = [...dataset.queries.ids, ...dataset.corpus.ids].find((id) => id === '' || /\s/.test(id));
  if (bad !== undefined)
    throw new UserError(
      `trecRun: the id ${JSON.stringify(bad)} has whitespace (or is empty); TREC run files are whitespace-separated`,
      'ERR_OPTION',
      'trecRun',
    );
}
