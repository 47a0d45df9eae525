// ../shared holds real data and golden numbers; tests that need it skip cleanly without it.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const SHARED = process.env.EMB_BENCH_SHARED ?? resolve(ROOT, '..', 'shared');
export const HAS_SHARED = existsSync(join(SHARED, 'golden'));
export const shared = (...parts: string[]) => join(SHARED, ...parts);

const run = promisify(execFile);

// CLI runs in tests log to a throwaway registry unless a test names one.
const TEST_REGISTRY = join(mkdtempSync(join(tmpdir(), 'emb-registry-')), 'registry.db');

/** Runs the built CLI; resolves with exit code, stdout and stderr (never throws on exit != 0). */
export async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'bin', 'emb-bench.js'), ...args], {
      env: { ...process.env, EMB_BENCH_REGISTRY: TEST_REGISTRY, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
