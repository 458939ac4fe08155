/**
 * Vitest global setup: bundle the Worker once for every suite that starts it, and build the web
 * SDK and the React Native bridge's WebView page once for the browser suites (building them per
 * suite would race on their dist folders), and fetch the third-party models and data sets once.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureRealData } from '../fixtures/real-data.ts';
import { ensureRealModels } from '../fixtures/real-models.ts';
import { ROOT, bundleWorker } from './bundle.ts';

export default function setup(): void {
  bundleWorker();
  execFileSync(process.execPath, [join(ROOT, 'web-sdk/scripts/build.mjs')], { stdio: 'pipe' });
  execFileSync(process.execPath, [join(ROOT, 'mobile-bridge/scripts/build-page.mjs'), '--quiet'], { stdio: 'pipe' });
  // Third-party models for the conformance and validation suites: npm pack once, cached in .cache/.
  ensureRealModels();
  // Public data sets (vega-datasets) for the real-data drift calibration suite, likewise.
  ensureRealData();
}
