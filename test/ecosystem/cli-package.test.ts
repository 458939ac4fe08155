// The published CLI as a user meets it: the tarball `npm pack` makes, installed in an empty folder
// outside the repository, run with `npx modelfleet` against a real Worker in workerd. It must
// stand alone (no @modelfleet/* workspace, no tsx, no dependencies to fetch) and start quickly.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';
import { type InstalledCli, packAndInstall } from './cli-package.ts';

let cli: InstalledCli;
let worker: TestWorker;

beforeAll(async () => {
  [cli, worker] = await Promise.all([packAndInstall(), startWorker({ http: true })]);
  await createModel(worker, 'x');
  await publish(worker, 'x', await buildLayersModel({ seed: 1 }));
});
afterAll(() => worker?.dispose());

it('the tarball holds the build, a manifest with no dependencies, and imports only Node built-ins', () => {
  const files = execFileSync('tar', ['-tzf', cli.tarball], { encoding: 'utf8' }).trim().split('\n').sort();
  expect(files.filter((f) => !f.startsWith('package/dist/chunks/'))).toEqual([
    'package/README.md',
    'package/dist/LICENSE',
    'package/dist/THIRD_PARTY_LICENSES.txt',
    'package/dist/modelfleet.mjs',
    'package/package.json',
  ]);
  expect(files.every((f) => !f.endsWith('.ts'))).toBe(true);
  const pkgDir = join(cli.dir, 'node_modules/modelfleet');
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  expect(manifest).toMatchObject({
    name: 'modelfleet',
    license: 'Apache-2.0',
    bin: { modelfleet: 'dist/modelfleet.mjs' },
    engines: { node: '>=20.19' },
  });
  expect(manifest.dependencies).toBeUndefined();
  expect(manifest.private).toBeUndefined();
  const code = ['dist/modelfleet.mjs', ...readdirSync(join(pkgDir, 'dist/chunks')).map((f) => `dist/chunks/${f}`)]
    .map((f) => readFileSync(join(pkgDir, f), 'utf8'))
    .join('\n');
  // esbuild's output: static imports, import("…") of the command chunks, require("…") inside bundled CommonJS.
  const patterns = [
    /\bimport\s*(?:[\w$]+\s*,?\s*)?(?:\{[^}]*\}|\*\s*as\s+[\w$]+)?\s*from\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  const specifiers = new Set(patterns.flatMap((p) => [...code.matchAll(p)].map((m) => m[1]!)));
  expect(specifiers).toContain('node:fs');
  expect([...specifiers].some((s) => s.startsWith('./chunks/'))).toBe(true);
  const outside = [...specifiers].filter(
    (s) => !s.startsWith('./') && !s.startsWith('../') && !builtinModules.includes(s.replace(/^node:/, '')),
  );
  expect(outside).toEqual([]);
  expect(code).not.toContain('@modelfleet/');
});

it('npx modelfleet --help answers from the installed tarball (time reported, bound loose)', async () => {
  const help = await cli.npx('--help');
  expect(help.code, help.err).toBe(0);
  expect(help.out).toContain('Usage: modelfleet [options] [command]');
  expect(help.out).toContain('Exit codes: 0 ok, 1 internal, 2 usage');
  const direct = execTime(join(cli.dir, 'node_modules/.bin/modelfleet'), ['--help']);
  console.log(
    `npx modelfleet --help: ${help.ms.toFixed(0)} ms (of which the CLI itself, node_modules/.bin/modelfleet --help: ${direct.toFixed(0)} ms); pack ${cli.packMs.toFixed(0)} ms, install ${cli.installMs.toFixed(0)} ms`,
  );
  expect(help.ms).toBeLessThan(5000);
  expect((await cli.npx('--version')).out.trim()).toBe(
    JSON.parse(readFileSync(join(cli.dir, 'node_modules/modelfleet/package.json'), 'utf8')).version,
  );
});

it('npx modelfleet --json versions list, and publish, against a local Worker', async () => {
  const auth = ['--endpoint', worker.url, '--token', worker.adminToken];
  const list = await cli.npx('--json', ...auth, 'versions', 'list', '--model', 'x');
  expect(list.code, list.err).toBe(0);
  expect(JSON.parse(list.out)).toEqual([expect.objectContaining({ model: 'x', version: 1, status: 'active' })]);
  // publish loads the chunks with the model reader, the upload and cli-progress (CommonJS, bundled).
  const a = await buildLayersModel({ seed: 2 });
  mkdirSync(join(cli.dir, 'm'));
  writeFileSync(join(cli.dir, 'm/model.json'), JSON.stringify(a.modelJson));
  for (const [p, bytes] of Object.entries(a.weightFiles)) writeFileSync(join(cli.dir, 'm', p), bytes);
  const pub = await cli.npx(...auth, 'publish', 'm', '--model', 'x');
  expect(pub.code, pub.err).toBe(0);
  expect(pub.out).toMatch(/^x v2 active \(tfjs-layers\)/);
  expect(pub.err).toContain('uploading x: 100%');
});

it("a failing command exits with its family's code and, under --json, one JSON error on stdout", async () => {
  const refused = await cli.npx(
    '--json',
    '--endpoint',
    worker.url,
    '--token',
    worker.adminToken,
    'versions',
    'list',
    '--model',
    'nosuch',
  );
  expect([refused.code, refused.err]).toEqual([5, '']);
  expect(JSON.parse(refused.out)).toEqual({
    error: { code: 'unknown_model', message: expect.stringContaining('nosuch') },
  });
  const auth = await cli.npx('--json', '--endpoint', worker.url, 'versions', 'list', '--model', 'x');
  expect([auth.code, JSON.parse(auth.out).error.code]).toEqual([4, 'unauthorized']);
  const usage = await cli.npx('versions', 'list');
  expect([usage.code, usage.out]).toEqual([2, '']);
  expect(usage.err).toContain("required option '--model <name>' not specified");
});

it('baseline runs from the installed package (csv-parse, bundled)', async () => {
  writeFileSync(
    join(cli.dir, 'train.csv'),
    ['amount,channel', ...Array.from({ length: 50 }, (_, i) => `${i * 1.5},${['card', 'bank'][i % 2]}`)].join('\n'),
  );
  writeFileSync(
    join(cli.dir, 'schema.json'),
    JSON.stringify({
      features: [
        { name: 'amount', kind: 'numeric' },
        { name: 'channel', kind: 'categorical' },
      ],
    }),
  );
  const r = await cli.npx('--json', 'baseline', 'train.csv', '--schema', 'schema.json', '--out', 'b.json');
  expect(r.code, r.err).toBe(0);
  expect(JSON.parse(r.out)).toEqual({ out: 'b.json', rows: 50, features: ['amount', 'channel'], classes: null });
});

function execTime(file: string, argv: string[]): number {
  const t = performance.now();
  execFileSync(file, argv, { stdio: 'ignore' });
  return performance.now() - t;
}
