/**
 * @module bench/sdk
 * Web SDK figures, each beside its anchor from the same run: cold and warm loads of real models
 * in fresh browser contexts (sdk-cold.ts); predict through the worker vs TF.js on the main thread;
 * bytes downloaded for a last-layer update vs the full model (Node, real control plane).
 */
import 'fake-indexeddb/auto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createClient } from '../../web-sdk/src/client.ts';
import { createEngine } from '../../web-sdk/src/engine.ts';
import { openStore } from '../../web-sdk/src/store.ts';
import { launchChromium } from '../browser/chromium.ts';
import { startStaticServer } from '../browser/server.ts';
import { buildLayersModel, withChangedTensor } from '../fixtures/models.ts';
import { ROOT } from '../harness/bundle.ts';
import { createModel, publish } from '../harness/publish.ts';
import type { TestWorker } from '../harness/worker.ts';
import { coldLoadBench } from './sdk-cold.ts';

export interface Row {
  bench: string;
  value: string;
  anchor: string;
  ratio: string;
  target: string;
}
const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export async function sdkBench(worker: TestWorker, appKey: string): Promise<Row[]> {
  const rows: Row[] = [];
  execFileSync(process.execPath, [join(ROOT, 'web-sdk/scripts/build.mjs')], { stdio: 'pipe' });
  // ~4.2 MiB: 1024 → 1024 → 16, big enough that loading is more than start-up.
  const width = 1024;
  const v1 = await buildLayersModel({ seed: 71, inputs: width, hidden: 1024, outputs: 16 });
  await createModel(worker, 'sdkbench');
  const p1 = await publish(worker, 'sdkbench', v1);
  await worker.api('/v1/models/sdkbench/aliases/champion', { method: 'PUT', json: { version: p1.body.version } });

  // Update bytes (Node SDK against the real control plane): last layer changed vs full model.
  const store = await openStore(`bench-${Date.now()}`);
  const client = await createClient({
    endpoint: worker.url,
    appKey,
    trustRoot: worker.rootEnvelope,
    storage: store,
    runner: createEngine(),
    backends: ['cpu'],
    pollInterval: 0,
  });
  const model = await client.load('sdkbench');
  const v2 = withChangedTensor(v1, 'out/kernel');
  const p2 = await publish(worker, 'sdkbench', v2);
  await worker.api('/v1/models/sdkbench/aliases/champion', { method: 'PUT', json: { version: p2.body.version } });
  const update = await model.reload();
  await client.close();
  const changed = 1024 * 16 * 4;
  rows.push({
    bench: 'SDK update, sdkbench 1024-1024-16: last layer changed',
    value: `${fmt(update.downloadedBytes / 1024)} KiB`,
    anchor: `${fmt(v1.weightData.byteLength / 1024)} KiB full`,
    ratio: `${fmt((100 * update.downloadedBytes) / v1.weightData.byteLength, 2)} % (changed ${fmt(changed / 1024)} KiB)`,
    target: '≤ changed + one chunk',
  });

  const site = await startStaticServer();
  site.files.set('/models/sdkbench/model.json', JSON.stringify(v2.modelJson));
  for (const [p, bytes] of Object.entries(v2.weightFiles)) site.files.set(`/models/sdkbench/${p}`, bytes);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${site.url}/bench.html`);
    await page.waitForFunction(() => (globalThis as unknown as { sdkReady?: boolean }).sdkReady === true);
    const cfg = { endpoint: worker.url, appKey, trustRoot: worker.rootEnvelope, model: 'sdkbench' };
    const url = '/models/sdkbench/model.json';
    for (const [batch, iters] of [
      [1, 40],
      [256, 20],
    ] as const) {
      const r = await page.evaluate((a) => (globalThis as any).predictLatency(a), { cfg, url, width, batch, iters });
      rows.push({
        bench: `predict batch ${batch}: worker (SDK) vs main-thread TF.js, CPU`,
        value: `${fmt(r.sdk, 2)} ms`,
        anchor: `${fmt(r.plain, 2)} ms`,
        ratio: `${fmt(r.sdk / r.plain, 2)}×`,
        target: batch === 256 ? '≤ 1.10×' : '—',
      });
    }
  } finally {
    await browser.close();
    await site.close();
  }
  rows.push(...(await coldLoadBench(worker, appKey)));
  return rows;
}
