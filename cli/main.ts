// emb-bench's command line: parse flags, call one command, print. No logic here.
import { Command, CommanderError, Option } from 'commander';
import {
  compactCacheDir,
  DEFAULT_CACHE_DIR,
  DEFAULT_DEMO_DIR,
  CONVENTIONS,
  DEFAULT_K_LISTS,
  MTEB_K_VALUES,
  DEFAULT_OUT_DIR,
  DEFAULT_SEED,
  DEFAULT_SPLIT,
  defaultRegistryPath,
  ARITHMETICS,
  type Arithmetic,
  engineInfo,
  HEADLINE_METRIC,
  isTrainingOutput,
  KERNELS,
  type KernelChoice,
  DEFAULT_RESCORE_MULTIPLIER,
  PRECISIONS,
  type Precision,
  parseMetricCondition,
  parseShard,
  parseTag,
  type RunFilter,
  UserError,
  VERSION,
} from '../lib/index.js';
import { type EncodingOptions, expandData, isSuite, type ScoringOptions, shardFromEnv } from '../lib/runs/index.js';
import { compareCommand, demoCommand, mergeCommand } from './commands/compare.js';
import { doctor } from './commands/doctor.js';
import { encodeCommand, evalCommand, scoreCommand } from './commands/evaluate.js';
import { compareSuiteCommand, evalSuiteCommand } from './commands/suite.js';
import { trainingCommand } from './commands/training.js';
import { copyCommand, exportCommand, registryCommand } from './commands/registry.js';
import { context, installErrorHandlers, installSignalHandlers, reportError, waitForSignal, warn } from './context.js';
import { parseCount, parseIntList, parseKLists, parseList, parseMetadata, parsePort, parsePositiveInt, parseSeed, parseThreads } from './options.js';
import { startDashboard } from '../ui/server.js';

const program = new Command('emb-bench')
  .description('Is the fine-tuned embedding model really better than its base, at every Matryoshka dimension?')
  .version(VERSION)
  .option('--verbose', 'show stack traces on errors')
  .option('--registry <file|url>', 'registry: a SQLite file or postgres://user@host:port/db (default: $EMB_BENCH_REGISTRY or .emb-bench/registry.db)')
  // a usage error is one line and exit code 2 (main() below), not the whole help
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(`emb-bench: ${text.trim().replace(/^error: /, '')} (see --help)\n`) });

const kDefault = (list: number[]) => ` (default: ${list.join(',')}; trec: ${MTEB_K_VALUES.join(',')})`;
const withKLists = (c: Command) =>
  c
    .addOption(
      new Option('--conventions <name>', "metric conventions: st (sentence-transformers' evaluator) or trec (trec_eval's: graded, MTEB's names and k values)")
        .choices([...CONVENTIONS])
        .default('st'),
    )
    .option(
      '--ignore-identical-ids',
      "trec: leave a document whose id equals the query's out of its ranking (MTEB's ignore_identical_ids; default: where the dataset's MTEB task sets it)",
    )
    .option('--no-ignore-identical-ids', "trec: keep such documents, even where the dataset's MTEB task leaves them out")
    .option('--accuracy-at <list>', `k values for accuracy@k (trec: hit_rate_at_k)${kDefault(DEFAULT_K_LISTS.accuracy)}`)
    .option('--precision-recall-at <list>', `k values for precision@k and recall@k${kDefault(DEFAULT_K_LISTS.precisionRecall)}`)
    .option('--mrr-at <list>', `k values for MRR@k${kDefault(DEFAULT_K_LISTS.mrr)}`)
    .option('--ndcg-at <list>', `k values for nDCG@k${kDefault(DEFAULT_K_LISTS.ndcg)}`)
    .option('--map-at <list>', `k values for MAP@k${kDefault(DEFAULT_K_LISTS.map)}`);
const commandLine = () => process.argv.slice(2);
/** What each query retrieved, beside the results. */
const withRetrieval = (c: Command) =>
  c
    .option('--retrieved-k <n>', "documents per query and dim in retrieved.jsonl (each query's top documents and scores; 0: none)", '10')
    .option('--trec-run <dir>', 'also write TREC run files (one per model and dim, the whole scored top k) and qrels.txt here, for trec_eval and ranx')
    .option('--ranx-run <dir>', "also write ranx's JSON runs (one per model and dim) and qrels.json here")
    .option(
      '--mteb-results <dir>',
      "also write MTEB's result files here (<org>__<model>[-dim<d>]/<revision>/<Task>.json, model_meta.json; needs --conventions trec)",
    );
const retrievalFlags = (o: Record<string, unknown>) => ({
  retrievedK: o.retrievedK === '0' ? 0 : parsePositiveInt(String(o.retrievedK ?? '10'), '--retrieved-k'),
  trecRun: o.trecRun as string | undefined,
  ranxRun: o.ranxRun as string | undefined,
  mtebResults: o.mtebResults as string | undefined,
});
/** How the data is read: a BEIR folder, or a pairs file with its field names. */
const withData = (c: Command) =>
  c
    .requiredOption(
      '--data <path>',
      'BEIR folder, pairs file (JSONL, JSON array, CSV, Parquet) or hf://datasets/org/name; eval and compare: again for more datasets, or nanobeir[-<lang>][:scifact,nfcorpus]',
      (v: string, list: string[] = []) => [...list, v],
    )
    .addOption(new Option('--format <format>', 'dataset format (default: detected)').choices(['beir', 'jsonl', 'json', 'csv', 'parquet']))
    .option('--split <name>', 'qrels split of a BEIR folder', DEFAULT_SPLIT)
    .option('--query-field <name>', 'pairs: query text field (ZenML: anchor)')
    .option('--doc-field <name>', 'pairs: document text field (ZenML: positive)')
    .option('--id-field <name>', 'pairs: id field shared by a query and its document', 'id')
    .option('--corpus <file>', 'pairs: a file of more documents for the corpus');
const loadFlags = (o: Record<string, unknown>) => ({
  format: o.format as 'beir' | 'jsonl' | 'json' | 'csv' | 'parquet' | undefined,
  split: o.split as string,
  corpus: o.corpus as string | undefined,
  fields: { queryField: o.queryField as string | undefined, docField: o.docField as string | undefined, idField: o.idField as string },
});
/** The CPU engine's two settings (the scores are the same from each; only the time differs). */
const withEngine = (c: Command) =>
  c
    .addOption(new Option('--arithmetic <mode>', 'CPU arithmetic (default: $EMB_BENCH_ARITHMETIC, else auto)').choices([...ARITHMETICS]))
    .addOption(new Option('--kernel <isa>', 'CPU micro-kernel (default: $EMB_BENCH_KERNEL, else the best this CPU runs)').choices([...KERNELS]))
    .option('--precision <list>', `precisions to score at every dim, float32 always among them: any of ${PRECISIONS.join(', ')} (default: float32)`)
    .option(
      '--rescore-multiplier <M>',
      `with a quantized precision: rescore its top k x M with the float32 query (default ${DEFAULT_RESCORE_MULTIPLIER}; 0: no rescoring)`,
    )
    .option(
      '--calibration <file>',
      'int8/uint8 ranges from this .npy of embeddings, or from these texts (one a line) embedded by each model (default: the corpus)',
    );
const engineFlags = (o: Record<string, unknown>) => ({
  arithmetic: o.arithmetic as Arithmetic | undefined,
  kernel: o.kernel as KernelChoice | undefined,
  precisions: o.precision !== undefined ? (parseList(String(o.precision), '--precision') as Precision[]) : undefined,
  rescoreMultiplier: o.rescoreMultiplier !== undefined ? parseCount(String(o.rescoreMultiplier), '--rescore-multiplier') : undefined,
  calibration: o.calibration as string | undefined,
});

withEngine(
  withKLists(
    withData(
      withRetrieval(program.command('score'))
        .description('score precomputed embeddings (.npy) of a dataset at several Matryoshka dims')
        .requiredOption('--query-embeddings <file>', ".npy, row i = the dataset's query i (queries.jsonl's line i; what encode writes)")
        .requiredOption('--corpus-embeddings <file>', ".npy, row i = the dataset's document i")
        .option('--dims <list>', 'Matryoshka dims, e.g. 768,512,256,128,64 (default: full width)'),
    )
      .option('--out <dir>', 'output folder', DEFAULT_OUT_DIR)
      .option('--threads <n>', 'CPU threads (default: all cores)')
      .addOption(new Option('--device <device>', 'scoring device').choices(['cpu', 'cuda']).default('cpu'))
      .option('--corpus-shard <I/N>', 'score corpus slice I of N only, for `emb-bench merge` (default: from the Slurm or Kubernetes variables)')
      .option('--json', 'print results.json instead of the table'),
  ),
).action(async (o) => {
  await scoreCommand(
    {
      ...engineFlags(o),
      data: oneData(o),
      queryEmbeddings: o.queryEmbeddings,
      corpusEmbeddings: o.corpusEmbeddings,
      dims: o.dims !== undefined ? parseIntList(o.dims, '--dims') : undefined,
      load: loadFlags(o),
      ...retrievalFlags(o),
      out: o.out,
      threads: parseThreads(o.threads),
      device: o.device,
      json: Boolean(o.json),
      kLists: parseKLists(o),
      shard: o.corpusShard !== undefined ? parseShard(o.corpusShard, 'shard') : (shardFromEnv() ?? undefined),
    },
    context(),
  );
});

const withEncoding = (c: Command) =>
  c
    .addOption(new Option('--device <device>', 'inference and scoring device').choices(['cpu', 'cuda']).default('cpu'))
    .option('--threads <n>', 'CPU threads (default: all cores)')
    .option('--query-prompt <text>', 'prompt before each query (default: the model\'s "query" prompt)')
    .option('--doc-prompt <text>', 'prompt before each document (default: the model\'s "document" prompt)')
    .option('--no-prompts', 'use no prompts')
    .option('--no-cache', 'do not read or write the embedding cache')
    .option('--cache-dir <dir>', 'embedding cache folder', DEFAULT_CACHE_DIR)
    .option('--quiet', 'no progress bar');
/** Runs that the registry records (eval, compare); encode and score write files only. */
const withLog = (c: Command) => c.option('--no-log', 'do not record the run in the registry');

/** A training run's output folder given as the (fine-tuned) model: which checkpoints, and the watch. */
const withTraining = (c: Command) =>
  c
    .option('--checkpoints <list>', 'a training output folder: only these checkpoints (steps, checkpoint-<step> names, or final; default: all)')
    .option('--watch', 'a training output folder: evaluate each new checkpoint as the trainer writes it; Ctrl-C ends the watch and writes the results so far')
    .option('--watch-interval <seconds>', 'with --watch: how often to look for new checkpoints', '5')
    .option('--watch-idle <seconds>', 'with --watch: end after this long without a new checkpoint (default: never)');

function trainingFlags(o: Record<string, unknown>, model: string) {
  if (!o.watch && o.checkpoints === undefined && !isTrainingOutput(model)) return null;
  const seconds = (v: unknown, flag: string) => (v === undefined ? undefined : parsePositiveInt(String(v), flag) * 1000);
  return {
    run: model,
    checkpoints: o.checkpoints === undefined ? undefined : parseList(String(o.checkpoints), '--checkpoints'),
    watch: o.watch
      ? { stop: new AbortController().signal, intervalMs: seconds(o.watchInterval, '--watch-interval'), idleMs: seconds(o.watchIdle, '--watch-idle') }
      : undefined,
  };
}

/** The one dataset of a command that takes one (or of a run that is not a suite). */
function oneData(o: Record<string, unknown>): string {
  const data = o.data as string[];
  if (isSuite(data)) throw new UserError(`--data: this run takes one dataset, got ${data.join(', ')} (eval and compare take several)`, 'ERR_OPTION');
  return data[0];
}

/** What eval and compare take alike: encoding, engine, registry, dims, output (not the data: one dataset or a suite). */
function runFlags(o: Record<string, unknown>) {
  return {
    ...encodeFlags(o),
    ...engineFlags(o),
    registry: registryOption(o),
    commandLine: commandLine(),
    load: loadFlags(o),
    dims: o.dims !== undefined ? parseIntList(o.dims as string, '--dims') : undefined,
    out: o.out as string,
    json: Boolean(o.json),
    kLists: parseKLists(o),
    ...retrievalFlags(o),
  };
}

const registryOption = (o: Record<string, unknown>): string | null =>
  o.log === false ? null : ((program.opts().registry as string | undefined) ?? defaultRegistryPath());

function encodeFlags(o: Record<string, unknown>): EncodingOptions & Pick<ScoringOptions, 'device' | 'threads'> {
  return {
    device: o.device as 'cpu' | 'cuda',
    threads: parseThreads(o.threads as string | undefined),
    queryPrompt: o.queryPrompt as string | undefined,
    documentPrompt: o.docPrompt as string | undefined,
    noPrompts: o.prompts === false,
    cacheDir: o.cache === false ? null : (o.cacheDir as string),
  };
}

withEngine(
  withKLists(
    withTraining(
      withData(
        withEncoding(
          withLog(withRetrieval(program.command('eval')))
            .description('encode a dataset with one model (or every checkpoint of a training run) and score it at several Matryoshka dims')
            .argument(
              '<model>',
              'model folder (ONNX or safetensors), .onnx file, Hub id org/name[@revision], or a training output folder (checkpoint-<step>/ folders)',
            )
            .option('--dims <list>', 'Matryoshka dims (default: the model width)')
            .option('--out <dir>', 'output folder', DEFAULT_OUT_DIR)
            .option('--model-name <name>', 'name in the registry (default: the folder name)')
            .option(
              '--chart-metric <name>',
              `training runs: metric that picks the best checkpoint and draws the chart (default: ${HEADLINE_METRIC}; trec: ndcg_at_10)`,
            )
            .option('--seed <n>', 'training runs: seed of the bootstrap and randomization test', String(DEFAULT_SEED))
            .option('--json', 'print results.json instead of the table'),
        ),
      ),
    ),
  ),
).action(async (model: string, o) => {
  if (isSuite(o.data)) {
    if (trainingFlags(o, model)) throw new UserError('--data: a training run evaluates on one dataset', 'ERR_OPTION');
    await evalSuiteCommand({ ...runFlags(o), data: expandData(o.data), modelName: o.modelName, model }, context({ quiet: o.quiet }));
    return;
  }
  const common = { ...runFlags(o), data: oneData(o) };
  const training = trainingFlags(o, model);
  if (training)
    await trainingCommand(
      { ...common, ...training, names: { run: o.modelName }, chartMetric: o.chartMetric, seed: parseSeed(o.seed) },
      context({ quiet: o.quiet }),
    );
  else await evalCommand({ ...common, modelName: o.modelName, model }, context({ quiet: o.quiet }));
});

withData(
  withEncoding(
    program
      .command('encode')
      .description("write query_embeddings.npy and corpus_embeddings.npy (the dataset's order) for `score`")
      .argument('<model>', 'model folder (ONNX or safetensors), .onnx file, or Hub id org/name[@revision]')
      .requiredOption('--out <dir>', 'output folder'),
  ).option('--shard <I/N>', 'encode slice I of N of the corpus and of the queries (default: from the Slurm or Kubernetes variables)'),
).action(async (model: string, o) => {
  const shard = o.shard !== undefined ? parseShard(o.shard, 'shard') : (shardFromEnv() ?? undefined);
  await encodeCommand({ ...encodeFlags(o), model, data: oneData(o), load: loadFlags(o), out: o.out, shard }, context({ quiet: o.quiet }));
});

withEngine(
  withKLists(
    withTraining(
      withData(
        withEncoding(
          withLog(withRetrieval(program.command('compare')))
            .description('base vs fine-tuned at every Matryoshka dim: metrics, significance, report.md and chart.png')
            .argument('<base>', 'base model: folder, .onnx file, or Hub id org/name[@revision]')
            .argument('<tuned>', 'fine-tuned model: folder, .onnx file, Hub id, or a training output folder (every checkpoint against the base)')
            .option('--dims <list>', 'Matryoshka dims, e.g. 768,512,256,128,64 (default: the smaller width)')
            .option('--chart-metric <name>', `metric for the chart and headline table (default: ${HEADLINE_METRIC}; trec: ndcg_at_10)`)
            .option('--seed <n>', 'seed of the bootstrap and randomization test', String(DEFAULT_SEED))
            .option('--out <dir>', 'output folder', DEFAULT_OUT_DIR)
            .option('--base-name <name>', 'base model name in the registry (default: the folder name)')
            .option('--tuned-name <name>', 'fine-tuned model name in the registry (default: the folder name)')
            .option('--movers-dim <d>', "the dim of report.md's gained and lost queries (default: the smallest)")
            .option(
              '--shard <I/N>',
              'run shard I of N only (corpus slice I), for `emb-bench merge` (default: from SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX with EMB_BENCH_SHARD_COUNT)',
            )
            .option('--json', 'print results.json instead of the table'),
        ),
      ),
    ),
  ),
).action(async (base: string, tuned: string, o) => {
  if (isSuite(o.data)) {
    if (trainingFlags(o, tuned)) throw new UserError('--data: a training run is compared on one dataset', 'ERR_OPTION');
    if (o.shard !== undefined) throw new UserError('--shard: a suite runs whole datasets; shard one dataset at a time', 'ERR_OPTION');
    await compareSuiteCommand(
      {
        ...runFlags(o),
        data: expandData(o.data),
        chartMetric: o.chartMetric as string | undefined,
        seed: parseSeed(o.seed),
        names: { base: o.baseName, tuned: o.tunedName },
        base,
        tuned,
      },
      context({ quiet: o.quiet }),
    );
    return;
  }
  const common = { ...runFlags(o), data: oneData(o), chartMetric: o.chartMetric as string, seed: parseSeed(o.seed) };
  const training = trainingFlags(o, tuned);
  if (training) {
    if (o.shard !== undefined) throw new UserError('--shard: a training run is not sharded; give one model as <tuned>', 'ERR_OPTION');
    await trainingCommand({ ...common, ...training, base, names: { base: o.baseName, run: o.tunedName } }, context({ quiet: o.quiet }));
  } else
    await compareCommand(
      {
        ...common,
        names: { base: o.baseName, tuned: o.tunedName },
        base,
        tuned,
        moversDim: o.moversDim === undefined ? undefined : parsePositiveInt(o.moversDim, '--movers-dim'),
        shard: o.shard !== undefined ? parseShard(o.shard, 'shard') : (shardFromEnv() ?? undefined),
      },
      context({ quiet: o.quiet }),
    );
});

program
  .command('merge')
  .description(
    "merge a sharded run's parts (compare --shard I/N, or score --corpus-shard I/N) into the outputs one host would write (and, for compare, its registry run), exactly",
  )
  .argument('<parts...>', "the shards' .part files (every shard of one run)")
  .requiredOption('--out <dir>', 'output folder')
  .option('--chart-metric <name>', `compare parts: metric for the chart and headline table (default: ${HEADLINE_METRIC})`)
  .option('--no-log', 'compare parts: do not record the run in the registry (score runs are never recorded)')
  .option('--json', 'print results.json instead of the table')
  .action(async (parts: string[], o) => {
    await mergeCommand(
      { parts, out: o.out, json: Boolean(o.json), chartMetric: o.chartMetric, registry: registryOption(o), commandLine: commandLine() },
      context(),
    );
  });

const parseVersion = (text: string): number | 'latest' => (text === 'latest' ? 'latest' : parsePositiveInt(text, 'VERSION'));
const openRegistry = () => (program.opts().registry as string | undefined) ?? defaultRegistryPath();
const models = program.command('models').description('models and versions in the registry');
models
  .command('list')
  .option('--json', 'print JSON')
  .action((o) => registryCommand(openRegistry(), { kind: 'models-list' }, o.json));
models
  .command('show')
  .argument('<name>')
  .option('--json', 'print JSON')
  .action((name: string, o) => registryCommand(openRegistry(), { kind: 'models-show', name }, o.json));
models
  .command('promote')
  .argument('<name>')
  .argument('<version>', "a version number, or 'latest'")
  .addOption(new Option('--stage <stage>', 'new stage').choices(['staging', 'production']).makeOptionMandatory())
  .option('--json', 'print JSON')
  .action((name: string, version: string, o) =>
    registryCommand(openRegistry(), { kind: 'models-promote', name, version: parseVersion(version), stage: o.stage }, o.json),
  );
models
  .command('log-metadata')
  .description(
    "attach metadata to a model version (as ZenML's log_model_metadata): --set key=value (dotted keys nest and merge into what was logged; values are JSON when they parse) or --file meta.json; every change is kept (models history)",
  )
  .argument('<name>')
  .argument('<version>', "a version number, or 'latest'")
  .option('--set <key=value...>', 'one or more key=value pairs')
  .option('--file <file>', 'a JSON object of metadata')
  .option('--replace', 'each top-level key given replaces its whole value instead of merging into it')
  .option('--json', 'print JSON')
  .action((name: string, version: string, o) =>
    registryCommand(
      openRegistry(),
      { kind: 'models-log-metadata', name, version: parseVersion(version), metadata: parseMetadata(o.set, o.file), replace: Boolean(o.replace) },
      o.json,
    ),
  );
models
  .command('history')
  .description("a version's metadata changes: when, who, from where, the old value and the new")
  .argument('<name>')
  .argument('<version>', "a version number, or 'latest'")
  .option('--json', 'print JSON')
  .action((name: string, version: string, o) => registryCommand(openRegistry(), { kind: 'models-history', name, version: parseVersion(version) }, o.json));
models
  .command('describe')
  .description('set the description of a model, or of one version with --model-version')
  .argument('<name>')
  .argument('<text>')
  .option('--model-version <n>', "a version number, or 'latest'")
  .option('--json', 'print JSON')
  .action((name: string, text: string, o) =>
    registryCommand(
      openRegistry(),
      { kind: 'models-describe', name, text, version: o.modelVersion === undefined ? undefined : parseVersion(o.modelVersion) },
      o.json,
    ),
  );
models
  .command('tag')
  .description('tag a model, or one version with --model-version: key=value or a bare key')
  .argument('<name>')
  .argument('[tags...]', 'key=value or key')
  .option('--model-version <n>', "a version number, or 'latest'")
  .option('--remove <keys...>', 'tag keys to remove')
  .option('--json', 'print JSON')
  .action((name: string, tags: string[], o) =>
    registryCommand(
      openRegistry(),
      {
        kind: 'models-tag',
        name,
        version: o.modelVersion === undefined ? undefined : parseVersion(o.modelVersion),
        set: Object.fromEntries(tags.map(parseTag)),
        remove: o.remove ?? [],
      },
      o.json,
    ),
  );
for (const [how, what] of [
  ['demote', 'step a version down: production to staging, staging to none'],
  ['archive', 'archive a version (from any stage)'],
] as const)
  models
    .command(how)
    .description(what)
    .argument('<name>')
    .argument('<version>', "a version number, or 'latest'")
    .option('--json', 'print JSON')
    .action((name: string, version: string, o) =>
      registryCommand(openRegistry(), { kind: 'models-demote', name, version: parseVersion(version), how }, o.json),
    );

/** The run filters of `runs list` and `runs export`. */
const withRunFilters = (c: Command) =>
  c
    .option('--model <name>', 'runs of this model')
    .option('--model-version <n>', 'with --model: of this version')
    .option('--dataset <name>', 'runs on this dataset (its name, or 8+ hex digits of its fingerprint)')
    .addOption(new Option('--status <status>', 'runs with this status').choices(['running', 'succeeded', 'failed', 'interrupted', 'abandoned']))
    .option('--command <command>', 'runs of this command (eval, compare, ...)')
    .option('--since <date>', 'runs started at or after this date or time (ISO 8601)')
    .option('--where <condition...>', "metric thresholds, all must hold: e.g. 'dim_256_cosine_ndcg@10>0.4' or 'tuned.dim_64_cosine_ndcg@10>=0.3'")
    .option('--tag <tag>', 'runs with this tag (key, or key=value)')
    .option('--limit <n>', 'at most this many runs, newest first');
const runFilter = (o: Record<string, unknown>): RunFilter => ({
  model: o.model as string | undefined,
  version: o.modelVersion === undefined ? undefined : parsePositiveInt(String(o.modelVersion), '--model-version'),
  dataset: o.dataset as string | undefined,
  status: o.status as RunFilter['status'],
  command: o.command as string | undefined,
  since: o.since as string | undefined,
  where: ((o.where as string[] | undefined) ?? []).map(parseMetricCondition),
  tag: o.tag as string | undefined,
});

const runs = program.command('runs').description('runs in the registry');
withRunFilters(runs.command('list').description('runs, newest first (50 unless --limit)'))
  .option('--json', 'print JSON')
  .action((o) =>
    registryCommand(
      openRegistry(),
      { kind: 'runs-list', filter: runFilter(o), limit: o.limit === undefined ? 50 : parsePositiveInt(o.limit, '--limit') },
      o.json,
    ),
  );
runs
  .command('show')
  .argument('<id>', 'run id or a unique prefix')
  .option('--json', 'print JSON')
  .action((id: string, o) => registryCommand(openRegistry(), { kind: 'runs-show', id }, o.json));
runs
  .command('diff')
  .argument('<id1>')
  .argument('<id2>')
  .option('--json', 'print JSON')
  .action((a: string, b: string, o) => registryCommand(openRegistry(), { kind: 'runs-diff', a, b }, o.json));
runs
  .command('compare')
  .description(
    "several runs' models side by side, one table per dataset, each tested against the reference from the per-query values the runs stored (Holm across the selection)",
  )
  .argument('<runs...>', 'run ids (or prefixes), each optionally :ROLE (base, tuned, model, checkpoint-500; default: its only model, else tuned)')
  .option('--reference <run>', 'the reference, one of the runs given (default: the first of each dataset)')
  .option('--metric <name>', 'metric', HEADLINE_METRIC)
  .option('--json', 'print JSON')
  .action((items: string[], o) => {
    const parsed = items.map((s) => {
      const at = s.indexOf(':');
      return at < 0 ? { run: s } : { run: s.slice(0, at), role: s.slice(at + 1) };
    });
    const reference = o.reference === undefined ? undefined : parsed.findIndex((p) => p.run === o.reference || `${p.run}:${p.role}` === o.reference);
    if (reference === -1) throw new UserError(`--reference: "${o.reference}" is not one of the runs given`, 'ERR_OPTION');
    return registryCommand(openRegistry(), { kind: 'runs-compare', items: parsed, reference, metric: o.metric }, o.json);
  });
runs
  .command('note')
  .description('say why a run was run (replaces its note)')
  .argument('<id>')
  .argument('<text>')
  .option('--json', 'print JSON')
  .action((id: string, text: string, o) => registryCommand(openRegistry(), { kind: 'runs-note', id, text }, o.json));
runs
  .command('tag')
  .argument('<id>')
  .argument('[tags...]', 'key=value or key')
  .option('--remove <keys...>', 'tag keys to remove')
  .option('--json', 'print JSON')
  .action((id: string, tags: string[], o) =>
    registryCommand(openRegistry(), { kind: 'runs-tag', id, set: Object.fromEntries(tags.map(parseTag)), remove: o.remove ?? [] }, o.json),
  );
runs
  .command('delete')
  .description('delete a run, its metrics and its stored artifacts (the model versions stay)')
  .argument('<id>')
  .option('--yes', 'really delete')
  .option('--json', 'print JSON')
  .action((id: string, o) => {
    if (!o.yes) throw new UserError(`runs delete ${id}: deleting removes the run's metrics and stored artifacts for good; add --yes`, 'ERR_OPTION');
    return registryCommand(openRegistry(), { kind: 'runs-delete', id }, o.json);
  });
withRunFilters(
  runs
    .command('export')
    .description(
      "the runs as a tidy table (run, model, version, dataset, dim, metric, value, and the run's settings) in CSV, Parquet or JSON; or one run's metadata as a ZenML step logs it (--format zenml)",
    )
    .argument('[ids...]', 'runs to export (default: those the filters select)')
    .addOption(new Option('--format <format>', 'file format').choices(['csv', 'parquet', 'json', 'zenml']).default('csv'))
    .option('--out <file>', 'write here (default: stdout; parquet needs a file)'),
).action((ids: string[], o) =>
  exportCommand(openRegistry(), {
    ids,
    format: o.format,
    filter: runFilter(o),
    limit: o.limit === undefined ? undefined : parsePositiveInt(o.limit, '--limit'),
    out: o.out,
  }),
);
runs
  .command('prune')
  .description('mark runs whose process ended without finishing them (killed, crashed) as failed')
  .requiredOption('--abandoned', 'prune abandoned runs (the only kind there is)')
  .option('--json', 'print JSON')
  .action((o) => registryCommand(openRegistry(), { kind: 'runs-prune' }, o.json));
program
  .command('registry')
  .description('the registry itself')
  .command('copy')
  .description('copy a registry into another, e.g. a local SQLite file into a shared PostgreSQL database (or back); copying again adds nothing')
  .argument('<from>', 'SQLite file or postgres:// URL')
  .argument('<to>', 'SQLite file or postgres:// URL (created when missing)')
  .option('--json', 'print JSON')
  .action((from: string, to: string, o) => copyCommand(from, to, Boolean(o.json), context().signal));

const cache = program.command('cache').description('the embedding cache');
cache
  .command('compact')
  .description("rewrite each model's cached segments as one, without duplicates or damaged records")
  .option('--cache-dir <dir>', 'embedding cache folder', DEFAULT_CACHE_DIR)
  .action((o) => {
    const r = compactCacheDir(o.cacheDir, warn);
    process.stdout.write(`compacted ${r.folders} cache folder(s): ${r.before} segment(s) -> ${r.after}, ${r.records} embeddings\n`);
  });

program
  .command('ui')
  .description('the registry as a local web dashboard: models, versions, runs, comparisons (prints the URL)')
  .option('--port <n>', 'port', '4280')
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--allow-write', 'allow stage promotion from the page')
  .action(async (o) => {
    const host = o.host as string;
    const dashboard = await startDashboard({ registry: openRegistry(), host, port: parsePort(o.port), allowWrite: Boolean(o.allowWrite) });
    if (!['127.0.0.1', 'localhost', '::1'].includes(host)) warn(`--host ${host}: the dashboard is reachable from other machines; it has no login`);
    const remote = dashboard.remoteUrl ? `, ${dashboard.remoteUrl} from other machines` : '';
    process.stdout.write(`emb-bench dashboard at ${dashboard.url}${remote} (${o.allowWrite ? 'read-write' : 'read-only'}; Ctrl-C stops it)\n`);
    await waitForSignal();
    await dashboard.close();
  });

program
  .command('doctor')
  .description('which engines, providers and devices this host can use, and why not')
  .option('--json', 'print JSON')
  .action((o) => {
    const checks = doctor();
    if (o.json) process.stdout.write(JSON.stringify(checks, null, 2) + '\n');
    else for (const c of checks) process.stdout.write(`${c.ok ? 'ok  ' : 'no  '} ${c.what}: ${c.detail}\n`);
  });

program
  .command('demo')
  .description('the main job on a synthetic dataset and two small models made on the spot (no downloads)')
  .option('--out <dir>', 'output folder', DEFAULT_DEMO_DIR)
  .option('--no-log', 'do not record the run in the registry')
  .action(async (o) => {
    await demoCommand({ out: o.out, registry: registryOption(o) }, context());
  });

async function main(): Promise<void> {
  installSignalHandlers();
  installErrorHandlers(process.argv.includes('--verbose'));
  program.hook('preAction', (_, command) => {
    const scores = ['score', 'eval', 'compare', 'demo'].includes(command.name());
    const engine = scores ? engineInfo() : null;
    if (engine && !engine.native) warn(`native engine unavailable (${engine.reason}); using the slower TypeScript engine`);
  });
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    // commander has printed its one line; --help and --version end here too, with 0
    if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? 0 : 2;
    else process.exitCode = reportError(e, process.argv.includes('--verbose'));
  }
}

await main();
