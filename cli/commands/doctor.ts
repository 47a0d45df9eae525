// `emb-bench doctor`: which engines, providers and devices this host can use, and why not.
import ort from 'onnxruntime-node';
import { defaultRegistryPath, engineInfo, hardware, packageVersion, redact, VERSION } from '../../lib/index.js';

export interface DoctorCheck {
  what: string;
  ok: boolean;
  detail: string;
}

export function doctor(): DoctorCheck[] {
  const engine = engineInfo();
  const host = hardware();
  const backends = ort.listSupportedBackends();
  const cuda = backends.find((b) => b.name === 'cuda');
  const cudaEp = Boolean(cuda && cuda.bundled !== false);
  return [
    { what: 'emb-bench', ok: true, detail: `${VERSION} on Node ${process.version}, ${host.cpu}, ${host.cores} cores, ${host.memory_gib} GiB` },
    {
      what: 'CPU scoring engine',
      ok: engine.native,
      detail: engine.native ? `native addon (${engine.reason}), ${engine.kernel} kernel, ${engine.threads} threads` : `TypeScript fallback: ${engine.reason}`,
    },
    {
      what: 'GPU scoring engine (--device cuda)',
      ok: engine.cudaDevices > 0,
      detail: !engine.native
        ? 'needs the native addon'
        : engine.cudaDevices > 0
          ? `${engine.cudaDevices} device(s): ${engine.cuda}`
          : (engine.cuda ?? 'unknown'),
    },
    { what: 'ONNX encoding on CPU', ok: backends.some((b) => b.name === 'cpu'), detail: `onnxruntime-node ${packageVersion('onnxruntime-node')}` },
    {
      what: 'ONNX encoding on CUDA (--device cuda)',
      ok: cudaEp,
      detail: cudaEp
        ? 'CUDA execution provider installed'
        : "onnxruntime-node's CUDA execution provider is not installed; on a host with network access and CUDA 12: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node",
    },
    { what: 'registry', ok: true, detail: redact(defaultRegistryPath()) },
  ];
}
