// `emb-bench doctor`: which engines, providers and devices this host can use, and why not.
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import ort from 'onnxruntime-node';
import { defaultRegistryPath } from './registry/index.js';
import { engineInfo } from './score/index.js';
import { VERSION } from './version.js';

export interface DoctorCheck {
  what: string;
  ok: boolean;
  detail: string;
}

export function doctor(): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const engine = engineInfo();
  checks.push({ what: 'emb-bench', ok: true, detail: `${VERSION} on Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB` });
  checks.push({
    what: 'CPU scoring engine',
    ok: engine.native,
    detail: engine.native ? `native addon (${engine.reason}), ${engine.kernel} kernel, ${engine.threads} threads` : `TypeScript fallback: ${engine.reason}`,
  });
  checks.push({
    what: 'GPU scoring engine (--device cuda)',
    ok: engine.cudaDevices > 0,
    detail: !engine.native ? 'needs the native addon' : engine.cudaDevices > 0 ? `${engine.cudaDevices} device(s): ${engine.cuda}` : (engine.cuda ?? 'unknown'),
  });
  const backends = ort.listSupportedBackends();
  const require = createRequire(import.meta.url);
  let ortVersion = 'unknown';
  try {
    ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    /* keep unknown */
  }
  checks.push({ what: 'ONNX encoding on CPU', ok: backends.some((b) => b.name === 'cpu'), detail: `onnxruntime-node ${ortVersion}` });
  const cuda = backends.find((b) => b.name === 'cuda');
  checks.push({
    what: 'ONNX encoding on CUDA (--device cuda)',
    ok: Boolean(cuda && cuda.bundled !== false),
    detail: cuda && cuda.bundled !== false
      ? 'CUDA execution provider installed'
      : "onnxruntime-node's CUDA execution provider is not installed; on a host with network access and CUDA 12: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node",
  });
  checks.push({ what: 'registry', ok: true, detail: defaultRegistryPath() });
  return checks;
}
