#!/usr/bin/env node
// Packs @modelfleet/react-native for an app outside this repository: one self-contained tarball,
// dist/modelfleet-react-native-<version>.tgz. Why not `npm pack` on the workspace: its package.json
// points at TypeScript sources and depends on @modelfleet/protocol and @modelfleet/web-sdk, private
// workspace packages that are not on npm, so an app's `npm install` of it fails with E404.
// The tarball holds index.js (esbuild: the bridge, its message protocol, zod and the WebView page
// inlined; react, react-native and react-native-webview left to the app), declarations from tsc,
// the README, and a package.json whose one dependency is zod, for the declarations only. The page travels inside
// index.js as a string (PAGE_HTML), so Metro ships it in the app's JS bundle: no asset to copy.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'esbuild';

// --out DIR: where the tarball (and its staging folder) go; --no-page-build: the page is built
// already (the test of this script runs after vitest's global setup built it).
const pkg = resolve(import.meta.dirname, '..');
const root = resolve(pkg, '..');
const outArg = process.argv.indexOf('--out');
const outDir = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(pkg, 'dist');
const stage = join(outDir, 'package');
const self = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
const zodVersion = JSON.parse(readFileSync(join(root, 'protocol/package.json'), 'utf8')).dependencies.zod;

if (!process.argv.includes('--no-page-build'))
  execFileSync(process.execPath, [join(pkg, 'scripts/build-page.mjs'), '--quiet'], { stdio: 'inherit' });
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });

// Metro compiles this with the app's Babel preset, so ES2020 and ESM are enough. zod is inlined:
// its ESM uses `export * as`, which React Native's Babel preset does not transform (Metro fails
// with "Export namespace should be first transformed by @babel/plugin-transform-export-namespace-from").
await build({
  entryPoints: [join(pkg, 'src/index.ts')],
  outfile: join(stage, 'index.js'),
  bundle: true,
  format: 'esm',
  target: 'es2020',
  platform: 'neutral',
  jsx: 'automatic',
  jsxImportSource: 'react',
  external: ['react', 'react/*', 'react-native', 'react-native-webview'],
  legalComments: 'none',
  logLevel: 'warning',
});

// Declarations: tsc emits mobile-bridge/src and protocol/src/bridge.ts side by side under types/;
// the one bare import of the private protocol package becomes a relative one.
execFileSync(
  join(root, 'node_modules/.bin/tsc'),
  ['-p', join(pkg, 'tsconfig.pack.json'), '--outDir', join(stage, 'types')],
  { stdio: 'inherit' },
);
const types = join(stage, 'types');
const bridgeTypes = join(types, 'protocol/src/bridge.ts');
const walk = (dir) =>
  readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
for (const file of walk(types).filter((f) => f.endsWith('.d.ts'))) {
  const text = readFileSync(file, 'utf8');
  const rel = relative(dirname(file), bridgeTypes);
  writeFileSync(file, text.replaceAll("'@modelfleet/protocol/bridge'", `'${rel.startsWith('.') ? rel : `./${rel}`}'`));
}

copyFileSync(join(pkg, 'README.md'), join(stage, 'README.md'));
copyFileSync(join(root, 'LICENSE'), join(stage, 'LICENSE'));
const typesEntry = './types/mobile-bridge/src/index.d.ts';
writeFileSync(
  join(stage, 'package.json'),
  JSON.stringify(
    {
      name: self.name,
      version: self.version,
      description: self.description,
      license: 'Apache-2.0',
      type: 'module',
      repository: { type: 'git', url: 'https://github.com/modelfleet/modelfleet.git', directory: 'mobile-bridge' },
      engines: { node: '>=20.19' },
      main: './index.js',
      types: typesEntry,
      exports: { '.': { types: typesEntry, default: './index.js' }, './package.json': './package.json' },
      sideEffects: false,
      peerDependencies: self.peerDependencies,
      dependencies: { zod: zodVersion },
    },
    null,
    2,
  ) + '\n',
);

const out = execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], {
  cwd: stage,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'ignore'],
});
const [packed] = JSON.parse(out);
console.log(
  `${relative(process.cwd(), join(outDir, packed.filename))}: ${(packed.size / 1024).toFixed(0)} KiB packed, ${packed.entryCount} files`,
);
