// The npm package as a user gets it: packed, installed into a fresh project, imported, and the
// demo run, with the prebuilt N-API binary (no compiler, no build/ folder).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/shared.js';

const prebuilt = join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`, 'emb-bench.node');

// The prebuilt binary is made by `npm run build:prebuilt` (npm pack runs it; .ci/run runs it
// before the tests): it rebuilds build/, which the other test files use, so no test makes it.
describe.skipIf(!existsSync(prebuilt))('the packed package, installed into a new project', () => {
  const work = mkdtempSync(join(tmpdir(), 'emb-pack-'));
  const project = join(work, 'project');
  let tarball = '';
  let files: string[] = [];

  beforeAll(() => {
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' }));
    tarball = join(work, packed[0].filename);
    files = packed[0].files.map((f: { path: string }) => f.path);
    writeFileSync(join(work, 'package.json'), '{}');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', type: 'module', private: true }));
    // Dependencies' own install scripts stay off (onnxruntime-node's would download CUDA
    // binaries); emb-bench's install script then runs alone, with no compiler on hand.
    execFileSync('npm', ['install', tarball, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: project,
      stdio: 'pipe',
      timeout: 300_000,
    });
    // better-sqlite3 builds its own binary (its business, not this package's): reuse this checkout's.
    cpSync(join(ROOT, 'node_modules', 'better-sqlite3', 'build'), join(project, 'node_modules', 'better-sqlite3', 'build'), { recursive: true });
    execFileSync('npm', ['rebuild', 'emb-bench', '--foreground-scripts'], {
      cwd: project,
      stdio: 'pipe',
      env: { ...process.env, CC: '/bin/false', CXX: '/bin/false', npm_config_build_from_source: '' },
    });
  }, 600_000);

  it('ships the prebuilt binary and the library, not the tests, benchmarks or the CUDA emulation', () => {
    expect(files).toContain(`prebuilds/${process.platform}-${process.arch}/emb-bench.node`);
    expect(files).toContain('dist/lib/index.js');
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('dist/ui/server.js');
    expect(files).toContain('native/score_cpu.cc');
    expect(files.filter((f) => /^(test|bench)\/|native\/cuda\/emu\/|^dist\/(test|bench)\//.test(f))).toEqual([]);
  });

  it('installs without compiling: node-gyp-build takes the prebuilt binary', () => {
    const pkg = join(project, 'node_modules', 'emb-bench');
    expect(existsSync(join(pkg, 'build'))).toBe(false);
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', "import('emb-bench').then((m) => console.log(JSON.stringify(m.engineInfo())))"], {
      cwd: project,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.native).toBe(true);
    expect(info.reason).toContain(join('prebuilds', `${process.platform}-${process.arch}`, 'emb-bench.node'));
  });

  it('runs the demo from the installed package, with no npm warning', () => {
    const r = spawnSync(join(project, 'node_modules', '.bin', 'emb-bench'), ['demo', '--out', 'demo'], {
      cwd: project,
      encoding: 'utf8',
      env: { ...process.env, EMB_BENCH_REGISTRY: join(work, 'registry.db') },
      timeout: 300_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/npm warn|TypeScript engine/);
    const report = readFileSync(join(project, 'demo', 'report.md'), 'utf8');
    expect(report).toMatch(/\| 64 \| [\d.]+ \| [\d.]+ \| \+[\d.]+ \| .* \| better \|/);
  });

  it("the README's library example type-checks in a strict TypeScript project that has only @types/node", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = /## As a library[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)![1];
    writeFileSync(join(project, 'example.ts'), example);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, types: ['node'] },
        files: ['example.ts'],
      }),
    );
    cpSync(join(ROOT, 'node_modules', '@types', 'node'), join(project, 'node_modules', '@types', 'node'), { recursive: true });
    cpSync(join(ROOT, 'node_modules', 'undici-types'), join(project, 'node_modules', 'undici-types'), { recursive: true });
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('serves the dashboard from the installed package', async () => {
    const script = `const { startDashboard } = await import('./node_modules/emb-bench/dist/ui/server.js');
const d = await startDashboard({ registry: ${JSON.stringify(join(work, 'registry.db'))}, port: 0 });
const res = await fetch(d.url);
console.log(res.status, (await res.text()).includes('fine-tuned'));
await d.close();`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('200 true');
  });
});
