// The GPU engine: it compiles where nvcc is; without a GPU, asking for it gives a clear error
// (no crash, no silent CPU run); with one, it gives the CPU engine's answers.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { UserError } from '../lib/errors.js';
import { loadNative } from '../lib/score/binding.js';
import { engineInfo, scoreTopK } from '../lib/score/index.js';

function hasNvcc(): boolean {
  try {
    execFileSync('nvcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const m = { data: new Float32Array(64).fill(0.5), rows: 4, cols: 16 };

describe('GPU engine', () => {
  it.skipIf(!hasNvcc())('the cmake-js build compiled the CUDA engine (nvcc is on this machine)', () => {
    const { addon, reason } = loadNative();
    expect(reason).toMatch(/build-cmake/);
    expect(addon!.info().cudaCompiled).toBe(true);
  });

  it.skipIf(engineInfo().cudaDevices > 0)('--device cuda without a GPU is a UserError that says why', async () => {
    await expect(scoreTopK(m, m, { dims: [16], k: 2, device: 'cuda' })).rejects.toThrow(UserError);
    await expect(scoreTopK(m, m, { dims: [16], k: 2, device: 'cuda' })).rejects.toThrow(/--device cuda: .*(no usable CUDA device|no CUDA device|no CUDA engine)/);
  });

  it.skipIf(engineInfo().cudaDevices === 0)('on a GPU: the same top-k as the CPU engine (near-ties aside)', async () => {
    let seed = 3;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
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
