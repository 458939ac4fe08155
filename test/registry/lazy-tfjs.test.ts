// TF.js is evaluated only by a publish commit (control-plane/src/validate/lazy.ts): an isolate
// that serves devices, operators and the console never evaluates it. Read in the deployable
// bundle's own isolate through workerd's inspector; no debug route exists in the Worker.
import { type Baseline, encodeUpload, sketchLayout, sketchNumeric, windowOf } from '@modelfleet/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildLayersModel } from '../fixtures/models.ts';
import { evaluateInWorker } from '../harness/inspector.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

// tfjs-core creates its engine when its module evaluates and keeps it on the global namespace
// it finds first (`window`, `global`, `process`, `self`); workerd with nodejs_compat has `global`.
const TFJS_EVALUATED = `[globalThis, globalThis.global, globalThis.process].some((ns) => ns != null && ns._tfengine !== undefined)`;
const tfjsEvaluated = async () => (await evaluateInWorker(worker.mf, TFJS_EVALUATED)) as boolean;

const edges = [-2, -1, 0, 1, 2];
const baseline: Baseline = { features: ['f0', 'f1', 'f2'].map((name) => ({ name, kind: 'numeric' as const, edges })) };
let worker: TestWorker;

beforeAll(async () => {
  worker = await startWorker({ inspector: true });
});
afterAll(() => worker?.dispose());

it('a fresh isolate serves devices, operators and the console without evaluating TF.js; a publish commit evaluates it', async () => {
  // Before anything is published: the bundle's start-up alone does not evaluate it.
  expect(await tfjsEvaluated()).toBe(false);

  await createModel(worker, 'fraud');
  const published = await publish(worker, 'fraud', await buildLayersModel({ seed: 3, inputs: 3 }), { baseline });
  expect(published.res.status).toBe(201);
  // The probe sees TF.js when it is there (so `false` below is not a probe that cannot say true).
  expect(await tfjsEvaluated()).toBe(true);

  // A new isolate on the same state: the situation of every isolate that only serves traffic.
  await worker.restart();
  expect(await tfjsEvaluated()).toBe(false);

  await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 1 } });
  const { appKey } = (await (
    await worker.api('/v1/apps', { method: 'POST', json: { name: 'web', models: ['*'] } })
  ).json()) as { appKey: string };
  const device = { token: null, headers: { 'x-modelfleet-app-key': appKey } };
  const ticket = await worker.api('/v1/edge/tickets/fraud?device=d1', device);
  expect(ticket.status).toBe(200);
  const digest = published.body.manifestDigest as string;
  const manifest = (await (await worker.api(`/v1/edge/manifests/${digest}`, { token: null })).json()) as {
    payload: string;
  };
  const { chunks } = JSON.parse(Buffer.from(manifest.payload, 'base64').toString()) as { chunks: { digest: string }[] };
  expect((await worker.api(`/v1/edge/chunks/${chunks[0]!.digest}`, { token: null })).status).toBe(200);
  expect((await worker.api('/v1/edge/roots', { token: null })).status).toBe(200);
  const layout = await sketchLayout(baseline);
  const sketch = encodeUpload(layout, {
    schemaDigest: layout.schemaDigest,
    window: windowOf(new Date()),
    features: [0, 1, 2].map((f) =>
      sketchNumeric(
        Array.from({ length: 30 }, (_, i) => Math.sin(i * 7 + f)),
        edges,
      ),
    ),
  });
  const ingest = await worker.api('/v1/edge/sketches/fraud/1?device=d1', {
    method: 'POST',
    token: null,
    body: sketch as unknown as BodyInit,
    headers: { 'content-type': 'application/octet-stream', 'x-modelfleet-app-key': appKey },
  });
  expect(ingest.status).toBe(202);
  // Operator reads and the console.
  expect((await worker.api('/v1/models/fraud/versions')).status).toBe(200);
  expect((await worker.api('/v1/openapi.json', { token: null })).status).toBe(200);
  expect((await worker.api('/console/login', { token: null })).status).toBe(200);
  expect(await tfjsEvaluated()).toBe(false);

  // The next publish loads it on demand, and validation still runs (a real model, a real check).
  const second = await publish(worker, 'fraud', await buildLayersModel({ seed: 4, inputs: 3 }), { baseline });
  expect(second.res.status).toBe(201);
  expect((second.body.checks as { name: string }[]).length).toBeGreaterThan(2);
  expect(await tfjsEvaluated()).toBe(true);
}, 60_000);
