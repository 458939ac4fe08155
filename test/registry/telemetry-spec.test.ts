// A telemetry client written from protocol/SPEC.md §10 alone: plain Node (node:crypto, DataView),
// no web SDK and none of protocol's sketch code. It reads the signed baseline from the manifest the
// edge serves, derives the layout and its schemaDigest, encodes drift sketches and health records
// byte for byte, uploads them through the real edge in workerd, and sees them counted in the closed
// window; its refusals come back with the codes SPEC 10.7 and /v1/openapi.json document.
// (Signature checks of SPEC §1–§2 are other suites' business; this one is about §10.)
// (The client itself: telemetry-spec-client.ts.)
import { createHash } from 'node:crypto';
import * as protocol from '@modelfleet/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';
import {
  COMPONENT_SCALE,
  HEADER_BYTES,
  HEALTH_BASELINE,
  HEALTH_DIGEST,
  K,
  type Layout,
  MAX_SAMPLES,
  MAX_UPLOAD_BYTES,
  MIN_SAMPLES,
  SKETCH_SCALE,
  type SpecBaseline,
  VECTOR_BASELINE,
  VECTOR_DIGEST,
  type Value,
  encode,
  encodeFeature,
  healthRecord,
  specLayout,
} from './telemetry-spec-client.ts';

// ---- The fleet ----------------------------------------------------------------------------------
const baseline: SpecBaseline = {
  features: [
    // An atom at 0 (40 % → 60 %): values of exactly 0 get u spread over the jump (SPEC 10.4).
    {
      name: 'amount',
      kind: 'numeric',
      edges: [-2, -1, 0, 1, 2],
      pit: [
        [-3, 0],
        [-1, 0.16],
        [0, 0.4, 0.6],
        [1, 0.84],
        [3, 1],
      ],
    },
    { name: 'age', kind: 'numeric', edges: [0, 0.25, 0.5, 0.75, 1] },
    { name: 'channel', kind: 'categorical', vocabulary: ['web', 'app', 'pos'] },
  ],
  outputs: { classCounts: [60, 40], confidenceDeciles: [0.5, 0.55, 0.6, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99] },
};
const DEVICES = 5;
let worker: TestWorker;
let appKey: string;
let layout: Layout;
let health: Layout;
const today = Math.floor(Date.now() / 86_400_000);

const post = (channel: string, device: string, body: Uint8Array) =>
  worker.api(`/v1/edge/${channel}/spec/1?device=${device}`, {
    method: 'POST',
    token: null,
    body: body as unknown as BodyInit,
    headers: { 'content-type': 'application/octet-stream', 'x-modelfleet-app-key': appKey },
  });

const deviceSketch = (d: number, digest?: string) => {
  const rand = (i: number) => Math.sin(d * 97 + i * 13.7) * 0.5 + 0.5; // deterministic, in [0, 1]
  const n = 20 + d;
  const values: Value[][] = [
    Array.from({ length: n }, (_, i) => (i === 3 ? null : i % 4 === 0 ? 0 : 4 * rand(i) - 2)), // one missing value, a quarter exactly 0
    Array.from({ length: n }, (_, i) => rand(i + 100)),
    Array.from({ length: n }, (_, i) => ['web', 'app', 'pos', 'kiosk'][Math.floor(rand(i + 200) * 4) % 4]!),
    Array.from({ length: n }, (_, i) => String(rand(i + 300) < 0.6 ? 0 : 1)),
    Array.from({ length: n }, (_, i) => 0.5 + rand(i + 400) / 2),
  ];
  return encode(
    layout,
    today,
    layout.features.map((f, i) => encodeFeature(f, values[i]!)),
    digest,
  );
};

/** The documented `error.code`s of a status on a telemetry route, from /v1/openapi.json. */
let openapi: {
  paths: Record<string, { post: { responses: Record<string, any>; requestBody: any; parameters: any[] } }>;
};
const documented = (channel: string, status: number): string[] =>
  openapi.paths[`/v1/edge/${channel}/{model}/{version}`]?.post.responses[String(status)]?.content['application/json']
    .schema.properties.error.properties.code.enum ?? [];

async function expectRefused(res: Response, channel: string, status: number, code: string) {
  const body = (await res.json()) as { error: { code: string } };
  expect({ status: res.status, code: body.error.code }).toEqual({ status, code });
  expect(documented(channel, status)).toContain(code);
}

beforeAll(async () => {
  worker = await startWorker({ vars: { DRIFT_MIN_DEVICES: '3' } });
  await createModel(worker, 'spec');
  const p = await publish(worker, 'spec', await buildLayersModel({ seed: 3, inputs: 3 }), {
    baseline: baseline as protocol.Baseline,
  });
  expect(p.res.status).toBe(201);
  expect((await worker.api('/v1/models/spec/aliases/champion', { method: 'PUT', json: { version: 1 } })).status).toBe(
    200,
  );
  appKey = (
    (await (
      await worker.api('/v1/apps', { method: 'POST', json: { name: 'spec-client', models: ['spec'] } })
    ).json()) as { appKey: string }
  ).appKey;
  openapi = await (await worker.api('/v1/openapi.json', { token: null })).json();
  health = specLayout(HEALTH_BASELINE as SpecBaseline);
});
afterAll(() => worker?.dispose());

describe('a device telemetry client built from SPEC.md §10 alone', () => {
  it("hard-codes the spec's numbers, and they are the implementation's", async () => {
    expect([SKETCH_SCALE, COMPONENT_SCALE, K, MIN_SAMPLES, MAX_SAMPLES, HEADER_BYTES, MAX_UPLOAD_BYTES]).toEqual([
      protocol.SKETCH_SCALE,
      protocol.COMPONENT_SCALE,
      protocol.SKETCH_K,
      protocol.MIN_SAMPLES,
      protocol.MAX_SAMPLES,
      protocol.SKETCH_HEADER_BYTES,
      protocol.MAX_SKETCH_BYTES,
    ]);
    expect(specLayout(VECTOR_BASELINE as SpecBaseline)).toMatchObject({ digest: VECTOR_DIGEST, bytes: 70 });
    expect(health).toMatchObject({ digest: HEALTH_DIGEST, bytes: 120 });
    expect((await protocol.healthLayout()).schemaDigest).toBe(HEALTH_DIGEST);
    expect(HEALTH_BASELINE.features[2]!.edges).toEqual(protocol.LATENCY_EDGES_MS);
  });

  it('the four upload routes are in /v1/openapi.json: binary body, the device pattern, the limit', () => {
    for (const channel of ['sketches', 'health', 'step-health', 'step-sketches']) {
      const op = openapi.paths[`/v1/edge/${channel}/{model}/{version}`]!.post;
      expect(op.requestBody.content['application/octet-stream'].schema).toMatchObject({
        type: 'string',
        format: 'binary',
      });
      expect(op.requestBody.description).toContain(String(MAX_UPLOAD_BYTES));
      expect(op.parameters.find((p: { name: string }) => p.name === 'device').schema.pattern).toBe(
        protocol.DEVICE_KEY_PATTERN.source,
      );
      expect(Object.keys(op.responses)).toEqual(
        expect.arrayContaining(['202', '400', '401', '403', '404', '409', '413', '415', '422', '429']),
      );
    }
    expect(
      openapi.paths['/v1/edge/step-health/{model}/{version}']!.post.parameters.find(
        (p: { name: string }) => p.name === 'phase',
      ).schema.enum,
    ).toEqual(['loaded', 'used']);
  });

  it('reads the baseline from the served manifest, uploads sketches and health records, and sees them counted in the closed window', async () => {
    const ticketRes = await worker.api(`/v1/edge/tickets/spec?device=spec-0&key=${appKey}`, { token: null });
    expect(ticketRes.status).toBe(200);
    const ticket = JSON.parse(
      Buffer.from(((await ticketRes.json()) as { payload: string }).payload, 'base64').toString('utf8'),
    ) as { manifestDigest: string };
    const envelope = (await (
      await worker.api(`/v1/edge/manifests/${ticket.manifestDigest}`, { token: null })
    ).json()) as { payload: string };
    const payload = Buffer.from(envelope.payload, 'base64');
    expect(createHash('sha256').update(payload).digest('hex')).toBe(ticket.manifestDigest); // SPEC 2.2
    layout = specLayout(
      (JSON.parse(payload.toString('utf8')) as { monitoring: { baseline: SpecBaseline } }).monitoring.baseline,
    );
    // The inputs, then the two output features; the confidence edges lose their repeats (9 of 11 left).
    expect(layout.features.map((f) => [f.name, f.bins, f.components])).toEqual([
      ['amount', 7, 4],
      ['age', 7, 4],
      ['channel', 5, 0],
      ['@output.class', 4, 0],
      ['@output.confidence', 11, 4],
    ]);

    for (let d = 0; d < DEVICES; d++) {
      const res = await post('sketches', `spec-${d}`, deviceSketch(d));
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ accepted: true, devices: d + 1, window: today });
      const h = healthRecord(
        health,
        [{ ok: 1 }, { ok: 40 + d, inference_error: d }, { wasm: 40 }, {}],
        Array.from({ length: 12 }, (_, i) => 1 + i * d),
        today,
      );
      expect((await post('health', `spec-${d}`, h)).status).toBe(202);
    }
    expect(await (await worker.api(`/v1/models/spec/versions/1/sketches/${today}`)).json()).toMatchObject({
      devices: DEVICES,
      closed: false,
    });
  });

  it('refuses a truncated body, a wrong schema digest and a replay with the documented codes', async () => {
    const good = deviceSketch(7);
    await expectRefused(
      await post('sketches', 'spec-7', good.subarray(0, good.length - 2)),
      'sketches',
      400,
      'sketch_malformed',
    );
    await expectRefused(await post('sketches', 'spec-7', good.subarray(0, 30)), 'sketches', 400, 'sketch_malformed'); // not even a header
    await expectRefused(
      await post('sketches', 'spec-7', deviceSketch(7, HEALTH_DIGEST)),
      'sketches',
      422,
      'sketch_schema_mismatch',
    );
    await expectRefused(await post('sketches', 'spec-0', deviceSketch(0)), 'sketches', 409, 'sketch_replayed');
    await expectRefused(
      await post('health', 'spec-0', healthRecord(health, [{ ok: 1 }, { ok: 3 }, { cpu: 3 }, {}], [], today)),
      'health',
      409,
      'sketch_replayed',
    );
    const unnormalised = deviceSketch(8);
    new DataView(unnormalised.buffer).setUint16(
      HEADER_BYTES,
      new DataView(unnormalised.buffer).getUint16(HEADER_BYTES, true) + 1,
      true,
    );
    await expectRefused(await post('sketches', 'spec-8', unnormalised), 'sketches', 422, 'sketch_not_normalized');
    await expectRefused(
      await post('sketches', 'spec-9', new Uint8Array(MAX_UPLOAD_BYTES + 1)),
      'sketches',
      413,
      'payload_too_large',
    );
    const malformedRollout = await worker.api(`/v1/edge/health/spec/1?device=spec-12&rollout=not-a-rollout`, {
      method: 'POST',
      token: null,
      body: healthRecord(health, [{ ok: 1 }, { ok: 3 }, { cpu: 3 }, {}], [], today) as unknown as BodyInit,
      headers: { 'content-type': 'application/octet-stream', 'x-modelfleet-app-key': appKey },
    });
    await expectRefused(malformedRollout, 'health', 400, 'bad_request');
    const stale = deviceSketch(10);
    new DataView(stale.buffer).setUint32(40, today - 2, true);
    await expectRefused(await post('sketches', 'spec-10', stale), 'sketches', 422, 'window_closed');
    // None of these counted.
    expect(await (await worker.api(`/v1/models/spec/versions/1/sketches/${today}`)).json()).toMatchObject({
      devices: DEVICES,
    });
  });

  it('the closed window counts exactly those devices, and takes nothing more', async () => {
    const res = await worker.api(`/v1/models/spec/versions/1/sketches/${today}/close`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ devices: DEVICES, released: true, healthDevices: DEVICES });
    await expectRefused(await post('sketches', 'spec-11', deviceSketch(11)), 'sketches', 422, 'window_closed');
  });
});
