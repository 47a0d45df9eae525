// What each CLI command does, as library calls: read inputs, run the pipeline, write outputs,
// and return what to print. cli/main.ts only parses flags and calls these.
import { join } from 'node:path';
import { loadBeir } from './data/beir.js';
import { writeDemoData } from './demo.js';
import { DEFAULT_K_LISTS } from './metrics/index.js';
import { readNpy } from './data/npy.js';
import { evaluateEmbeddings } from './evaluate.js';
import { ensureOutDir } from './files.js';
import type { KLists } from './metrics/index.js';
import { evalResultsJson, writeEvalOutputs } from './report/results.js';
import { metricsTable } from './report/table.js';
import { checkDims } from './score/index.js';

export interface ScoreCommand {
  data: string;
  queryEmbeddings: string;
  corpusEmbeddings: string;
  dims?: number[];
  split: string;
  out: string;
  threads?: number;
  device: 'cpu' | 'cuda';
  json: boolean;
  kLists: KLists;
}

function warn(lines: string[]): void {
  for (const w of lines) process.stderr.write(`emb-bench: warning: ${w}\n`);
}

export async function runScore(c: ScoreCommand): Promise<void> {
  const dataset = loadBeir(c.data, c.split);
  const queries = readNpy(c.queryEmbeddings);
  const corpus = readNpy(c.corpusEmbeddings);
  const dims = c.dims ?? [corpus.cols];
  checkDims(dims, Math.min(queries.cols, corpus.cols), 'embedding');
  ensureOutDir(c.out);
  warn(dataset.warnings);
  const result = await evaluateEmbeddings(dataset, queries, corpus, { dims, kLists: c.kLists, threads: c.threads, device: c.device });
  const json = evalResultsJson('score', dataset, result, {
    inputs: { query_embeddings: c.queryEmbeddings, corpus_embeddings: c.corpusEmbeddings },
  });
  const files = writeEvalOutputs(c.out, json, { model: result });
  if (c.json) process.stdout.write(JSON.stringify(json, null, 2) + '\n');
  else {
    process.stdout.write(
      `${dataset.name} (${result.counts.scored_queries} queries scored, ${result.counts.corpus} documents), engine ${result.engine}\n\n`,
    );
    process.stdout.write(metricsTable(result.metrics, dims, c.kLists) + '\n\n');
    process.stdout.write(`wrote ${files.join(', ')}\n`);
  }
}

export async function runDemo({ out }: { out: string }): Promise<void> {
  process.stderr.write(`emb-bench demo: writing a synthetic dataset (20,000 documents, 500 queries, 768 dims) to ${join(out, 'data')}\n`);
  const data = writeDemoData(join(out, 'data'));
  await runScore({
    data: data.dir,
    queryEmbeddings: data.queryEmbeddings,
    corpusEmbeddings: data.corpusEmbeddings,
    dims: [768, 512, 256, 128, 64],
    split: 'test',
    out,
    device: 'cpu',
    json: false,
    kLists: DEFAULT_K_LISTS,
  });
}
