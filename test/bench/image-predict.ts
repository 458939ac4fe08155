/**
 * @module bench/image-predict
 * Image predict on a real model (movenet-lightning, int32 [1,192,192,3], from
 * @vladmandic/human): an ImageData through the SDK's worker (bytes moved, pixels read in the
 * worker, outputs moved back) vs plain TF.js on the main thread (`tf.browser.fromPixels` →
 * execute → data), same backend, same picture, rounds interleaved, medians. Outputs checked equal.
 * The same pixels given as an Int32Array tensor separate the image path's cost from the worker hop.
 */
import { launchChromium } from '../browser/chromium.ts';
import { startStaticServer } from '../browser/server.ts';
import { readRealModel } from '../fixtures/real-models.ts';
import { createModel, publish } from '../harness/publish.ts';
import type { TestWorker } from '../harness/worker.ts';

type Row = { bench: string; value: string; anchor: string; ratio: string; target: string };

const PAGE = `<!doctype html><meta charset="utf-8"><script src="/tfjs/tf.min.js"></script><script src="/tfjs-wasm/tf-backend-wasm.min.js"></script>
<script type="module">
  import { createClient } from '/sdk/modelfleet.esm.js';
  tf.wasm.setWasmPaths('/tfjs-wasm/');
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  window.imagePredict = async ({ cfg, model, url, backend, iterations }) => {
    const px = new Uint8ClampedArray(192 * 192 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 7919) % 256));
    const image = new ImageData(px, 192, 192);
    await tf.setBackend(backend);
    await tf.ready();
    const plain = await tf.loadGraphModel(url);
    const client = await createClient({ ...cfg, backends: [backend], storage: 'bench-img-' + Math.random(), pollInterval: 0, telemetry: false });
    const m = await client.load(model);
    const sdkTimes = [], plainTimes = [], tensorTimes = [];
    const pixels = new Int32Array(192 * 192 * 3).map((_, i) => px[Math.floor(i / 3) * 4 + (i % 3)]);
    let sdkOut, plainOut;
    for (let i = 0; i < iterations + 2; i++) {
      let t = performance.now();
      sdkOut = Array.from(Object.values(await m.predict(image))[0].data);
      if (i >= 2) sdkTimes.push(performance.now() - t);
      t = performance.now();
      const y = tf.tidy(() => plain.execute(tf.browser.fromPixels(image).expandDims(0)));
      plainOut = Array.from(await y.data());
      y.dispose();
      if (i >= 2) plainTimes.push(performance.now() - t);
      t = performance.now();
      await m.predict({ data: pixels, shape: [1, 192, 192, 3] }, { transfer: false });
      if (i >= 2) tensorTimes.push(performance.now() - t);
    }
    await client.close();
    plain.dispose();
    return { sdk: median(sdkTimes), plain: median(plainTimes), tensor: median(tensorTimes), same: JSON.stringify(sdkOut) === JSON.stringify(plainOut) };
  };
  window.sdkReady = true;
</script>`;

export async function imagePredictBench(worker: TestWorker, appKey: string): Promise<Row[]> {
  const movenet = readRealModel('movenet-lightning');
  await createModel(worker, 'movenet-bench');
  const p = await publish(worker, 'movenet-bench', movenet, { format: movenet.format });
  if (p.res.status !== 201) throw new Error(`publish movenet: ${JSON.stringify(p.body)}`);
  await worker.api('/v1/models/movenet-bench/aliases/champion', { method: 'PUT', json: { version: p.body.version } });
  const site = await startStaticServer();
  site.files.set('/image-bench.html', PAGE);
  site.files.set('/models/movenet/model.json', JSON.stringify(movenet.modelJson));
  for (const [path, bytes] of Object.entries(movenet.weightFiles)) site.files.set(`/models/movenet/${path}`, bytes);
  const browser = await launchChromium();
  const rows: Row[] = [];
  try {
    for (const [backend, iterations] of [
      ['wasm', 30],
      ['cpu', 8],
    ] as const) {
      const page = await browser.newPage(); // one TF.js page and one SDK worker per backend
      await page.goto(`${site.url}/image-bench.html`);
      await page.waitForFunction(() => (globalThis as unknown as { sdkReady?: boolean }).sdkReady === true);
      const cfg = { endpoint: worker.url, appKey, trustRoot: worker.rootEnvelope };
      const r = (await page.evaluate((a) => (globalThis as any).imagePredict(a), {
        cfg,
        model: 'movenet-bench',
        url: '/models/movenet/model.json',
        backend,
        iterations,
      })) as { sdk: number; plain: number; tensor: number; same: boolean };
      await page.close();
      if (!r.same) throw new Error(`image predict on ${backend}: the SDK and plain TF.js disagree`);
      rows.push(
        {
          bench: `image predict, movenet 192×192 ImageData (${backend}): SDK worker vs main-thread TF.js`,
          value: `${r.sdk.toFixed(1)} ms`,
          anchor: `${r.plain.toFixed(1)} ms fromPixels + execute`,
          ratio: `${(r.sdk / r.plain).toFixed(2)}×`,
          target: '≤ 1.10×',
        },
        {
          bench: `  same pixels as an Int32Array tensor through the worker (${backend})`,
          value: `${r.tensor.toFixed(1)} ms`,
          anchor: `${r.plain.toFixed(1)} ms`,
          ratio: `${(r.tensor / r.plain).toFixed(2)}×`,
          target: '—',
        },
      );
    }
  } finally {
    await browser.close();
    await site.close();
  }
  return rows;
}
