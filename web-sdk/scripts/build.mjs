// Builds web-sdk/dist (runs on prepack): ESM for npm — index.js, and engine.js for Node — with
// .d.ts declarations and their dependencies (@modelfleet/protocol, idb, comlink; TF.js for
// engine.js) left to the app's bundler; the self-contained ESM and <script> IIFE (global
// ModelFleet) for pages without a bundler; the inference worker (TF.js lives only here; the WebGPU
// and WASM backends are chunks of their own, fetched only when the engine tries them) and the two
// WASM binaries it may fetch. Prints sizes (bundle-report.mjs; modelfleet.esm.js is also the
// page's weight as an app's bundler ships it).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import { buildDirAtomically } from '../../scripts/lib/atomic-dir.mjs';
import { emitDeclarations } from '../../scripts/lib/declarations.mjs';
import { bundleReport, reportLines } from './bundle-report.mjs';

const pkg = resolve(import.meta.dirname, '..');
const outArg = process.argv.indexOf('--out');
const target = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(pkg, 'dist');
const require = createRequire(import.meta.url);
await buildDirAtomically(target, async (dist) => {
  mkdirSync(dist, { recursive: true });

  const common = {
    bundle: true,
    minify: true,
    sourcemap: true,
    target: 'es2022',
    platform: 'browser',
    logLevel: 'warning',
    legalComments: 'none',
    metafile: true,
    define: { __MODELFLEET_IIFE__: 'false' },
  };
  // The npm entries: readable (the app's bundler minifies); their dependencies come from the app's node_modules.
  const library = {
    ...common,
    minify: false,
    format: 'esm',
    external: ['@modelfleet/protocol', '@modelfleet/protocol/*', 'idb', 'comlink'],
  };
  await build({ ...library, entryPoints: [join(pkg, 'src/index.ts')], outfile: join(dist, 'index.js') });
  await build({
    ...library,
    entryPoints: [join(pkg, 'src/engine.ts')],
    outfile: join(dist, 'engine.js'),
    platform: 'neutral',
    external: [...library.external, '@tensorflow/*'],
  });
  // Self-contained ESM (protocol, zod, idb and comlink inside): for <script type="module"> from a CDN.
  const esm = await build({
    ...common,
    entryPoints: [join(pkg, 'src/index.ts')],
    format: 'esm',
    outfile: join(dist, 'modelfleet.esm.js'),
  });
  const iife = await build({
    ...common,
    entryPoints: [join(pkg, 'src/browser.ts')],
    format: 'iife',
    globalName: 'ModelFleet',
    outfile: join(dist, 'modelfleet.iife.js'),
    define: { 'import.meta.url': 'undefined', __MODELFLEET_IIFE__: 'true' }, // the IIFE finds its worker via document.currentScript
  });
  // Splitting turns worker.ts's dynamic imports of the WebGPU and WASM backends into chunks beside
  // the worker (resolved from its URL); TF.js core goes into a chunk that both import statically.
  const worker = await build({
    ...common,
    entryPoints: { 'modelfleet.worker': join(pkg, 'src/worker.ts') },
    format: 'esm',
    outdir: dist,
    splitting: true,
    chunkNames: 'modelfleet.worker-[name]-[hash]',
  });
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  // The two binaries the worker can fetch (worker.ts names them; the multi-threaded one is not used).
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'])
    copyFileSync(join(wasmDir, f), join(dist, f));
  copyFileSync(join(pkg, '../LICENSE'), join(dist, 'LICENSE'));

  // Type declarations for npm consumers, against protocol's published declarations (built afresh:
  // a stale protocol/dist would be what Node resolves the ESM's import to).
  execFileSync(process.execPath, [join(pkg, '../protocol/scripts/build.mjs')], { stdio: 'inherit' });
  emitDeclarations(join(pkg, 'tsconfig.build.json'), join(dist, 'types'));

  const measured = bundleReport(
    dist,
    { 'modelfleet.esm.js': esm.metafile, 'modelfleet.iife.js': iife.metafile },
    { meta: worker.metafile, entry: 'modelfleet.worker.js' },
  );
  writeFileSync(join(dist, 'sizes.json'), JSON.stringify(measured, null, 2));
  for (const line of reportLines(measured)) console.log(line);
});
