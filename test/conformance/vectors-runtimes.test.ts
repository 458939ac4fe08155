// SPEC's vectors in the runtimes a client or server runs in (issue 18): protocol's portable
// checker (protocol/src/vector-checks.ts), bundled by esbuild, runs inside workerd (a module
// Worker under Miniflare, no nodejs_compat: only what a Worker has) and inside Chromium (a page),
// with the vector files handed in as JSON. Node runs the same checker in protocol/src/vectors.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { VectorFiles, VectorResult } from '../../protocol/src/vector-checks.ts';
import { launchChromium } from '../browser/chromium.ts';
import { ROOT } from '../harness/bundle.ts';

const file = (name: string) => JSON.parse(readFileSync(join(ROOT, 'protocol/vectors', name), 'utf8'));
const files: VectorFiles = {
  signing: file('signing.json'),
  chunkPlan: file('chunk-plan.json'),
  manifestDigests: file('manifest-digests.json'),
  rootRotation: file('root-rotation.json'),
  sketch: file('sketch.json'),
  bucketing: file('bucketing.json'),
};
let bundle: string;

beforeAll(async () => {
  const out = await build({
    stdin: {
      contents: "export { checkVectors } from './protocol/src/vector-checks.ts';",
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    write: false,
    mainFields: ['module', 'main'],
  });
  bundle = out.outputFiles[0]!.text;
}, 60_000);

const expectAllPass = (results: VectorResult[]) => {
  expect(results.filter((r) => !r.ok)).toEqual([]);
  // Every case of every file was checked (bucketing's 10,000 as one result).
  const count =
    files.signing.cases.length + files.chunkPlan.cases.length + files.manifestDigests.cases.length + 3 + 1 + 1;
  expect(results).toHaveLength(count);
};

let mf: Miniflare | undefined;
afterAll(() => mf?.dispose());

it('workerd: a Worker running the checker agrees with every vector', async () => {
  const worker = `${bundle}\nexport default { async fetch(request) { return Response.json(await checkVectors(await request.json())); } };`;
  mf = new Miniflare({ modules: true, script: worker, compatibilityDate: '2026-04-01' });
  const res = await mf.dispatchFetch('http://vectors/', { method: 'POST', body: JSON.stringify(files) });
  expectAllPass((await res.json()) as VectorResult[]);
}, 120_000);

it('Chromium: a page running the checker agrees with every vector', async () => {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    // WebCrypto needs a secure context: a loopback origin is one (about:blank is not).
    await page.route('http://127.0.0.1/vectors', (r) =>
      r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>vectors</title>' }),
    );
    await page.goto('http://127.0.0.1/vectors');
    await page.addScriptTag({ type: 'module', content: `${bundle}\nglobalThis.checkVectors = checkVectors;` });
    await page.waitForFunction(() => typeof (globalThis as any).checkVectors === 'function');
    const results = await page.evaluate((f) => (globalThis as any).checkVectors(f), files);
    expectAllPass(results as VectorResult[]);
  } finally {
    await browser.close();
  }
}, 120_000);
