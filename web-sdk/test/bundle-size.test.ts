// Bundle-size budgets. The page-side SDK carries no TF.js (inference lives in the worker), so the
// two are budgeted separately. The page validates protocol documents with zod/mini (zod's core,
// not its classic API: protocol/src/index.ts); the worker downloads only the backend it runs on.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';

// Page: 112.5 KiB gzip while the protocol schemas were classic zod (94 KiB of it), 30.6 KiB on zod/mini.
const PAGE_GZIP_KIB = 40;
// Worker script per backend (entry, its static chunks, the chosen backend's chunk); the .wasm binary is apart.
const WORKER_GZIP_KIB = 300;

// modelfleet.esm.js is index.js with its dependencies inside: what an app's bundler ships for the page.
type Page = 'modelfleet.esm.js' | 'modelfleet.iife.js';
type Sizes = Record<Page, { bytes: number; gzip: number; packages: Record<string, number> }> & {
  worker: {
    files: Record<string, { bytes: number; gzip: number }>;
    packages: Record<string, number>;
    backends: Record<string, { files: string[]; gzip: number }>;
    all: { gzip: number };
    wasm: Record<string, { bytes: number; gzip: number }>;
  };
};
let out: string;
let sizes: Sizes;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'mf-sdk-dist-'));
  execFileSync(process.execPath, [join(import.meta.dirname, '../scripts/build.mjs'), '--out', out], { stdio: 'pipe' });
  sizes = JSON.parse(readFileSync(join(out, 'sizes.json'), 'utf8')) as Sizes;
  const kib = (n: number) => +(n / 1024).toFixed(1);
  console.log('web-sdk bundles (gzip KiB):', {
    'modelfleet.esm.js': kib(sizes['modelfleet.esm.js'].gzip),
    'modelfleet.iife.js': kib(sizes['modelfleet.iife.js'].gzip),
    ...Object.fromEntries(Object.entries(sizes.worker.backends).map(([b, s]) => [`worker (${b})`, kib(s.gzip)])),
    'worker (every backend)': kib(sizes.worker.all.gzip),
    ...Object.fromEntries(Object.entries(sizes.worker.wasm).map(([f, s]) => [f, kib(s.gzip)])),
  });
}, 60_000);

it('ESM and IIFE page bundles stay within budget, with zod core/mini only and no TF.js', () => {
  for (const file of ['modelfleet.esm.js', 'modelfleet.iife.js'] as const) {
    expect(sizes[file].gzip / 1024, `${file} gzip KiB`).toBeLessThanOrEqual(PAGE_GZIP_KIB);
    const packages = Object.keys(sizes[file].packages);
    expect(
      packages.filter((p) => p.startsWith('@tensorflow/') || p === 'zod/v4/classic'),
      file,
    ).toEqual([]);
    expect(packages).toContain('zod/v4/core');
  }
  expect(readFileSync(join(out, 'modelfleet.iife.js'), 'utf8')).toMatch(/ModelFleet/);
  expect(existsSync(join(out, 'types/index.d.ts'))).toBe(true);
  expect(readFileSync(join(out, 'index.js'), 'utf8')).toMatch(/from "@modelfleet\/protocol"/); // a dependency, not a copy
  expect(readFileSync(join(out, 'index.js'), 'utf8')).not.toContain('tfjs-core'); // TF.js stays in the worker
});

it('the worker takes no zod and of protocol only input-stats (no schemas), and each backend downloads only its own chunk', () => {
  expect(Object.keys(sizes.worker.packages).filter((p) => p.startsWith('zod'))).toEqual([]);
  // The worker measures declared input statistics with protocol's input-stats.ts, which imports
  // nothing (~1 KiB minified); any schema module reaching the worker would bring far more (and zod).
  expect(sizes.worker.packages.protocol ?? 0).toBeLessThan(2048);
  const { cpu, wasm, webgpu } = sizes.worker.backends;
  for (const [name, b] of Object.entries({ cpu, wasm, webgpu }))
    expect(b!.gzip / 1024, `worker on ${name}, gzip KiB`).toBeLessThanOrEqual(WORKER_GZIP_KIB);
  // CPU is in the entry: a CPU-only device fetches no backend chunk; WASM and WebGPU add one each, not each other's.
  expect(wasm!.files.length).toBe(cpu!.files.length + 1);
  expect(webgpu!.files.length).toBe(cpu!.files.length + 1);
  expect(wasm!.files.filter((f) => webgpu!.files.includes(f))).toEqual(cpu!.files);
  expect(existsSync(join(out, 'tfjs-backend-wasm-simd.wasm'))).toBe(true);
});
