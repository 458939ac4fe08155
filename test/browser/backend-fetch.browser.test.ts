// What the inference worker downloads per backend, in real Chromium: a CPU-only load fetches no
// .wasm and no backend chunk; a WASM load fetches the WASM chunk and exactly one .wasm binary;
// a WebGPU load (SwiftShader) fetches the WebGPU chunk only. Chunk names come from the build's
// own report (web-sdk/dist/sizes.json, written by the global setup's build).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayersModel } from '../fixtures/models.ts';
import { ROOT } from '../harness/bundle.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';
import { launchChromium } from './chromium.ts';
import { type StaticServer, startStaticServer } from './server.ts';

let worker: TestWorker;
let site: StaticServer;
let browser: Browser;
let appKey: string;
const rows = [Array.from({ length: 8 }, (_, i) => Math.sin(i))];

const backends = (
  JSON.parse(readFileSync(join(ROOT, 'web-sdk/dist/sizes.json'), 'utf8')) as {
    worker: { backends: Record<string, { files: string[] }> };
  }
).worker.backends;
/** The chunk a backend adds to what a CPU-only worker loads. */
const chunkOf = (backend: string) => backends[backend]!.files.filter((f) => !backends.cpu!.files.includes(f));

beforeAll(async () => {
  [worker, site, browser] = await Promise.all([startWorker({ http: true }), startStaticServer(), launchChromium()]);
  appKey = (
    (await (await worker.api('/v1/apps', { method: 'POST', json: { name: 'fetches', models: ['*'] } })).json()) as {
      appKey: string;
    }
  ).appKey;
  await createModel(worker, 'small');
  const r = await publish(worker, 'small', await buildLayersModel({ seed: 61, inputs: 8, hidden: 8, outputs: 2 }));
  expect(r.res.status).toBe(201);
  await worker.api('/v1/models/small/aliases/champion', { method: 'PUT', json: { version: r.body.version } });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await worker?.dispose();
});

/** Loads and runs the model on `backend` in a fresh page (its own HTTP cache); the SDK files it requested. */
async function load(backend: string): Promise<{ backend: string; sdkFiles: string[] }> {
  const page = await browser.newPage();
  const requested: string[] = [];
  page.on(
    'request',
    (req) => req.url().startsWith(`${site.url}/sdk/`) && requested.push(req.url().slice(`${site.url}/sdk/`.length)),
  );
  page.on('pageerror', (e) => console.error(`[esm.html] ${e.message}`));
  try {
    await page.goto(`${site.url}/esm.html`);
    await page.waitForFunction(() => (globalThis as unknown as { sdkReady?: boolean }).sdkReady === true);
    const r = await page.evaluate((c) => (globalThis as any).runSdk(c), {
      endpoint: worker.url,
      appKey,
      trustRoot: worker.rootEnvelope,
      model: 'small',
      rows,
      backends: [backend],
      storage: `db-${backend}`,
    });
    return { backend: r.backend, sdkFiles: requested };
  } finally {
    await page.close();
  }
}

describe('the worker fetches only the backend it runs on', () => {
  it('the build has one chunk for WASM and one for WebGPU', () => {
    expect(chunkOf('wasm')).toHaveLength(1);
    expect(chunkOf('webgpu')).toHaveLength(1);
  });

  it('CPU only: no .wasm and no backend chunk', async () => {
    const r = await load('cpu');
    expect(r.backend).toBe('cpu');
    expect(r.sdkFiles).toEqual(expect.arrayContaining(backends.cpu!.files)); // the worker's own imports are seen here
    expect(r.sdkFiles.filter((f) => f.endsWith('.wasm'))).toEqual([]);
    expect(r.sdkFiles.filter((f) => [...chunkOf('wasm'), ...chunkOf('webgpu')].includes(f))).toEqual([]);
  });

  it('WASM: its chunk and exactly one .wasm', async () => {
    const r = await load('wasm');
    expect(r.backend).toBe('wasm');
    expect(r.sdkFiles.filter((f) => f.endsWith('.wasm'))).toHaveLength(1);
    expect(r.sdkFiles).toContain(chunkOf('wasm')[0]);
    expect(r.sdkFiles).not.toContain(chunkOf('webgpu')[0]);
  });

  it('WebGPU: its chunk, no .wasm', async () => {
    const r = await load('webgpu');
    expect(r.backend).toBe('webgpu');
    expect(r.sdkFiles).toContain(chunkOf('webgpu')[0]);
    expect(r.sdkFiles.filter((f) => f.endsWith('.wasm') || f === chunkOf('wasm')[0])).toEqual([]);
  });
});
