/**
 * Vitest global setup: bundle the Worker once for every suite that starts it, and build the web
 * SDK once for the browser suites (building it per suite would race on web-sdk/dist).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, bundleWorker } from './bundle.ts';

export default function setup(): void {
  bundleWorker();
  execFileSync(process.execPath, [join(ROOT, 'web-sdk/scripts/build.mjs')], { stdio: 'pipe' });
}
