// emb-bench's command line: parse flags, call one library function, print. No logic here.
import { Command, Option } from 'commander';
import { runDemo, runScore } from '../lib/commands.js';
import { VERSION } from '../lib/version.js';
import { parseIntList, parseKLists, parsePositiveInt } from './options.js';

const program = new Command('emb-bench')
  .description('Is the fine-tuned embedding model really better than its base, at every Matryoshka dimension?')
  .version(VERSION)
  .option('--verbose', 'show stack traces on errors')
  .showHelpAfterError();

const withKLists = (c: Command) =>
  c
    .option('--accuracy-at <list>', 'k values for accuracy@k', '1,3,5,10')
    .option('--precision-recall-at <list>', 'k values for precision@k and recall@k', '1,3,5,10')
    .option('--mrr-at <list>', 'k values for MRR@k', '10')
    .option('--ndcg-at <list>', 'k values for nDCG@k', '10')
    .option('--map-at <list>', 'k values for MAP@k', '100');

withKLists(
  program
    .command('score')
    .description('score precomputed embeddings (.npy) of a BEIR dataset at several Matryoshka dims')
    .requiredOption('--data <dir>', 'BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv')
    .requiredOption('--query-embeddings <file>', '.npy, row i = line i of queries.jsonl')
    .requiredOption('--corpus-embeddings <file>', '.npy, row i = line i of corpus.jsonl')
    .option('--dims <list>', 'Matryoshka dims, e.g. 768,512,256,128,64 (default: full width)')
    .option('--split <name>', 'qrels split', 'test')
    .option('--out <dir>', 'output folder', 'emb-bench-out')
    .option('--threads <n>', 'CPU threads (default: all cores)')
    .addOption(new Option('--device <device>', 'scoring device').choices(['cpu', 'cuda']).default('cpu'))
    .option('--json', 'print results.json instead of the table'),
).action(async (o) => {
  await runScore({
    data: o.data,
    queryEmbeddings: o.queryEmbeddings,
    corpusEmbeddings: o.corpusEmbeddings,
    dims: o.dims ? parseIntList(o.dims, '--dims') : undefined,
    split: o.split,
    out: o.out,
    threads: o.threads ? parsePositiveInt(o.threads, '--threads') : undefined,
    device: o.device,
    json: Boolean(o.json),
    kLists: parseKLists(o),
  });
});

program
  .command('demo')
  .description('make a synthetic dataset (no downloads) and score it at five Matryoshka dims')
  .option('--out <dir>', 'output folder', 'emb-bench-demo')
  .action(async (o) => {
    await runDemo({ out: o.out });
  });

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    const err = e as Error & { exitCode?: number };
    const verbose = process.argv.includes('--verbose');
    process.stderr.write(`emb-bench: ${verbose && err.stack ? err.stack : err.message}\n`);
    process.exitCode = typeof err.exitCode === 'number' ? err.exitCode : 1;
  }
}

await main();
