// The command line under a virtual-memory limit (ulimit -v, as on HPC clusters).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/shared.js';
import { tmp } from './helpers/reliability.js';

describe('under a virtual-memory limit (ulimit -v, as on HPC clusters)', () => {
  const limited = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile('sh', ['-c', `ulimit -v 8000000 && exec "$0" "$@"`, process.execPath, join(ROOT, 'bin', 'emb-bench.js'), ...args], (e, stdout, stderr) =>
        resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );

  it('a logged compare runs, and a PostgreSQL registry that cannot be reached is one line (no WebAssembly trace)', async () => {
    const dir = tmp();
    const ok = await limited(['--registry', join(dir, 'r.db'), 'demo', '--out', join(dir, 'demo')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/registry run [0-9a-f-]{36}/);
    const pg = await limited(['--registry', 'postgres://emb@127.0.0.1:1/x', 'models', 'list']);
    expect(pg.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^emb-bench: postgres:\/\/emb@127\.0\.0\.1:1\/x: cannot connect to PostgreSQL at 127\.0\.0\.1:1/),
    ]);
    expect(pg.code).not.toBe(0);
  }, 120_000);
});
