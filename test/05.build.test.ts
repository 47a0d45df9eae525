// The two build systems (binding.gyp for node-gyp, CMakeLists.txt for cmake-js and the GPU check)
// compile the same CPU engine: the same sources, each ISA's kernel file with the same flags, and
// no engine source left out of either.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/shared.js';

interface GypTarget {
  target_name: string;
  sources: string[];
  cflags_cc?: string[];
}

const gyp = JSON.parse(readFileSync(join(ROOT, 'binding.gyp'), 'utf8')) as {
  targets: GypTarget[];
  conditions: Array<[string, { targets: GypTarget[] }]>;
};
const cmake = readFileSync(join(ROOT, 'CMakeLists.txt'), 'utf8');

/** The words of a CMake `set(NAME ...)` or `list(APPEND NAME ...)`. */
function cmakeList(pattern: RegExp): string[] {
  const m = pattern.exec(cmake);
  if (!m) throw new Error(`CMakeLists.txt: ${pattern} not found`);
  return m[1].split(/\s+/).filter(Boolean);
}

/** Engine sources in the tree: native/*.cc and native/cpu/*.cc (the CUDA engine and its emulation are built apart). */
function engineSources(): string[] {
  const at = (dir: string) =>
    readdirSync(join(ROOT, dir))
      .filter((f) => f.endsWith('.cc'))
      .map((f) => `${dir}/${f}`);
  return [...at('native'), ...at('native/cpu')].sort();
}

describe('build systems', () => {
  const kernelTargets = gyp.conditions.flatMap(([, c]) => c.targets);
  const gypCpu = [...gyp.targets[0].sources, ...kernelTargets.flatMap((t) => t.sources)].filter((f) => !['native/addon.cc', 'native/cuda_stub.cc'].includes(f));
  const cmakeCpu = [...cmakeList(/set\(CPU_SOURCES\s+([^)]*)\)/), ...cmakeList(/list\(APPEND CPU_SOURCES\s+([^)]*)\)/)];

  it('binding.gyp and CMakeLists.txt compile the same CPU engine sources', () => {
    expect([...gypCpu].sort()).toEqual([...cmakeCpu].sort());
  });

  it('every engine source is built (none forgotten in a new file)', () => {
    const built = new Set([...gypCpu, 'native/addon.cc', 'native/cuda_stub.cc']);
    expect(engineSources().filter((f) => !built.has(f))).toEqual([]);
  });

  it.each(['kernels_avx2', 'kernels_avx512', 'kernels_avx512bf16'])('%s gets the same ISA flags from both', (name) => {
    const target = kernelTargets.find((t) => t.target_name === name)!;
    const m = new RegExp(`set_source_files_properties\\(native/${name}\\.cc PROPERTIES COMPILE_OPTIONS "([^"]*)"\\)`).exec(cmake);
    expect(m, `CMakeLists.txt sets no flags for ${name}.cc`).not.toBeNull();
    expect(m![1].split(';')).toEqual(target.cflags_cc);
  });
});
