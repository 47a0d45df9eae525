// The ONNX graph a model runs: the exported file as it is, or for a safetensors checkpoint the
// graph built from its weights, kept in a cache keyed by the model files' sha256 and the graph
// builder's version, so a second run does not rebuild it. Weights past EXTERNAL_ABOVE bytes go
// to an external data file beside the graph (protobuf holds at most 2 GiB: XLM-R large is 2.3).
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { readCheckpoint } from '../onnx/safetensors.js';
import { buildEncoderGraph, encoderConfig, GRAPH_VERSION, maxPositions } from '../onnx/transformer.js';
import type { ModelSpec } from './model.js';

/** Weight bytes above which the graph is written with external data (EMB_BENCH_EXTERNAL_DATA_ABOVE overrides, for tests). */
const EXTERNAL_ABOVE = Number(process.env.EMB_BENCH_EXTERNAL_DATA_ABOVE) || 1.5 * 2 ** 30;

export interface ModelGraph {
  /** A path onnxruntime loads, or the graph's bytes. */
  source: string | Uint8Array;
  /** Removes what was written only for this load (an uncached external-data graph). */
  release(): void;
}

const errText = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

export function modelGraph(spec: ModelSpec, cacheDir: string | null | undefined, onWarning?: (m: string) => void): ModelGraph {
  const keep = { release() {} };
  if (spec.format === 'onnx' || !spec.weights) return { source: spec.modelFile, ...keep };
  const { files, config: configPath } = spec.weights;
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (e) {
    throw new UserError(`${configPath}: not valid JSON (${(e as Error).message.split('\n')[0]})`, 'ERR_MODEL_CONFIG');
  }
  const cfg = encoderConfig(config, configPath);
  const key = createHash('sha256').update(`${spec.sha256}\0graph-v${GRAPH_VERSION}`).digest('hex').slice(0, 32);
  const graphs = cacheDir ? join(cacheDir, 'graphs') : null;
  if (graphs && existsSync(join(graphs, `${key}.onnx`))) return { source: join(graphs, `${key}.onnx`), ...keep };
  if (graphs && existsSync(join(graphs, key, 'model.onnx'))) return { source: join(graphs, key, 'model.onnx'), ...keep };
  const weights = readCheckpoint(files);
  const positions = maxPositions(cfg, weights);
  if (spec.maxSeqLength > positions)
    throw new UserError(`${configPath}: max_seq_length ${spec.maxSeqLength} is longer than the model's ${positions} positions`, 'ERR_MODEL_CONFIG');
  const graph = buildEncoderGraph(cfg, weights, files[0], onWarning);
  if (graph.weightBytes <= EXTERNAL_ABOVE) {
    const model = graph.model(17);
    if (graphs) {
      const tmp = join(graphs, `${key}.onnx.${process.pid}-${randomBytes(4).toString('hex')}.part`);
      try {
        mkdirSync(graphs, { recursive: true });
        writeFileSync(tmp, model);
        renameSync(tmp, join(graphs, `${key}.onnx`));
      } catch (e) {
        rmSync(tmp, { force: true });
        onWarning?.(`graph cache ${graphs}: cannot write (${errText(e)}); the graph is rebuilt next time`);
      }
    }
    return { source: model, ...keep };
  }
  // External data: a folder holding model.onnx and model.onnx.data, written whole then renamed.
  const { model, data } = graph.model(17, 'model.onnx.data');
  const write = (dir: string) => {
    writeFileSync(join(dir, 'model.onnx'), model);
    const fd = openSync(join(dir, 'model.onnx.data'), 'w');
    try {
      for (const chunk of data) writeSync(fd, chunk);
    } finally {
      closeSync(fd);
    }
  };
  if (graphs) {
    const tmp = join(graphs, `${key}.${process.pid}-${randomBytes(4).toString('hex')}.part`);
    try {
      mkdirSync(tmp, { recursive: true });
      write(tmp);
      renameSync(tmp, join(graphs, key));
      return { source: join(graphs, key, 'model.onnx'), ...keep };
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      onWarning?.(`graph cache ${graphs}: cannot write (${errText(e)}); the graph is written to a temporary folder instead`);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'emb-bench-graph-'));
  try {
    write(dir);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new UserError(`${dir}: cannot write the model's graph (${errText(e)})`, 'ERR_OUT');
  }
  return { source: join(dir, 'model.onnx'), release: () => rmSync(dir, { recursive: true, force: true }) };
}
