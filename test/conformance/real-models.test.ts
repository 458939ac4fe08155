// Conformance on models nobody here made: third-party TF.js models as npm packages ship them
// (test/fixtures/real-models.ts). Each is published through the CLI, verified as a device would,
// loaded through the web SDK in Chromium on cpu, wasm and webgpu (SwiftShader), and its outputs
// compared with plain TF.js loading the same files on the same backend: equal on cpu, within
// 1e-5 elsewhere.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../harness/cli.ts';
import { launchChromium } from '../browser/chromium.ts';
import { type StaticServer, startStaticServer } from '../browser/server.ts';
import { REAL_MODELS, type RealModelId, ensureRealModels, readRealModel } from '../fixtures/real-models.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

/** What each model is run with: sizes for its dynamic dimensions, backends, and whether an image source is tried. */
const ALL = ['cpu', 'wasm', 'webgpu'] as const;
const CASES: { id: RealModelId; sizes: number[]; backends: readonly (typeof ALL)[number][]; image?: boolean }[] = [
  { id: 'movenet-lightning', sizes: [1], backends: ALL, image: true }, // int32 image input, the largest
  // Dynamic H×W, control flow, eight outputs. Not on webgpu: plain TF.js 4.22 itself cannot run it
  // on this Chromium's software WebGPU (SwiftShader) — the GPU process drops its instance mid-run
  // ("A valid external Instance reference no longer exists"), so there is nothing to compare with.
  { id: 'handtrack', sizes: [1, 64, 64, 3], backends: ['cpu', 'wasm'] },
  { id: 'facemesh', sizes: [1], backends: ALL }, // three outputs
  { id: 'nsfw-mobilenet-v2', sizes: [1], backends: ALL }, // layers
];

let worker: TestWorker;
let site: StaticServer;
let browser: Browser;
let appKey: string;
let cwd: string;

/** The CLI as a user runs it, against the current worker (some tests restart it). */
const cli = (...argv: string[]) => runCli(worker, cwd, ...argv);

beforeAll(async () => {
  const dirs = ensureRealModels();
  [worker, site, browser] = await Promise.all([startWorker({ http: true }), startStaticServer(), launchChromium()]);
  cwd = mkdtempSync(join(tmpdir(), 'modelfleet-conformance-'));
  writeFileSync(join(cwd, 'root.json'), JSON.stringify(worker.rootEnvelope));
  appKey = (
    (await (await worker.api('/v1/apps', { method: 'POST', json: { name: 'conformance', models: ['*'] } })).json()) as {
      appKey: string;
    }
  ).appKey;
  for (const { id } of CASES) {
    const m = readRealModel(id);
    site.files.set(`/models/${id}/model.json`, JSON.stringify(m.modelJson));
    for (const [p, bytes] of Object.entries(m.weightFiles)) site.files.set(`/models/${id}/${p}`, bytes);
    expect(dirs[id]).toContain(id);
  }
}, 180_000);

/** A fresh page per run: each backend's memory (a GPU device on the page and one in the worker) goes with it. */
async function openPage(): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`[conformance.html] ${e.message}`));
  await page.goto(`${site.url}/conformance.html`);
  await page.waitForFunction(() => (globalThis as unknown as { sdkReady?: boolean }).sdkReady === true);
  return page;
}
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await worker?.dispose();
});

describe.each(CASES)('$id', ({ id, sizes, backends, image }) => {
  it('publishes through the CLI and verifies as a device would', async () => {
    const published = await cli('publish', realDir(id), '--model', id, '--create', '--alias', 'champion');
    expect(published.code, published.err).toBe(0);
    expect(published.out).toMatch(new RegExp(`^${id} v1 active \\(${REAL_MODELS[id].format}\\)`));
    const verified = await cli('verify', id, '--root', 'root.json', '--app-key', appKey);
    expect(verified.code, verified.err).toBe(0);
    expect(verified.out).toContain(`verified ${id} v1`);
  }, 120_000);

  it.each(backends)(
    'on %s, predict equals plain TF.js on the same files',
    async (backend) => {
      const cfg = { endpoint: worker.url, appKey, trustRoot: worker.rootEnvelope };
      const page = await openPage();
      const r = await page
        .evaluate((a) => (globalThis as any).runConformance(a), {
          cfg,
          model: id,
          url: `/models/${id}/model.json`,
          format: REAL_MODELS[id].format,
          backend,
          sizes,
          imageData: image && backend === 'cpu',
        })
        .finally(() => page.close());
      expect(r).toMatchObject({ backend, version: 1 });
      const names = Object.keys(r.reference);
      expect(Object.keys(r.sdk).sort()).toEqual(names.sort());
      for (const name of names) {
        const [sdk, ref] = [r.sdk[name], r.reference[name]];
        expect(sdk.shape, name).toEqual(ref.shape);
        if (backend === 'cpu') expect(sdk.data, name).toEqual(ref.data);
        else
          (sdk.data as number[]).forEach((x, i) =>
            expect(Math.abs(x - ref.data[i]), `${name}[${i}]`).toBeLessThanOrEqual(
              1e-5 * Math.max(1, Math.abs(ref.data[i])),
            ),
          );
      }
      if (r.image) expect(r.image.sdk).toEqual(r.image.reference);
    },
    180_000,
  );
});

const realDir = (id: RealModelId) => ensureRealModels()[id];
