// Where the SDK meets the page's environment: a worker that cannot start or never answers is a
// coded worker_failed within its bound (never a hang); missing WASM binaries show in status() with
// TF.js's reason while the model runs on the next backend; the <script> build served from another
// origin (a CDN) starts its worker and finds its WASM there.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { referencePredict } from '../../web-sdk/test/helpers.ts';
import { buildLayersModel, type ModelArtifacts } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';
import { launchChromium } from './chromium.ts';
import { type StaticServer, startStaticServer } from './server.ts';

let worker: TestWorker;
let site: StaticServer;
let cdn: StaticServer;
let browser: Browser;
let appKey: string;
let model: ModelArtifacts;
const rows = [
  [0.1, -0.4, 0.7, 0.2],
  [1, 0, -1, 0.5],
];

beforeAll(async () => {
  [worker, site, cdn, browser] = await Promise.all([
    startWorker({ http: true }),
    startStaticServer(),
    startStaticServer({ cors: true }),
    launchChromium(),
  ]);
  appKey = (
    (await (await worker.api('/v1/apps', { method: 'POST', json: { name: 'env', models: ['*'] } })).json()) as {
      appKey: string;
    }
  ).appKey;
  model = await buildLayersModel({ seed: 61, inputs: 4, hidden: 8, outputs: 2 });
  await createModel(worker, 'env');
  const r = await publish(worker, 'env', model);
  await worker.api('/v1/models/env/aliases/champion', { method: 'PUT', json: { version: r.body.version } });
  // An app whose server answers index.html for a missing script (what a SPA fallback does).
  site.files.set('/assets/modelfleet.worker.js', { body: '<!doctype html><title>app</title>', type: 'text/html' });
  site.files.set('/silent-worker.js', '// evaluates and never answers');
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all([site?.close(), cdn?.close()]);
  await worker?.dispose();
});

async function open(url: string): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`[${url}] ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as { sdkReady?: boolean }).sdkReady === true);
  return page;
}
/** Chromium's and Node's TF.js CPU kernels agree to float32 rounding. */
async function expectReference(out: number[][]) {
  const ref = (await referencePredict(model, rows)) as number[][];
  expect(out.flat()).toHaveLength(ref.flat().length);
  out.flat().forEach((x, i) => expect(Math.abs(x - ref.flat()[i]!)).toBeLessThan(1e-5));
}
const cfg = () => ({ endpoint: worker.url, appKey, trustRoot: worker.rootEnvelope, model: 'env' });

it.each([
  ['a worker URL that answers HTML', '/assets/modelfleet.worker.js', 10_000, /did not start/],
  ['a worker that never answers', '/silent-worker.js', 1_500, /did not answer within 1500 ms/],
])('%s → worker_failed within the bound, not a hang', async (_, workerUrl, workerTimeout, message) => {
  const page = await open(`${site.url}/environment.html`);
  const r = await page.evaluate((a) => (globalThis as any).brokenWorker(a), { cfg: cfg(), workerUrl, workerTimeout });
  expect(r).toMatchObject({ ok: false, code: 'worker_failed' });
  expect(r.message).toMatch(message);
  expect(r.ms).toBeLessThan(workerTimeout + 3_000);
  await page.close();
});

it('missing WASM binaries: runs on CPU, and status() names WASM with the reason', async () => {
  const page = await open(`${site.url}/environment.html`);
  const r = await page.evaluate((a) => (globalThis as any).missingWasm(a), { cfg: cfg(), rows });
  expect(r.backend).toBe('cpu');
  await expectReference(r.out.out);
  expect(r.status.backendProblems).toHaveLength(1);
  expect(r.status.backendProblems[0]).toMatchObject({ backend: 'wasm' });
  expect(r.status.backendProblems[0].reason).toMatch(/no-such-folder|404|fetch|wasm/i);
  await page.close();
});

it.each([['cpu'], ['wasm']])(
  'the <script> build from another origin runs on %s, its worker and WASM from that origin',
  async (backend) => {
    const page = await open(`${site.url}/cdn.html?cdn=${encodeURIComponent(cdn.url)}`);
    const fromCdn: string[] = [];
    page.on('request', (r) => r.url().startsWith(cdn.url) && fromCdn.push(new URL(r.url()).pathname));
    const r = await page.evaluate((a) => (globalThis as any).runCdn(a), { cfg: cfg(), rows, backends: [backend] });
    expect(r).toMatchObject({ backend, problems: [] });
    await expectReference(r.out.out);
    expect(fromCdn).toContain('/sdk/modelfleet.worker.js');
    expect(fromCdn.filter((p) => p.endsWith('.wasm'))).toEqual(
      backend === 'wasm' ? ['/sdk/tfjs-backend-wasm-simd.wasm'] : [],
    );
    await page.close();
  },
);
