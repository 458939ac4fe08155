// Image inputs in real Chromium: every source type the browser can produce here (ImageData,
// ImageBitmap, <canvas>, OffscreenCanvas, <img>, VideoFrame, <video>) goes through the SDK's
// worker and gives exactly what the same pixels give as a tensor; resizing, normalisation and
// batches; refusals before anything runs.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildImageModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';
import { launchChromium } from './chromium.ts';
import { type StaticServer, startStaticServer } from './server.ts';

let worker: TestWorker;
let site: StaticServer;
let browser: Browser;
let appKey: string;
const SIZE = 16;

beforeAll(async () => {
  [worker, site, browser] = await Promise.all([startWorker({ http: true }), startStaticServer(), launchChromium()]);
  appKey = (
    (await (await worker.api('/v1/apps', { method: 'POST', json: { name: 'images', models: ['*'] } })).json()) as {
      appKey: string;
    }
  ).appKey;
  await createModel(worker, 'pixels');
  const r = await publish(worker, 'pixels', await buildImageModel({ seed: 5, size: SIZE }));
  expect(r.res.status).toBe(201);
  await worker.api('/v1/models/pixels/aliases/champion', { method: 'PUT', json: { version: r.body.version } });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await worker?.dispose();
});

it('every image source gives what its pixels give as a tensor; resize, normalise, batch; refusals keep the model serving', async () => {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`[images.html] ${e.message}`));
  await page.goto(`${site.url}/images.html`);
  await page.waitForFunction(() => (globalThis as unknown as { sdkReady?: boolean }).sdkReady === true);
  const out = await page.evaluate((c) => (globalThis as any).runImages(c), {
    endpoint: worker.url,
    appKey,
    trustRoot: worker.rootEnvelope,
    model: 'pixels',
    size: SIZE,
  });

  const reference = out.reference as number[][];
  expect(reference).toHaveLength(1);
  expect(reference[0]).toHaveLength(4);
  // Lossless sources: the very same numbers (CPU backend, same pixels, same kernels).
  for (const source of [
    'ImageData',
    'ImageBitmap',
    'HTMLCanvasElement',
    'OffscreenCanvas',
    'HTMLImageElement',
    'VideoFrame',
  ]) {
    expect(out[source], source).toEqual(reference);
  }
  expect(out.HTMLVideoElement).toEqual(out.videoReference);
  expect(out.videoReference).not.toEqual(reference); // a different picture: the comparison can fail
  expect(out.resizedPixelated).toEqual(reference);
  expect(out.resizeOff).toMatch(/^input_shape: image 0 for input \S+ is 32×32; the model takes 16×16/);
  expect(out.normalised).toEqual(out.normalisedReference);
  expect(out.normalised).not.toEqual(reference);
  expect(out.batch).toEqual(out.batchReference);
  expect(out.notLoaded).toMatch(/^input_value: image for input \S+ has not loaded/);
  expect(out.badStd).toMatch(/^bad_input: image std for input \S+ must be one finite number or 3/);
  expect(out.movedLength).toBe(0); // zero-copy: the first predict moved the buffer to the worker
  expect(out.detached).toMatch(/^input_detached: .*\{ transfer: false \}/);
  expect(out.afterRefusals).toEqual(reference);
});
