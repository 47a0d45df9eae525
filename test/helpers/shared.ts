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

/** Deterministic pseudo-random numbers: the package's own generator. */
export { seededRandom as rng } from '../../lib/random.js';
