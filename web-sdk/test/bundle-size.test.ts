// Bundle-size budget. The page-side SDK carries no TF.js (inference lives in the worker), so the
// two are budgeted separately. Most of the page bundle is zod (protocol schemas).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

// The page bundles grew 1.4 KiB with predict's input checks and image packing (inputs.ts, images.ts), and
// 0.8 KiB with the worker's failure path and the environment checks (worker-runner.ts, browser.ts).
// modelfleet.esm.js: what an app ships for the page — index.js with protocol, zod, idb and comlink.
const BUDGET_GZIP_KIB = { 'modelfleet.esm.js': 114, 'modelfleet.iife.js': 114, 'modelfleet.worker.js': 320 };

it('ESM, IIFE and worker bundles build, ship types and WASM, and stay within budget', () => {
  const out = mkdtempSync(join(tmpdir(), 'mf-sdk-dist-'));
  execFileSync(process.execPath, [join(import.meta.dirname, '../scripts/build.mjs'), '--out', out], { stdio: 'pipe' });
  const sizes = JSON.parse(readFileSync(join(out, 'sizes.json'), 'utf8')) as Record<string, { bytes: number; gzip: number }>;
  for (const [file, budget] of Object.entries(BUDGET_GZIP_KIB)) {
    expect(sizes[file]!.gzip / 1024, `${file} gzip KiB`).toBeLessThanOrEqual(budget);
  }
  expect(readFileSync(join(out, 'index.js'), 'utf8')).not.toContain('tfjs-core'); // TF.js stays in the worker
  expect(readFileSync(join(out, 'modelfleet.iife.js'), 'utf8')).toMatch(/ModelFleet/);
  expect(existsSync(join(out, 'tfjs-backend-wasm-simd.wasm'))).toBe(true);
  expect(existsSync(join(out, 'types/index.d.ts'))).toBe(true);
  expect(readFileSync(join(out, 'index.js'), 'utf8')).toMatch(/from "@modelfleet\/protocol"/); // a dependency, not a copy
  console.log('web-sdk bundles (gzip KiB):', Object.fromEntries(Object.entries(sizes).map(([f, s]) => [f, +(s.gzip / 1024).toFixed(1)])));
}, 60_000);
