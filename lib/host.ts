// What this host and this install are: recorded with every run and shown by `doctor`.
import { createRequire } from 'node:module';
import { availableParallelism, cpus, hostname, totalmem } from 'node:os';
import { invalidParameter } from './errors.js';
import { engineInfo } from './score/engine.js';
import { VERSION } from './version.js';

const require = createRequire(import.meta.url);

/** The installed version of a dependency, or 'unknown'. */
export function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function software(): Record<string, string> {
  return {
    'emb-bench': VERSION,
    node: process.version,
    'onnxruntime-node': packageVersion('onnxruntime-node'),
    tokenizers: packageVersion('tokenizers'),
    engine: engineInfo().kernel,
  };
}

export interface Hardware {
  host: string;
  cpu: string;
  cores: number;
  memory_gib: number;
  device: string;
  gpu: string | null;
}

export function hardware(device = 'cpu'): Hardware {
  const info = engineInfo();
  return {
    host: hostname(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    device,
    gpu: device === 'cuda' ? info.cuda : null,
  };
}

/** Whether process `pid` is alive on this host. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Threads for CPU work: a positive integer, capped at the cores this process may use (0 or undefined: all). */
export function checkThreads(threads: number | undefined): number {
  if (threads === undefined || threads === 0) return availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw invalidParameter('threads', 'a positive integer', threads);
  return Math.min(threads, availableParallelism());
}
