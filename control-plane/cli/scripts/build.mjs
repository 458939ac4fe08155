#!/usr/bin/env node
// Builds the `modelfleet` package's dist/ (run by `npm pack` through prepack): entry.ts and
// everything it imports — the private @modelfleet/protocol workspace, commander, zod, csv-parse,
// cli-progress — bundled by esbuild into ES modules, so the package has no dependencies and
// needs neither tsx nor TypeScript at run time. Each command's implementation is its own chunk,
// loaded when the command runs (program.ts), so `--help` parses only commander and the
// command table. The licences of the bundled packages go to dist/THIRD_PARTY_LICENSES.txt.
import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { build } from 'esbuild';

const cli = resolve(import.meta.dirname, '..');
const dist = join(cli, 'dist');
const quiet = process.argv.includes('--quiet');
rmSync(dist, { recursive: true, force: true });

const started = performance.now();
const result = await build({
  entryPoints: { modelfleet: join(cli, 'entry.ts') },
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // commander and cli-progress are CommonJS and require() Node's built-ins: give ES modules a require.
  banner: {
    js: "import { createRequire as __mfCreateRequire } from 'node:module'; const require = __mfCreateRequire(import.meta.url);",
  },
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

// Every node_modules package that contributed bytes, with its licence text.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m && !packages.has(m[1])) packages.set(m[1], resolve(input.slice(0, input.indexOf(m[0]) + m[0].length)));
}
const notices = [...packages]
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([name, dir]) => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
    if (!file) throw new Error(`${name}@${pkg.version} has no licence file to include in THIRD_PARTY_LICENSES.txt`);
    return `${name}@${pkg.version} (${pkg.license})\n\n${readFileSync(join(dir, file), 'utf8').trim()}\n`;
  });
writeFileSync(
  join(dist, 'THIRD_PARTY_LICENSES.txt'),
  `The modelfleet CLI bundles these packages:\n\n${notices.join('\n---\n\n')}`,
);
copyFileSync(join(cli, '../../LICENSE'), join(dist, 'LICENSE')); // this package's own licence

if (!quiet) {
  const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.mjs'));
  const bytes = outputs.reduce((n, [, o]) => n + o.bytes, 0);
  const entry = outputs.find(([f]) => f.endsWith('modelfleet.mjs'));
  console.log(
    `${relative(process.cwd(), dist) || '.'}: ${outputs.length} files, ${(bytes / 1024).toFixed(0)} KiB (entry ${(entry[1].bytes / 1024).toFixed(0)} KiB), ` +
      `bundling ${[...packages.keys()].join(', ')}, in ${(performance.now() - started).toFixed(0)} ms`,
  );
}
if (!existsSync(join(dist, 'modelfleet.mjs'))) throw new Error('dist/modelfleet.mjs was not written');
