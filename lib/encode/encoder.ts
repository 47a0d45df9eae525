// Text -> embeddings as sentence-transformers computes them for the same model: its tokenizer,
// truncation to max_seq_length, the graph's inputs, pooling, Normalize; batches of similar
// length under a token budget; and a cache so a second run does no inference.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { Tokenizer } from 'tokenizers';
import { checkAborted, RuntimeError, UserError } from '../errors.js';
import type { Matrix } from '../data/matrix.js';
import type { ProgressListener } from '../progress.js';
import { checkThreads } from '../host.js';
import { EmbeddingCache, textHash } from './cache.js';
import { modelGraph } from './graph.js';
import { type HubOptions, locateModel } from '../hub/hub.js';
import { readModel, type ModelOverrides, type ModelSpec } from './model.js';
import { normalizeRows, pool } from './pooling.js';

export interface EncoderOptions extends ModelOverrides {
  device?: 'cpu' | 'cuda';
  /** onnxruntime's intra-op threads (default: all cores; capped at the core count). */
  threads?: number;
  /** Folder of the embedding cache; null disables it. */
  cacheDir?: string | null;
  /** Padded tokens per batch (rows x longest row). */
  tokenBudget?: number;
  maxBatch?: number;
  onProgress?: ProgressListener;
  /** Things the run goes on despite (an unreadable cache file, ...), one line each. */
  onWarning?: (message: string) => void;
  /** Stops encoding between batches with InterruptedError. */
  signal?: AbortSignal;
  /** Where Hub ids are downloaded from and cached (default: the environment, as huggingface_hub reads it). */
  hub?: Pick<HubOptions, 'endpoint' | 'token' | 'cacheDir' | 'offline'>;
  /** Tokenizations shared by encoders with the same tokenizer (a training run's checkpoints): each text is tokenized once. */
  tokens?: TokenMemo;
}

/**
 * Tokenized texts kept across encoders: keyed by the tokenizer file's sha256 and max_seq_length
 * (what decides the tokens), so checkpoints of one training run tokenize the data once.
 */
export class TokenMemo {
  private readonly byTokenizer = new Map<string, Map<string, Tokenized>>();
  /** Texts tokenized, and texts served from the memo. */
  tokenized = 0;
  served = 0;

  table(tokenizerPath: string, maxSeqLength: number): Map<string, Tokenized> {
    const key = `${createHash('sha256').update(readFileSync(tokenizerPath)).digest('hex')}:${maxSeqLength}`;
    let t = this.byTokenizer.get(key);
    if (!t) this.byTokenizer.set(key, (t = new Map()));
    return t;
  }
}

/** Characters kept per max_seq_length token before tokenizing: a token spans at least one
 * character, so a text cut there (at a space) still fills max_seq_length tokens; if it does
 * not, the whole text is tokenized instead, so the result never changes. */
const CHARS_PER_TOKEN = 16;

export type TextKind = 'query' | 'document';

export interface Tokenized {
  ids: number[];
  typeIds: number[];
}

export class Encoder {
  private caches = new Map<string, EmbeddingCache>();
  /** Texts embedded by the model (not served from the cache) since load. */
  inferred = 0;

  private constructor(
    readonly spec: ModelSpec,
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: Tokenizer,
    private readonly output: { name: string; pooled: boolean },
    private readonly options: EncoderOptions,
  ) {}

  /**
   * Loads a model: a local folder or .onnx file, or a Hub id (org/name[@revision]) fetched into
   * the shared Hugging Face cache.
   * @throws UserError on a missing or malformed model, a Hub failure, or a missing CUDA provider.
   */
  static async load(path: string, options: EncoderOptions = {}): Promise<Encoder> {
    const located = await locateModel(path, { ...options.hub, onProgress: options.onProgress, onWarning: options.onWarning, signal: options.signal });
    const spec = readModel(located.dir, options);
    if (located.hub) Object.assign(spec, { path: `hf://${located.hub.id}@${located.hub.commit}`, name: located.hub.id, hub: located.hub });
    let tokenizer: Tokenizer;
    try {
      tokenizer = Tokenizer.fromFile(spec.tokenizerPath);
    } catch (e) {
      // tokenizers glues its context to the cause ("Error loading from fileEOF while parsing..."): the cause alone
      const cause = (e as Error).message.split('\n')[0].replace(/^Error loading from file:?\s*/, '');
      throw new UserError(`${spec.tokenizerPath}: cannot load the tokenizer (${cause})`, 'ERR_TOKENIZER');
    }
    // Special tokens count toward max_seq_length, as in sentence-transformers.
    tokenizer.setTruncation(spec.maxSeqLength);
    tokenizer.disablePadding();
    const device = options.device ?? 'cpu';
    if (device === 'cuda' && !ort.listSupportedBackends().some((b) => b.name === 'cuda' && b.bundled !== false))
      throw new UserError(
        'device cuda: onnxruntime-node has no CUDA execution provider here (install it on a host with network access: ' +
          'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node)',
        'ERR_NO_CUDA_EP',
        'device',
      );
    let session: ort.InferenceSession;
    try {
      const graph = modelGraph(spec, options.cacheDir, options.onWarning);
      const sessionOptions: ort.InferenceSession.SessionOptions = {
        executionProviders: [device],
        intraOpNumThreads: checkThreads(options.threads),
        graphOptimizationLevel: 'all',
        // emb-bench reports failures itself, in one line; onnxruntime's own log would repeat them.
        logSeverityLevel: 4,
      };
      try {
        session =
          typeof graph.source === 'string'
            ? await ort.InferenceSession.create(graph.source, sessionOptions)
            : await ort.InferenceSession.create(graph.source, sessionOptions);
      } finally {
        graph.release(); // onnxruntime has read the weights by now
      }
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`${spec.modelFile}: onnxruntime cannot load this model (${(e as Error).message.split('\n')[0]})`, 'ERR_ONNX');
    }
    const known = ['input_ids', 'attention_mask', 'token_type_ids'];
    const unknown = session.inputNames.filter((n) => !known.includes(n));
    if (unknown.length || !session.inputNames.includes('input_ids'))
      throw new UserError(
        `${spec.modelFile}: graph inputs are [${session.inputNames.join(', ')}]; expected input_ids and optionally attention_mask, token_type_ids`,
        'ERR_GRAPH',
      );
    let output: { name: string; pooled: boolean };
    if (session.outputNames.includes('sentence_embedding')) output = { name: 'sentence_embedding', pooled: true };
    else {
      const name = ['token_embeddings', 'last_hidden_state'].find((n) => session.outputNames.includes(n));
      if (!name)
        throw new UserError(
          `${spec.modelFile}: graph outputs are [${session.outputNames.join(', ')}]; expected sentence_embedding, token_embeddings or last_hidden_state`,
          'ERR_GRAPH',
        );
      if (spec.pooling.length === 0)
        throw new UserError(
          `${spec.path}: 1_Pooling/config.json not found and the graph has no sentence_embedding output (add the Pooling module's config, as sentence-transformers saves it)`,
          'ERR_POOLING',
        );
      output = { name, pooled: false };
    }
    return new Encoder(spec, session, tokenizer, output, options);
  }

  private probedWidth = 0;

  /** The embedding width, from one tiny inference (not cached, not counted). */
  async width(): Promise<number> {
    if (!this.probedWidth) {
      const tokens = await this.tokenize(['width probe']);
      const out = await this.runBatch(tokens, Math.max(1, tokens[0].ids.length), 0);
      this.probedWidth = out.length;
    }
    return this.probedWidth;
  }

  /** The cache of `kind`'s embeddings; queries and documents share one when their prompts are equal (one read, one warning). */
  private cache(kind: TextKind): EmbeddingCache | null {
    if (this.options.cacheDir === null || this.options.cacheDir === undefined) return null;
    const s = this.spec;
    const key = {
      model: s.sha256,
      prompt: kind === 'query' ? s.prompts.query : s.prompts.document,
      maxSeqLength: s.maxSeqLength,
      pooling: this.output.pooled ? 'graph' : s.pooling,
      includePrompt: s.includePrompt,
      normalize: s.normalize,
      output: this.output.name,
    };
    const id = JSON.stringify(key);
    let c = this.caches.get(id);
    if (!c) {
      c = EmbeddingCache.forKey(this.options.cacheDir, key, this.options.onWarning);
      this.caches.set(id, c);
    }
    return c;
  }

  private memo: Map<string, Tokenized> | undefined;

  private async tokenize(texts: string[]): Promise<Tokenized[]> {
    const shared = this.options.tokens;
    if (!shared) return this.tokenizeAll(texts);
    this.memo ??= shared.table(this.spec.tokenizerPath, this.spec.maxSeqLength);
    const memo = this.memo;
    const missing = [...new Set(texts.filter((t) => !memo.has(t)))];
    const made = await this.tokenizeAll(missing);
    missing.forEach((t, i) => memo.set(t, made[i]));
    shared.tokenized += missing.length;
    shared.served += texts.length - missing.length;
    return texts.map((t) => memo.get(t)!);
  }

  private async tokenizeAll(texts: string[]): Promise<Tokenized[]> {
    const budget = this.spec.maxSeqLength * CHARS_PER_TOKEN;
    const cut = (t: string) => {
      if (t.length <= budget) return t;
      const space = t.lastIndexOf(' ', budget);
      return t.slice(0, space > budget / 2 ? space : budget);
    };
    const out: Tokenized[] = [];
    for (let i = 0; i < texts.length; i += 1024) {
      checkAborted(this.options.signal);
      const chunk = texts.slice(i, i + 1024);
      const encodings = await this.tokenizer.encodeBatch(chunk.map(cut));
      for (let j = 0; j < encodings.length; j++) {
        let e = encodings[j];
        if (chunk[j].length > budget && e.getIds().length < this.spec.maxSeqLength) e = await this.tokenizer.encode(chunk[j]);
        out.push({ ids: e.getIds(), typeIds: e.getTypeIds() });
      }
    }
    return out;
  }

  /** Embeddings of `texts` in order: one row each. */
  async encode(texts: string[], { kind }: { kind: TextKind }): Promise<Matrix> {
    const prompt = kind === 'query' ? this.spec.prompts.query : this.spec.prompts.document;
    const inputs = texts.map((t) => prompt + t);
    const cache = this.cache(kind);
    const hashes = cache ? inputs.map(textHash) : [];
    const rows: Array<Float32Array | undefined> = cache ? cache.lookup(hashes).rows : new Array(texts.length);
    try {
      await this.infer(kind, texts, inputs, prompt, rows, hashes, cache);
    } finally {
      cache?.close();
    }
    const width = rows.length ? rows[0]!.length : 0;
    const data = new Float32Array(texts.length * width);
    rows.forEach((r, i) => {
      if (r!.length !== width) throw new RuntimeError(`${this.spec.modelFile}: embeddings of different widths (${r!.length} and ${width})`, 'ERR_GRAPH');
      data.set(r!, i * width);
    });
    return { data, rows: texts.length, cols: width };
  }

  private async infer(
    kind: TextKind,
    texts: string[],
    inputs: string[],
    prompt: string,
    rows: Array<Float32Array | undefined>,
    hashes: string[],
    cache: EmbeddingCache | null,
  ): Promise<void> {
    const todo: number[] = [];
    for (let i = 0; i < texts.length; i++) if (!rows[i]) todo.push(i);
    if (todo.length) {
      const tokens = await this.tokenize(todo.map((i) => inputs[i]));
      // Prompt tokens leave the pooling when include_prompt is false (sentence-transformers:
      // prompt_length = len(tokenized prompt) - 1, the trailing special token).
      const promptLength = prompt && !this.spec.includePrompt ? (await this.tokenize([prompt]))[0].ids.length - 1 : 0;
      const order = todo.map((_, j) => j).sort((a, b) => tokens[b].ids.length - tokens[a].ids.length);
      const budget = this.options.tokenBudget ?? 4096; // small batches stay in cache: 16384 measured ~25% slower (bench/README.md)
      const maxBatch = this.options.maxBatch ?? 256;
      const label = `encoding ${kind === 'query' ? 'queries' : 'documents'}`;
      const report = (done: number) => this.options.onProgress?.({ label, done, total: todo.length, unit: 'texts' });
      let done = 0;
      report(0);
      for (let start = 0; start < order.length; ) {
        checkAborted(this.options.signal);
        const longest = Math.max(1, tokens[order[start]].ids.length);
        const size = Math.max(1, Math.min(maxBatch, Math.floor(budget / longest), order.length - start));
        const batch = order.slice(start, start + size);
        const embedded = await this.runBatch(
          batch.map((j) => tokens[j]),
          longest,
          promptLength,
        );
        const width = embedded.length / batch.length;
        const bad = embedded.findIndex((x) => !Number.isFinite(x));
        if (bad >= 0) {
          const i = todo[batch[Math.floor(bad / width)]];
          throw new UserError(
            `${this.spec.modelFile}: the model's embedding of ${kind} ${i + 1} (${JSON.stringify(texts[i].slice(0, 60))}) has a non-finite value (${embedded[bad]}) at column ${bad % width}`,
            'ERR_EMBEDDING_VALUE',
          );
        }
        batch.forEach((j, b) => (rows[todo[j]] = embedded.subarray(b * width, (b + 1) * width)));
        cache?.add(
          batch.map((j) => hashes[todo[j]]),
          embedded,
          width,
        );
        this.inferred += batch.length;
        start += size;
        report((done += batch.length));
      }
    }
  }

  private async runBatch(batch: Tokenized[], seq: number, promptLength: number): Promise<Float32Array> {
    const n = batch.length;
    const ids = new BigInt64Array(n * seq);
    const typeIds = new BigInt64Array(n * seq);
    const attention = new BigInt64Array(n * seq);
    const poolMask = new Uint8Array(n * seq);
    batch.forEach((t, b) => {
      for (let i = 0; i < t.ids.length; i++) {
        ids[b * seq + i] = BigInt(t.ids[i]);
        typeIds[b * seq + i] = BigInt(t.typeIds[i] ?? 0);
        attention[b * seq + i] = 1n;
        poolMask[b * seq + i] = i >= promptLength ? 1 : 0;
      }
    });
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', ids, [n, seq]) };
    if (this.session.inputNames.includes('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', attention, [n, seq]);
    if (this.session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', typeIds, [n, seq]);
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.session.run(feeds, [this.output.name]);
    } catch (e) {
      throw new RuntimeError(`${this.spec.modelFile}: inference failed (${(e as Error).message.split('\n')[0]})`, 'ERR_INFERENCE');
    }
    const tensor = result[this.output.name];
    let out: Float32Array;
    if (this.output.pooled) {
      if (tensor.dims.length !== 2)
        throw new RuntimeError(`${this.spec.modelFile}: sentence_embedding has shape [${tensor.dims}], expected rank 2`, 'ERR_GRAPH');
      out = Float32Array.from(tensor.data as Float32Array);
    } else {
      if (tensor.dims.length !== 3)
        throw new RuntimeError(`${this.spec.modelFile}: ${this.output.name} has shape [${tensor.dims}], expected rank 3`, 'ERR_GRAPH');
      const width = Number(tensor.dims[2]);
      out = new Float32Array(n * width * this.spec.pooling.length);
      pool(tensor.data as Float32Array, n, seq, width, poolMask, this.spec.pooling, out);
    }
    if (this.spec.normalize) normalizeRows(out, n, out.length / n);
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
