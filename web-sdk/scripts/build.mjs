// Builds web-sdk/dist: ESM for npm (index.js + .d.ts), the <script> IIFE (global ModelFleet),
// the inference worker (TF.js lives only here) and the WASM binaries it loads. Prints sizes.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const pkg = resolve(import.meta.dirname, '..');
const outArg = process.argv.indexOf('--out');
const dist = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(pkg, 'dist');
const require = createRequire(import.meta.url);
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const common = { bundle: true, minify: true, sourcemap: true, target: 'es2022', platform: 'browser', logLevel: 'warning', legalComments: 'none' };
await build({ ...common, entryPoints: [join(pkg, 'src/index.ts')], format: 'esm', outfile: join(dist, 'index.js') });
await build({
  ...common, entryPoints: [join(pkg, 'src/browser.ts')], format: 'iife', globalName: 'ModelFleet', outfile: join(dist, 'modelfleet.iife.js'),
  define: { 'import.meta.url': 'undefined' }, // the IIFE finds its worker via document.currentScript
});
await build({ ...common, entryPoints: [join(pkg, 'src/worker.ts')], format: 'esm', outfile: join(dist, 'modelfleet.worker.js'), splitting: false });
const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
// The two binaries the worker can fetch (worker.ts names them; the multi-threaded one is not used).
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) copyFileSync(join(wasmDir, f), join(dist, f));

// Type declarations for npm consumers.
execFileSync(join(pkg, '../node_modules/.bin/tsc'), ['-p', join(pkg, 'tsconfig.build.json'), '--outDir', join(dist, 'types')], { stdio: 'inherit' });

function sizes() {
  return Object.fromEntries(
    ['index.js', 'modelfleet.iife.js', 'modelfleet.worker.js'].map((f) => {
      const bytes = readFileSync(join(dist, f));
      return [f, { bytes: statSync(join(dist, f)).size, gzip: gzipSync(bytes).length }];
    }),
  );
}
const measured = sizes();
writeFileSync(join(dist, 'sizes.json'), JSON.stringify(measured, null, 2));
for (const [f, s] of Object.entries(measured)) console.log(`${f.padEnd(22)} ${(s.bytes / 1024).toFixed(1).padStart(8)} KiB  gzip ${(s.gzip / 1024).toFixed(1).padStart(7)} KiB`);
