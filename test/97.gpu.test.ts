// The GPU engine: it compiles where nvcc is; without a GPU, asking for it gives a clear error
// (no crash, no silent CPU run); with one, it gives the CPU engine's answers. Everywhere, its
// own kernels and host code run under the host emulation (native/cuda/emu) and must give the
// CPU engine's answers bit for bit.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../lib/errors.js';
import { loadNative } from '../lib/score/native.js';
import { engineInfo, scoreTopK } from '../lib/score/index.js';
import { writeNpy } from '../lib/data/npy.js';
import { cli, HAS_SHARED, ROOT, rng, shared } from './helpers/shared.js';
import { writeTinyBeir } from './helpers/tiny-data.js';

const tmp = () => join(mkdtempSync(join(tmpdir(), 'emb-gpu-')), 'out');

function has(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const hasNvcc = () => has('nvcc');

const m = { data: new Float32Array(64).fill(0.5), rows: 4, cols: 16 };

describe('GPU engine', () => {
  // `npm run build:native` (cmake-js) compiles the CUDA engine where nvcc is; `npm ci` alone
  // installs the CPU addon. The test follows what was built.
  const cmakeAddon = join(ROOT, 'build-cmake', 'Release', 'emb_bench.node');
  it.skipIf(!hasNvcc() || !existsSync(cmakeAddon) || process.env.EMB_BENCH_ADDON !== undefined)(
    'a cmake-js build on a host with nvcc compiled the CUDA engine, and is the one loaded',
    () => {
      const { addon, reason } = loadNative();
      expect(reason).toBe(cmakeAddon);
      expect(addon!.info().cudaCompiled).toBe(true);
    },
  );

  it.skipIf(engineInfo().cudaDevices > 0)('--device cuda without a GPU is a UserError that says why', async () => {
    await expect(scoreTopK(m, m, { dims: [16], k: 2, device: 'cuda' })).rejects.toThrow(UserError);
    await expect(scoreTopK(m, m, { dims: [16], k: 2, device: 'cuda' })).rejects.toThrow(
      /^device cuda: .*(no usable CUDA device|no CUDA device|no CUDA engine|this build of emb-bench)/,
    );
  });

  it.skipIf(engineInfo().cudaDevices === 0)('on a GPU: the same top-k as the CPU engine (near-ties aside)', async () => {
    const u = rng(3);
    const rand = () => u() * 2 - 1;
    const q = { data: Float32Array.from({ length: 300 * 96 }, rand), rows: 300, cols: 96 };
    const c = { data: Float32Array.from({ length: 9000 * 96 }, rand), rows: 9000, cols: 96 };
    const dims = [96, 64, 17];
    const cpu = await scoreTopK(q, c, { dims, k: 50 });
    const gpu = await scoreTopK(q, c, { dims, k: 50, device: 'cuda' });
    for (let o = 0; o < dims.length; o++)
      for (let i = 0; i < cpu.indices[o].length; i++) {
        expect(Math.abs(gpu.scores[o][i] - cpu.scores[o][i])).toBeLessThan(1e-5);
        if (gpu.indices[o][i] !== cpu.indices[o][i]) {
          const s = cpu.scores[o];
          expect(Math.min(Math.abs(s[i] - (s[i - 1] ?? Infinity)), Math.abs(s[i] - (s[i + 1] ?? Infinity)))).toBeLessThan(1e-5);
        }
      }
  });
});

describe.skipIf(!has('cmake'))('GPU engine under the host emulation (no GPU needed)', () => {
  const dir = join(ROOT, 'build-cuda-emu');
  const exe = join(dir, 'emb_bench_cuda_emu_check');
  const run = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(exe, args, { encoding: 'utf8', env: { ...process.env, ...env } });
    return { code: r.status, out: r.stdout + r.stderr };
  };

  beforeAll(() => {
    execFileSync('cmake', ['-S', ROOT, '-B', dir, '-DCMAKE_BUILD_TYPE=Release', '-DEMB_BENCH_CUDA=OFF', '-DEMB_BENCH_CUDA_EMU=ON'], { stdio: 'pipe' });
    execFileSync('cmake', ['--build', dir, '-j', '2', '--target', 'emb_bench_cuda_emu_check'], { stdio: 'pipe' });
  }, 300_000);

  const expectAllPass = (out: string, checks: number) => {
    const lines = out.split('\n').filter((l) => /: (PASS|FAIL)/.test(l));
    expect(lines.filter((l) => l.includes(': FAIL'))).toEqual([]);
    expect(lines.length).toBe(checks);
    expect(out).toContain('GPU CHECK PASSED');
    // Both engines accumulate in dimension order with fused multiply-adds: same bits, where
    // the CPU kernel has FMA (the portable kernel rounds each product on its own).
    if (/CPU kernel (avx2|avx512)/.test(out)) expect(out).toContain('bitwise identical to the CPU engine in every check: yes');
  };

  it('random data, k beyond the corpus, k at the maximum with exact ties, and the error paths', () => {
    for (const seed of ['1', '2']) {
      // the second run also profiles: waits after every step, same answers
      const { code, out } = run([], { EMB_EMU_SEED: seed, EMB_BENCH_CUDA_PROFILE: seed === '2' ? '1' : '0' });
      expectAllPass(out, 6);
      expect(code).toBe(0);
      expect(out.includes('emb-bench cuda profile: nq 400 nc 9000 dims 3 k 50')).toBe(seed === '2');
    }
  }, 180_000);

  it.skipIf(!HAS_SHARED)(
    'golden random-768: the same top-k lists as the CPU engine (whose metrics match the reference)',
    () => {
      const { code, out } = run([shared('golden', 'random-768')]);
      expect(out).toMatch(/golden random-768, k 100: PASS/);
      expectAllPass(out, 7);
      expect(code).toBe(0);
    },
    180_000,
  );
});

// The product's own path to the GPU engine (CLI -> TypeScript -> addon -> score_cuda), on an
// addon built with the emulated engine (cmake-js, EMB_BENCH_CUDA_EMU) and chosen by EMB_BENCH_ADDON.
describe.skipIf(!has('cmake'))('--device cuda through the CLI, on the emulated GPU engine', () => {
  const addon = join(ROOT, 'build-cuda-emu-addon', 'Release', 'emb_bench.node');
  const env = { EMB_BENCH_ADDON: addon };
  let data = '';
  const args = (out: string) => [
    'score',
    '--data',
    data,
    '--query-embeddings',
    join(data, 'q.npy'),
    '--corpus-embeddings',
    join(data, 'c.npy'),
    '--dims',
    '48,20,7',
    '--out',
    out,
    '--json',
  ];

  beforeAll(() => {
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'cmake-js', 'bin', 'cmake-js'),
        'compile',
        '--out',
        'build-cuda-emu-addon',
        '--CDEMB_BENCH_CUDA=OFF',
        '--CDEMB_BENCH_CUDA_EMU=ON',
      ],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    );
    data = writeTinyBeir({ docs: 5000, queries: 40 });
    const r = rng(11);
    const matrix = (rows: number) => ({ data: Float32Array.from({ length: rows * 48 }, () => r() * 2 - 1), rows, cols: 48 });
    writeNpy(join(data, 'q.npy'), matrix(40));
    writeNpy(join(data, 'c.npy'), matrix(5000));
  }, 300_000);

  it("score --device cuda gives the CPU engine's results", async () => {
    const [cpu, gpu] = await Promise.all([cli(args(tmp()), env), cli([...args(tmp()), '--device', 'cuda'], env)]);
    expect(gpu.code, gpu.stderr).toBe(0);
    const [a, b] = [JSON.parse(cpu.stdout), JSON.parse(gpu.stdout)];
    expect(b.engine).toBe('cuda');
    expect(a.engine).toMatch(/^cpu-/);
    expect(b.metrics).toEqual(a.metrics);
  }, 120_000);

  it("score --device cuda --precision: the quantized GPU engine gives the CPU engine's lists (every precision, rescored and not)", async () => {
    for (const mult of ['0', '3']) {
      const quant = ['--precision', 'float32,int8,uint8,ubinary', '--rescore-multiplier', mult];
      const [cpu, gpu] = await Promise.all([cli([...args(tmp()), ...quant], env), cli([...args(tmp()), ...quant, '--device', 'cuda'], env)]);
      expect(gpu.code, gpu.stderr).toBe(0);
      const [a, b] = [JSON.parse(cpu.stdout), JSON.parse(gpu.stdout)];
      expect(b.quantization.kernel).toBe('cuda');
      expect(Object.keys(b.metrics).filter((k) => /_(int8|uint8|ubinary)_cosine_/.test(k)).length).toBe(3 * 3 * 15);
      expect(b.metrics).toEqual(a.metrics);
    }
  }, 300_000);

  it('no device: exit 2 and one line that says so; device memory exhausted: exit 1, one line, nothing written', async () => {
    const none = await cli([...args(tmp()), '--device', 'cuda'], { ...env, EMB_EMU_DEVICES: '0' });
    expect(none.code).toBe(2);
    expect(none.stderr.trim()).toMatch(/^emb-bench: --device cuda: no usable CUDA device: no CUDA-capable device is detected$/);
    const out = tmp();
    const oom = await cli([...args(out), '--device', 'cuda'], { ...env, EMB_EMU_MEMORY: '100000' });
    expect(oom.code).toBe(1);
    expect(oom.stderr.trim().split('\n')).toHaveLength(1);
    expect(oom.stderr).toMatch(/scoring failed: GPU out of memory/);
    expect(existsSync(join(out, 'results.json'))).toBe(false);
  }, 120_000);
});
