// Device-side drift telemetry: predict inputs are sketched off the inference path, uploaded once
// per window through the persisted outbox, and failures are counted, never thrown.
import { toArrays } from '../src/tensors.ts';
import {
  type Baseline,
  OUTPUT_CLASS,
  OUTPUT_CONFIDENCE,
  decodeUpload,
  healthLayout,
  quantizeFractions,
  sketchLayout,
  sketchNumeric,
  tensorStats,
  windowOf,
} from '@modelfleet/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildLayersModel } from '../../test/fixtures/models.ts';
import { createModel, publish } from '../../test/harness/publish.ts';
import type { TestWorker } from '../../test/harness/worker.ts';
import type { Runner } from '../src/client.ts';
import { createEngine } from '../src/engine.ts';
import { OUTBOX_LIMIT } from '../src/telemetry/outbox.ts';
import { controlPlane, faultyFetch, sdkClient, setChampion } from './helpers.ts';

const edges = [-2, -1.28, -0.84, -0.52, -0.25, 0, 0.25, 0.52, 0.84, 1.28, 2];
const baseline: Baseline = {
  features: ['a', 'b', 'c', 'd'].map((name) => ({ name, kind: 'numeric' as const, edges })),
};
let worker: TestWorker & { appKey: string };
const rows = Array.from({ length: 40 }, (_, i) => [Math.sin(i), Math.cos(i), Math.sin(2 * i), (i % 3) - 1]);
const today = windowOf(new Date());
const status = async () =>
  (await (await worker.api(`/v1/models/drifty/versions/1/sketches/${today}`)).json()) as { devices: number };

beforeAll(async () => {
  worker = await controlPlane();
  await createModel(worker, 'drifty');
  expect(
    (await publish(worker, 'drifty', await buildLayersModel({ seed: 81, inputs: 4 }), { baseline })).res.status,
  ).toBe(201);
  await setChampion(worker, 'drifty', 1);
});
afterAll(() => worker?.dispose());

it('sketches predict inputs and uploads once per window; a second flush is a counted duplicate', async () => {
  const { client } = await sdkClient(worker, { deviceId: 'tel-1' });
  const model = await client.load('drifty');
  for (let i = 0; i < rows.length; i += 8) await model.predict(rows.slice(i, i + 8));
  const stats = await client.flush();
  expect(stats).toMatchObject({ sent: 2, queued: 0 }); // the sketch and the health record
  expect(await status()).toMatchObject({ devices: 1 });
  await model.predict(rows.slice(0, 20));
  const again = await client.flush();
  expect(again.dropped.duplicate).toBe(2); // the server refuses a second upload of each for the window
  expect(await status()).toMatchObject({ devices: 1 });
  await client.close();
});

it('keeps the sketch queued through 5xx and network failures, and sends it later', async () => {
  let down = true;
  // While "down", sketch uploads never reach the server.
  const flaky: typeof fetch = (input, init) =>
    down && String(input).includes('/sketches/')
      ? Promise.resolve(new Response('{}', { status: 503 }))
      : fetch(input, init);
  let clock = Date.now();
  const { client } = await sdkClient(worker, { deviceId: 'tel-2', fetch: flaky, now: () => new Date(clock) });
  const model = await client.load('drifty');
  await model.predict(rows);
  const failed = await client.flush();
  expect(failed).toMatchObject({ sent: 0, queued: 2 });
  expect(failed.nextAttemptAt).toBeGreaterThan(clock);
  down = false;
  clock += 3600_000; // past the backoff
  const ok = await client.telemetry();
  expect(ok.queued).toBe(2);
  const sent = await client.flush();
  expect(sent).toMatchObject({ sent: 2, queued: 0 });
  await client.close();
});

it('never lets telemetry fail a predict, and bounds the outbox', async () => {
  const { client, store } = await sdkClient(worker, {
    deviceId: 'tel-3',
    fetch: faultyFetch([
      {
        match: /\/sketches\//,
        rewrite: () => {
          throw new TypeError('offline');
        },
      },
    ]),
  });
  for (let i = 0; i < OUTBOX_LIMIT + 5; i++)
    await store.db.put('outbox', {
      id: `x${i}`,
      model: 'drifty',
      version: 1,
      window: i,
      bytes: new Uint8Array(4),
      attempts: 0,
    });
  const model = await client.load('drifty');
  expect(await model.predict([[Number.NaN, Infinity, -Infinity, 1e308]])).toHaveProperty('out');
  await model.predict(rows);
  const stats = await client.flush();
  expect(stats.dropped.queue_full).toBe(2); // this window's sketch and health record
  expect(stats.queued).toBe(OUTBOX_LIMIT + 5);
  await client.close();
});

it('sketches the outputs too: predicted class and confidence against the output baseline', async () => {
  const withOutputs: Baseline = {
    ...baseline,
    outputs: { classCounts: [60, 40], confidenceDeciles: [0.52, 0.55, 0.58, 0.6, 0.63, 0.67, 0.72, 0.8, 0.9] },
  };
  await createModel(worker, 'scored');
  expect(
    (await publish(worker, 'scored', await buildLayersModel({ seed: 82, inputs: 4 }), { baseline: withOutputs })).res
      .status,
  ).toBe(201);
  await setChampion(worker, 'scored', 1);
  const layout = await sketchLayout(withOutputs);
  expect(layout.features.map((f) => f.name)).toEqual(['a', 'b', 'c', 'd', OUTPUT_CLASS, OUTPUT_CONFIDENCE]);
  const sent: Uint8Array[] = [];
  const spy: typeof fetch = async (input, init) => {
    if (String(input).includes('/sketches/scored/')) sent.push(new Uint8Array(init!.body as ArrayBuffer));
    return fetch(input, init);
  };
  const { client } = await sdkClient(worker, { deviceId: 'tel-4', fetch: spy });
  const model = await client.load('scored');
  const probs = (toArrays(await model.predict(rows)).out as number[][]).map((r) => r[0]!);
  expect((await client.flush()).sent).toBe(2);
  expect(sent).toHaveLength(1); // the health record went to /health/
  const upload = decodeUpload(layout, sent[0]!);
  const positives = probs.filter((p) => p > 0.5).length;
  const classBins = upload.features[4]!.bins; // '0', '1', OTHER, MISSING
  expect(classBins[1]! / 4096).toBeCloseTo(positives / rows.length, 3);
  expect(classBins.slice(2)).toEqual([0, 0]);
  const confidence = upload.features[5]!;
  expect(confidence.bins.reduce((a, b) => a + b, 0)).toBe(4096);
  await client.close();
});

it('records health: loads, predict outcomes with non-finite outputs, latency, backend and label feedback', async () => {
  const health: Uint8Array[] = [];
  const spy: typeof fetch = async (input, init) => {
    if (String(input).includes('/health/drifty/1')) health.push(new Uint8Array(init!.body as ArrayBuffer));
    return fetch(input, init);
  };
  // The model fails once, as a kernel would; a bad input is the app's error and is not counted.
  const engine = createEngine();
  let failNext = false;
  const runner: Runner = {
    ...engine,
    predict: (h, w) =>
      failNext ? ((failNext = false), Promise.reject(new Error('kernel failed'))) : engine.predict(h, w),
  };
  const { client } = await sdkClient(worker, { deviceId: 'tel-5', fetch: spy, runner });
  const model = await client.load('drifty');
  for (let i = 0; i < 15; i++) await model.predict(rows.slice(i, i + 2));
  model.feedback(0, [0.2]); // one sigmoid output: 0.2 → class 0, confirmed
  model.feedback(1, [0.2]); // contradicted
  model.feedback('1', [0.9]); // confirmed
  await model.predict([[Number.NaN, 0, 0, 0]]); // NaN in, NaN out
  model.feedback(1); // the last prediction was not finite: nothing to compare, not counted
  await expect(model.predict([[1, 2]])).rejects.toMatchObject({ code: 'input_shape' }); // wrong width: refused, not run
  failNext = true;
  await expect(model.predict([[1, 2, 3, 4]])).rejects.toMatchObject({ code: 'inference_failed' });
  expect((await client.flush()).sent).toBe(2);
  const layout = await healthLayout();
  const [load, predict, latency, backend, feedback] = decodeUpload(layout, health[0]!).features;
  expect(feedback!.bins).toEqual(quantizeFractions([2, 1, 0, 0])); // correct, incorrect (labels never leave the device)
  expect(load!.bins.slice(0, 3)).toEqual([4096, 0, 0]); // one load, ok
  expect(predict!.bins.slice(0, 3)).toEqual(quantizeFractions([15, 1, 1, 0, 0]).slice(0, 3)); // ok, inference_error, non_finite
  expect(latency!.bins.reduce((a, b) => a + b, 0)).toBe(4096); // 16 timed calls (errors are not timed)
  expect(backend!.bins.slice(0, 3)).toEqual([0, 0, 4096]); // cpu answered every call
  await client.close();
});

it('measures the declared statistics of tensor inputs in the worker and sketches them beside the columns', async () => {
  await createModel(worker, 'measured');
  const artifacts = await buildLayersModel({ seed: 83, inputs: 3 });
  expect((await publish(worker, 'measured', artifacts)).res.status).toBe(201);
  await setChampion(worker, 'measured', 1);
  const probe = await sdkClient(worker, { deviceId: 'tel-6' });
  const input = (await probe.client.load('measured')).io.inputs[0]!.name; // as the signed io signature names it
  await probe.client.close();
  // Column 0, then two statistics of the same input: the column keeps its index, the statistics go by name.
  const measured: Baseline = {
    features: [
      { name: 'a', kind: 'numeric', edges },
      { name: `@input.${input}.mean`, kind: 'numeric', edges: [-1, -0.5, 0, 0.5, 1] },
      { name: `@input.${input}.std`, kind: 'numeric', edges: [0, 0.25, 0.5, 0.75, 1, 1.5] },
    ],
  };
  expect((await publish(worker, 'measured', artifacts, { baseline: measured })).res.status).toBe(201);
  await setChampion(worker, 'measured', 2);
  const sent: Uint8Array[] = [];
  const spy: typeof fetch = async (url, init) => {
    if (String(url).includes('/sketches/measured/2')) sent.push(new Uint8Array(init!.body as ArrayBuffer));
    return fetch(url, init);
  };
  const { client } = await sdkClient(worker, { deviceId: 'tel-7', fetch: spy });
  const model = await client.load('measured');
  const three = rows.map((r) => r.slice(0, 3));
  for (let i = 0; i < 32; i += 8) await model.predict(three.slice(i, i + 8)); // nested arrays
  await model.predict({ data: Float32Array.from(three.slice(32).flat()), shape: [8, 3] }); // { data, shape }
  expect((await client.flush()).sent).toBe(2);
  const layout = await sketchLayout(measured);
  const upload = decodeUpload(layout, sent[0]!);
  // What the device sent is exactly the sketch of each row's statistics (on the float32 values the model got).
  const stats = three.map((r) => tensorStats(Float32Array.from(r)));
  expect(upload.features[0]).toEqual(
    sketchNumeric(
      three.map((r) => r[0]!),
      edges,
    ),
  );
  expect(upload.features[1]).toEqual(
    sketchNumeric(
      stats.map((s) => s.mean),
      measured.features[1]!.edges as number[],
    ),
  );
  expect(upload.features[2]).toEqual(
    sketchNumeric(
      stats.map((s) => s.std),
      measured.features[2]!.edges as number[],
    ),
  );
  await client.close();
});
