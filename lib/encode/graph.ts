// The ONNX graph a model runs: the exported file as it is, or for a safetensors checkpoint the
// graph built from its weights, kept in a cache keyed by the model files' sha256 and the graph
// builder's version, so a second run does not rebuild it.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { readCheckpoint } from '../onnx/safetensors.js';
import { buildEncoderGraph, encoderConfig, GRAPH_VERSION, maxPositions } from '../onnx/transformer.js';
import type { ModelSpec } from './model.js';

/** A path onnxruntime loads, or the graph's bytes. */
export function modelGraph(spec: ModelSpec, cacheDir: string | null | undefined, onWarning?: (m: string) => void): string | Uint8Array {
  if (spec.format === 'onnx' || !spec.weights) return spec.onnxPath;
  const { files, config: configPath } = spec.weights;
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (e) {
    throw new UserError(`${configPath}: not valid JSON (${(e as Error).message.split('\n')[0]})`, 'ERR_MODEL_CONFIG');
  }
  const cfg = encoderConfig(config, configPath);
  const key = createHash('sha256').update(`${spec.sha256}\0graph-v${GRAPH_VERSION}`).digest('hex').slice(0, 32);
  const cached = cacheDir ? join(cacheDir, 'graphs', `${key}.onnx`) : null;
  if (cached && existsSync(cached)) return cached;
  const weights = readCheckpoint(files);
  const positions = maxPositions(cfg, weights);
  if (spec.maxSeqLength > positions)
    throw new UserError(`${configPath}: max_seq_length ${spec.maxSeqLength} is longer than the model's ${positions} positions`, 'ERR_MODEL_CONFIG');
  const graph = buildEncoderGraph(cfg, weights, files[0]);
  if (cached) {
    const tmp = `${cached}.${process.pid}-${randomBytes(4).toString('hex')}.part`;
    try {
      mkdirSync(join(cacheDir!, 'graphs'), { recursive: true });
      writeFileSync(tmp, graph);
      renameSync(tmp, cached);
    } catch (e) {
      rmSync(tmp, { force: true });
      onWarning?.(
        `graph cache ${join(cacheDir!, 'graphs')}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the graph is rebuilt next time`,
      );
    }
  }
  return graph;
}
