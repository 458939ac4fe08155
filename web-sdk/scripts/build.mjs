// Builds web-sdk/dist (runs on prepack): ESM for npm — index.js, and engine.js for Node — with
// .d.ts declarations and @modelfleet/protocol (a dependency) left to the app's bundler; the
// self-contained ESM and <script> IIFE (global ModelFleet) for pages without a bundler; the
// inference worker (TF.js lives only here) and the two WASM binaries it may fetch. Prints sizes
// (modelfleet.esm.js is also the page's weight as an app's bundler ships it).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { emitDeclarations } from '../../scripts/lib/declarations.mjs';

const pkg = resolve(import.meta.dirname, '..');
const outArg = process.argv.indexOf('--out');
const dist = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(pkg, 'dist');
const require = createRequire(import.meta.url);
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const common = { bundle: true, minify: true, sourcemap: true, target: 'es2022', platform: 'browser', logLevel: 'warning', legalComments: 'none', define: { __MODELFLEET_IIFE__: 'false' } };
// The npm entries: readable (the app's bundler minifies); their dependencies (protocol, idb, comlink)
// and, for engine.js, TF.js come from the app's node_modules.
const library = { ...common, minify: false, format: 'esm', external: ['@modelfleet/protocol', '@modelfleet/protocol/*', 'idb', 'comlink'] };
await build({ ...library, entryPoints: [join(pkg, 'src/index.ts')], outfile: join(dist, 'index.js') });
await build({ ...library, entryPoints: [join(pkg, 'src/engine.ts')], outfile: join(dist, 'engine.js'), platform: 'neutral', external: [...library.external, '@tensorflow/*'] });
// Self-contained ESM (protocol, zod, idb and comlink inside, minified): for pages without a
// bundler (<script type="module"> from a CDN) — and what an app's bundler ships for the page.
await build({ ...common, entryPoints: [join(pkg, 'src/index.ts')], format: 'esm', outfile: join(dist, 'modelfleet.esm.js') });
await build({
  ...common, entryPoints: [join(pkg, 'src/browser.ts')], format: 'iife', globalName: 'ModelFleet', outfile: join(dist, 'modelfleet.iife.js'),
  define: { 'import.meta.url': 'undefined', __MODELFLEET_IIFE__: 'true' }, // the IIFE finds its worker via document.currentScript
});
await build({ ...common, entryPoints: [join(pkg, 'src/worker.ts')], format: 'esm', outfile: join(dist, 'modelfleet.worker.js'), splitting: false });
const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
// The two binaries the worker can fetch (worker.ts names them; the multi-threaded one is not used).
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) copyFileSync(join(wasmDir, f), join(dist, f));

// Type declarations for npm consumers, against protocol's published declarations (built afresh:
// a stale protocol/dist would be what Node resolves the ESM's import to).
execFileSync(process.execPath, [join(pkg, '../protocol/scripts/build.mjs')], { stdio: 'inherit' });
emitDeclarations(join(pkg, 'tsconfig.build.json'), join(dist, 'types'));

function sizes() {
  return {
    ...Object.fromEntries(
      ['modelfleet.esm.js', 'index.js', 'modelfleet.iife.js', 'modelfleet.worker.js'].map((f) => {
        const bytes = readFileSync(join(dist, f));
        return [f, { bytes: statSync(join(dist, f)).size, gzip: gzipSync(bytes).length }];
      }),
    ),
  };
}
const measured = sizes();
writeFileSync(join(dist, 'sizes.json'), JSON.stringify(measured, null, 2));
for (const [f, s] of Object.entries(measured)) console.log(`${f.padEnd(22)} ${(s.bytes / 1024).toFixed(1).padStart(8)} KiB  gzip ${(s.gzip / 1024).toFixed(1).padStart(7)} KiB`);
