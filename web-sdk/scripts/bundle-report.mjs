// What the SDK's bundles weigh and what is in them, read from esbuild's metafiles (build.mjs
// writes the result to dist/sizes.json; test/bundle-size.test.ts holds the budgets):
//  - every file's bytes and gzip bytes;
//  - per bundle, minified bytes by package (zod's core, mini, classic and locales apart, since
//    which of them a page carries is the point), so a budget breach names its cause;
//  - for the worker, what a browser downloads per backend: the entry, the chunks it imports
//    statically, and the chunk of the one optional backend the engine chose (plus its .wasm).
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The package a metafile input belongs to.
 * @example packageOf('node_modules/zod/v4/core/parse.js') // 'zod/v4/core'
 */
export function packageOf(input) {
  const path = relative(ROOT, resolve(input)); // metafile paths are relative to the build's cwd
  const at = path.lastIndexOf('node_modules/');
  if (at < 0) return path.split('/')[0]; // a workspace: protocol, web-sdk
  const parts = path.slice(at + 'node_modules/'.length).split('/');
  const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  return name === 'zod' && parts[1] === 'v4' ? `zod/v4/${parts[2]}` : name;
}

const size = (dir, file) => {
  const bytes = readFileSync(join(dir, file));
  return { bytes: bytes.length, gzip: gzipSync(bytes).length };
};

/** Minified bytes by package over some outputs of one metafile, largest first. */
function packages(outputs) {
  const by = {};
  for (const o of outputs)
    for (const [input, { bytesInOutput }] of Object.entries(o.inputs))
      by[packageOf(input)] = (by[packageOf(input)] ?? 0) + bytesInOutput;
  return Object.fromEntries(
    Object.entries(by)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1]),
  );
}

const jsOutputs = (meta) =>
  Object.fromEntries(
    Object.entries(meta.outputs)
      .filter(([p]) => p.endsWith('.js'))
      .map(([p, o]) => [basename(p), o]),
  );

/** A file and every file it imports statically: what must arrive before it runs. */
function staticClosure(files, file, seen = new Set()) {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const i of files[file].imports) if (i.kind === 'import-statement') staticClosure(files, basename(i.path), seen);
  return seen;
}

/** The backend a dynamically imported chunk brings, by the TF.js backend package inside it. */
function backendOf(output) {
  const pkg = Object.keys(packages([output])).find((p) => p.startsWith('@tensorflow/tfjs-backend-'));
  return pkg ? pkg.slice('@tensorflow/tfjs-backend-'.length) : 'other';
}

/**
 * @param dist the output folder
 * @param page metafiles of the page bundles, by output file name
 * @param worker the worker build's metafile and its entry file name
 */
export function bundleReport(dist, page, worker) {
  const report = {};
  for (const [file, meta] of Object.entries(page))
    report[file] = { ...size(dist, file), packages: packages(Object.values(jsOutputs(meta))) };

  const files = jsOutputs(worker.meta);
  const base = staticClosure(files, worker.entry);
  const backends = { cpu: [...base] }; // the CPU backend is part of the entry (engine.ts imports it)
  for (const file of base) {
    for (const i of files[file].imports.filter((i) => i.kind === 'dynamic-import')) {
      const chunk = basename(i.path);
      backends[backendOf(files[chunk])] = [...new Set([...base, ...staticClosure(files, chunk)])];
    }
  }
  const wasm = Object.fromEntries(
    readdirSync(dist)
      .filter((f) => f.endsWith('.wasm'))
      .map((f) => [f, size(dist, f)]),
  );
  report.worker = {
    files: Object.fromEntries(Object.keys(files).map((f) => [f, size(dist, f)])),
    packages: packages(Object.values(files)),
    // gzip bytes a browser downloads for the worker's script when the engine runs on each backend
    backends: Object.fromEntries(
      Object.entries(backends).map(([name, list]) => [
        name,
        { files: list, gzip: list.reduce((n, f) => n + size(dist, f).gzip, 0) },
      ]),
    ),
    // every chunk: a device whose WebGPU device is lost goes on to WASM (engine.ts), so it has both
    all: { gzip: Object.keys(files).reduce((n, f) => n + size(dist, f).gzip, 0) },
    wasm,
  };
  return report;
}

/** The lines build.mjs prints. */
export function reportLines(report) {
  const kib = (n) => (n / 1024).toFixed(1).padStart(7);
  const top = (p) =>
    Object.entries(p)
      .slice(0, 4)
      .map(([k, n]) => `${k} ${(n / 1024).toFixed(1)}`)
      .join(', ');
  const row = (name, bytes, gzip, note = '') =>
    `${name.padEnd(38)} ${bytes === null ? ' '.repeat(11) : `${kib(bytes)} KiB`}  gzip ${kib(gzip)} KiB${note}`;
  const lines = Object.entries(report)
    .filter(([f]) => f !== 'worker')
    .map(([f, s]) => row(f, s.bytes, s.gzip, `   (min KiB: ${top(s.packages)})`));
  for (const [name, b] of Object.entries(report.worker.backends))
    lines.push(row(`worker script, ${name} backend`, null, b.gzip, `   (${b.files.length} files)`));
  lines.push(row('worker script, every backend', null, report.worker.all.gzip));
  for (const [f, s] of Object.entries(report.worker.wasm)) lines.push(row(f, s.bytes, s.gzip));
  return lines;
}
