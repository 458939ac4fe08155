// Builds web-sdk/dist: ESM for npm (index.js + .d.ts), the <script> IIFE (global ModelFleet),
// the inference worker (TF.js lives only here; the WebGPU and WASM backends are chunks of their
// own, fetched only when the engine tries them) and the WASM binaries. Prints sizes
// (bundle-report.mjs).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import { bundleReport, reportLines } from './bundle-report.mjs';

const pkg = resolve(import.meta.dirname, '..');
const outArg = process.argv.indexOf('--out');
const dist = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(pkg, 'dist');
const require = createRequire(import.meta.url);
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const common = { bundle: true, minify: true, sourcemap: true, target: 'es2022', platform: 'browser', logLevel: 'warning', legalComments: 'none', metafile: true };
const esm = await build({ ...common, entryPoints: [join(pkg, 'src/index.ts')], format: 'esm', outfile: join(dist, 'index.js') });
const iife = await build({
  ...common, entryPoints: [join(pkg, 'src/browser.ts')], format: 'iife', globalName: 'ModelFleet', outfile: join(dist, 'modelfleet.iife.js'),
  define: { 'import.meta.url': 'undefined' }, // the IIFE finds its worker via document.currentScript
});
// Splitting turns worker.ts's dynamic imports of the WebGPU and WASM backends into chunks beside
// the worker (resolved from its URL); TF.js core goes into a chunk that both import statically.
const worker = await build({
  ...common, entryPoints: { 'modelfleet.worker': join(pkg, 'src/worker.ts') }, format: 'esm', outdir: dist, splitting: true, chunkNames: 'modelfleet.worker-[name]-[hash]',
});
const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
for (const f of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(wasmDir, f), join(dist, f));

// Type declarations for npm consumers.
execFileSync(join(pkg, '../node_modules/.bin/tsc'), ['-p', join(pkg, 'tsconfig.build.json'), '--outDir', join(dist, 'types')], { stdio: 'inherit' });

const measured = bundleReport(dist, { 'index.js': esm.metafile, 'modelfleet.iife.js': iife.metafile }, { meta: worker.metafile, entry: 'modelfleet.worker.js' });
writeFileSync(join(dist, 'sizes.json'), JSON.stringify(measured, null, 2));
for (const line of reportLines(measured)) console.log(line);
