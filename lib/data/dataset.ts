// One Dataset type for every input format: texts by id, and relevance judgments.
import { createHash } from 'node:crypto';
import type { Conventions } from '../metrics/metrics.js';
import type { GradedJudgments } from '../metrics/trec.js';

export interface Texts {
  ids: string[];
  texts: string[];
}

export interface Dataset {
  /** A short name for reports, e.g. the folder's name. */
  name: string;
  /** Where it was read from. */
  source: string;
  split?: string;
  queries: Texts;
  corpus: Texts;
  /** Relevant document ids (qrels score > 0) per query id, for queries in `queries`. */
  qrels: Map<string, Set<string>>;
  /**
   * Every judgment row as the file gives it (score per document, the last row of a duplicate pair
   * winning), for queries in `queries`: the trec conventions' graded relevance. Absent where the
   * format has no grades (pairs): each relevant document then has grade 1.
   */
  grades?: Map<string, Map<string, number>>;
  /** Problems worth telling the user that do not stop the run. */
  warnings: string[];
}

export interface JudgedQueries {
  /** Row in dataset.queries of each scored query (st: those with a relevant id; trec: those with any judgment). */
  queryRows: number[];
  relevantRows: Set<number>[];
  relevantCount: number[];
  /** trec: each scored query's grades and ideal ranking. */
  graded?: GradedJudgments;
}

/** A qrels score as trec_eval reads it (atol): its integer part. */
const grade = (score: number) => Math.trunc(score);

/**
 * The queries a run scores, with their relevant corpus rows: sentence-transformers' (a query
 * with a relevant document, binary relevance) or, under `conventions` 'trec', trec_eval's (a
 * query with any judgment, graded relevance).
 */
export function judgeQueries(dataset: Dataset, conventions: Conventions = 'st'): JudgedQueries {
  const rowsOfDoc = new Map<string, number[]>();
  dataset.corpus.ids.forEach((id, row) => {
    const rows = rowsOfDoc.get(id);
    if (rows) rows.push(row);
    else rowsOfDoc.set(id, [row]);
  });
  if (conventions === 'trec') return judgeGraded(dataset, rowsOfDoc);
  const out: JudgedQueries = { queryRows: [], relevantRows: [], relevantCount: [] };
  dataset.queries.ids.forEach((id, row) => {
    const relevant = dataset.qrels.get(id);
    if (!relevant || relevant.size === 0) return;
    const rows = new Set<number>();
    for (const docId of relevant) for (const r of rowsOfDoc.get(docId) ?? []) rows.add(r);
    out.queryRows.push(row);
    out.relevantRows.push(rows);
    out.relevantCount.push(relevant.size);
  });
  return out;
}

function judgeGraded(dataset: Dataset, rowsOfDoc: Map<string, number[]>): JudgedQueries {
  const graded: GradedJudgments = { grades: [], relevantCount: [], ideal: [] };
  const out: JudgedQueries = { queryRows: [], relevantRows: [], relevantCount: graded.relevantCount, graded };
  dataset.queries.ids.forEach((id, row) => {
    const judged = dataset.grades?.get(id) ?? new Map([...(dataset.qrels.get(id) ?? [])].map((doc) => [doc, 1]));
    if (judged.size === 0) return;
    const grades = new Map<number, number>();
    const relevant = new Set<number>();
    const ideal: number[] = [];
    for (const [doc, score] of judged) {
      const g = grade(score);
      if (g >= 1) ideal.push(g);
      for (const r of rowsOfDoc.get(doc) ?? []) {
        grades.set(r, g);
        if (g >= 1) relevant.add(r);
      }
    }
    out.queryRows.push(row);
    out.relevantRows.push(relevant);
    graded.grades.push(grades);
    graded.relevantCount.push(ideal.length);
    graded.ideal.push(ideal.sort((a, b) => b - a));
  });
  return out;
}

export interface DatasetCounts {
  queries: number;
  /** Queries with at least one relevant document: the ones scored. */
  scoredQueries: number;
  corpus: number;
  relevantPairs: number;
}

/** Sizes for reports and results.json. */
export function datasetCounts(dataset: Dataset, judged: JudgedQueries): DatasetCounts {
  let qrels = 0;
  for (const s of dataset.qrels.values()) qrels += s.size;
  return {
    queries: dataset.queries.ids.length,
    scoredQueries: judged.queryRows.length,
    corpus: dataset.corpus.ids.length,
    relevantPairs: qrels,
  };
}

/** The counts as results.json and the registry write them (snake_case). */
export function countsJson(c: DatasetCounts) {
  return { queries: c.queries, scored_queries: c.scoredQueries, corpus: c.corpus, relevant_pairs: c.relevantPairs };
}

/**
 * sha256 over ids, texts and judgments: the same data gives the same fingerprint. Grades count
 * where they say more than the relevant sets (a grade other than 1, a judged non-relevant row):
 * data judged 1 throughout keeps the fingerprint it had before grades were read.
 */
export function datasetFingerprint(dataset: Dataset): string {
  const h = createHash('sha256');
  for (const t of [dataset.queries, dataset.corpus]) {
    t.ids.forEach((id, i) => h.update(id).update('\0').update(t.texts[i]).update('\0'));
    h.update('\x01');
  }
  for (const [q, docs] of [...dataset.qrels.entries()].sort())
    h.update(q)
      .update('\0')
      .update([...docs].sort().join('\0'))
      .update('\x01');
  const grades = [...(dataset.grades ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (grades.some(([, docs]) => [...docs.values()].some((g) => g !== 1))) {
    h.update('grades\x02');
    for (const [q, docs] of grades)
      h.update(q)
        .update('\0')
        .update(
          [...docs]
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([d, g]) => `${d}\0${g}`)
            .join('\0'),
        )
        .update('\x01');
  }
  return h.digest('hex');
}
