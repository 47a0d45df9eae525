import { createHash } from 'node:crypto';
// One Dataset type for every input format: texts by id, and binary relevance judgments.

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
  /** Problems worth telling the user that do not stop the run. */
  warnings: string[];
}

export interface JudgedQueries {
  /** Row in dataset.queries of each scored query (those with at least one relevant id). */
  queryRows: number[];
  relevantRows: Set<number>[];
  relevantCount: number[];
}

/** The queries that sentence-transformers scores, with their relevant corpus rows. */
export function judgeQueries(dataset: Dataset): JudgedQueries {
  const rowsOfDoc = new Map<string, number[]>();
  dataset.corpus.ids.forEach((id, row) => {
    const rows = rowsOfDoc.get(id);
    if (rows) rows.push(row);
    else rowsOfDoc.set(id, [row]);
  });
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

/** sha256 over ids, texts and judgments: the same data gives the same fingerprint. */
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
  return h.digest('hex');
}
