// The web SDK in real Chromium against the real control plane (workerd): the ESM page and the
// script-tag page, layers and graph models, CPU and WebGPU (SwiftShader), compared with plain
// TF.js loading the same model.json over HTTP.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGraphModel, buildLayersModel, type ModelArtifacts } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';
import { launchChromium } from './chromium.ts';
import { type StaticServer, startStaticServer } from './server.ts';

let worker: TestWorker;
let site: StaticServer;
let browser: Browser;
let appKey: string;
const models: Record<string, ModelArtifacts> = {};
const rows = [Array.from({ length: 16 }, (_, i) => Math.sin(i)), Array.from({ length: 16 }, (_, i) => Math.cos(i / 2))];

async function publishChampion(name: string, a: ModelArtifacts) {
  await createModel(worker, name);
  const r = await publish(worker, name, a, { format: a.format });
  expect(r.res.status).toBe(201);
  await worker.api(`/v1/models/${name}/aliases/champion`, { method: 'PUT', json: { version: r.body.version } });
  // The same files served plainly, for the reference page.
  site.files.set(`/models/${name}/model.json`, JSON.stringify(a.modelJson));
  for (const [p, bytes] of Object.entries(a.weightFiles)) site.files.set(`/models/${name}/${p}`, bytes);
}

async function open(page: string): Promise<Page> {
  const p = await browser.newPage();
  p.on('pageerror', (e) => console.error(`[${page}] ${e.message}`));
  await p.goto(`${site.url}/${page}`);
  await p.waitForFunction(() => (globalThis as unknown as { sdkReady?: boolean }).sdkReady === true);
  return p;
}

const cfg = (model: string, backends: string[], storage = `db-${Math.random()}`) => ({
  endpoint: worker.url,
  appKey,
  trustRoot: worker.rootEnvelope,
  model,
  rows,
  backends,
  storage,
});

beforeAll(async () => {
  [worker, site, browser] = await Promise.all([startWorker({ http: true }), startStaticServer(), launchChromium()]);
  appKey = (
    (await (await worker.api('/v1/apps', { method: 'POST', json: { name: 'browser', models: ['*'] } })).json()) as {
      appKey: string;
    }
  ).appKey;
  models.layers = await buildLayersModel({ seed: 51, inputs: 16, hidden: 32, outputs: 3 });
  models.graph = await buildGraphModel({ seed: 52, inputs: 16, outputs: 4 });
  await publishChampion('layers', models.layers);
  await publishChampion('graph', models.graph);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await worker?.dispose();
});

describe('web SDK in Chromium', () => {
  it.each(['layers', 'graph'] as const)(
    'ESM page: %s model through the worker equals plain TF.js over HTTP',
    async (name) => {
      const page = await open('esm.html');
      const r = await page.evaluate((c) => (globalThis as any).runSdk(c), cfg(name, ['cpu']));
      const ref = await (await open('reference.html')).evaluate((c) => (globalThis as any).runReference(c), {
        url: `/models/${name}/model.json`,
        format: models[name]!.format,
        rows,
      });
      expect(r).toMatchObject({ version: 1, backend: 'cpu' });
      expect(Object.values(r.out)[0]).toEqual(ref);
      expect(r.status[name]).toMatchObject({ state: 'ready', lastError: null });
    },
  );

  it('script-tag page exposes ModelFleet and gives the same outputs', async () => {
    const esm = await (await open('esm.html')).evaluate((c) => (globalThis as any).runSdk(c), cfg('layers', ['cpu']));
    const iife = await (await open('script-tag.html')).evaluate(
      (c) => (globalThis as any).runSdk(c),
      cfg('layers', ['cpu']),
    );
    expect(iife).toMatchObject({ version: 1, backend: 'cpu' });
    expect(iife.out).toEqual(esm.out);
  });

  it.each(['wasm', 'webgpu'] as const)(
    '%s backend (WebGPU on SwiftShader) runs and matches CPU numerically',
    async (backend) => {
      const page = await open('esm.html');
      const cpu = await page.evaluate((c) => (globalThis as any).runSdk(c), cfg('layers', ['cpu']));
      const other = await page.evaluate((c) => (globalThis as any).runSdk(c), cfg('layers', [backend]));
      expect(other.backend).toBe(backend);
      const a = (Object.values(cpu.out)[0] as number[][]).flat();
      const b = (Object.values(other.out)[0] as number[][]).flat();
      expect(b).toHaveLength(a.length);
      b.forEach((x, i) => expect(Math.abs(x - a[i]!)).toBeLessThan(1e-5));
    },
  );

  it('a lost WebGPU device falls back to WASM without losing the request', async () => {
    const page = await open('esm.html');
    const r = await page.evaluate((c) => (globalThis as any).runDeviceLoss(c), cfg('layers', []));
    expect(r).toMatchObject({ initial: 'webgpu', lost: true, now: 'wasm', reported: 'wasm', statusBackend: 'wasm' });
    const a = (Object.values(r.before)[0] as number[][]).flat();
    const b = (Object.values(r.after)[0] as number[][]).flat();
    b.forEach((x, i) => expect(Math.abs(x - a[i]!)).toBeLessThan(1e-5));
  });

  it('a second load in the same browser comes from IndexedDB without downloading chunks', async () => {
    const page = await open('esm.html');
    const storage = `persist-${Math.random()}`;
    await page.evaluate((c) => (globalThis as any).runSdk(c), cfg('layers', ['cpu'], storage));
    const chunkRequests: string[] = [];
    page.on('request', (req) => req.url().includes('/v1/edge/chunks/') && chunkRequests.push(req.url()));
    const again = await page.evaluate((c) => (globalThis as any).runSdk(c), cfg('layers', ['cpu'], storage));
    expect(again.version).toBe(1);
    expect(chunkRequests).toEqual([]);
  });
});
