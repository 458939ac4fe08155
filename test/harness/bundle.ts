/**
 * @module bundle
 * Bundles the Worker exactly as deployment does (`wrangler deploy --dry-run`), once per test
 * run, so every suite exercises the deployable artifact — and the dry run itself is tested.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BUNDLE_DIR = join(ROOT, '.wrangler', 'test-bundle');
export const BUNDLE_ENTRY = join(BUNDLE_DIR, 'worker.js');

export function bundleWorker(): { entry: string; bytes: number; ms: number } {
  const started = Date.now();
  execFileSync(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', BUNDLE_DIR], {
    cwd: ROOT,
    stdio: 'pipe',
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_LOG: 'error',
    },
  });
  if (!existsSync(BUNDLE_ENTRY)) {
    throw new Error(`wrangler dry run wrote no ${BUNDLE_ENTRY}; found: ${readdirSync(BUNDLE_DIR).join(', ')}`);
  }
  return { entry: BUNDLE_ENTRY, bytes: statSync(BUNDLE_ENTRY).size, ms: Date.now() - started };
}
