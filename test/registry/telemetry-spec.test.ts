// A telemetry client written from protocol/SPEC.md §10 alone: plain Node (node:crypto, DataView),
// no web SDK and none of protocol's sketch code. It reads the signed baseline from the manifest the
// edge serves, derives the layout and its schemaDigest, encodes drift sketches and health records
// byte for byte, uploads them through the real edge in workerd, and sees them counted in the closed
// window; its refusals come back with the codes SPEC 10.7 and /v1/openapi.json document.
// (Signature checks of SPEC §1–§2 are other suites' business; this one is about §10.)
import { createHash, randomBytes } from 'node:crypto';
import * as protocol from '@modelfleet/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

// ---- The spec's numbers, copied from SPEC.md (the first test checks protocol agrees) ----------
const SKETCH_SCALE = 4096;
const COMPONENT_SCALE = 16384;
const K = 4;
const MIN_SAMPLES = 10;
const MAX_SAMPLES = 64;
const HEADER_BYTES = 44;
const MAX_UPLOAD_BYTES = 65_536;
const VECTOR_BASELINE = {
  features: [
    { name: 'amount', kind: 'numeric', edges: [0, 10, 100] },
    { name: 'channel', kind: 'categorical', vocabulary: ['web', 'app'] },
  ],
};
const VECTOR_DIGEST = 'a9697b67ff8ab37e65919e0fd1572ba45eb22060ca6c7ca34366635cbe92ee1d';
const HEALTH_DIGEST = 'd7c2ab417cb66718c19de720d6a830bc3ebdcba2790c4f20d0ef667c50d9dc9a';
const HEALTH_BASELINE = {
  features: [
    { name: 'load', kind: 'categorical', vocabulary: ['ok', 'load_failed', 'verify_failed'] },
    { name: 'predict', kind: 'categorical', vocabulary: ['ok', 'inference_error', 'non_finite'] },
    { name: 'latency_ms', kind: 'numeric', edges: [0, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] },
    { name: 'backend', kind: 'categorical', vocabulary: ['webgpu', 'wasm', 'cpu'] },
    { name: 'feedback', kind: 'categorical', vocabulary: ['correct', 'incorrect'] },
  ],
};

// ---- SPEC 10.2: the layout ------------------------------------------------------------------------
type Point = [number, number] | [number, number, number];
type Numeric = { name: string; kind: 'numeric'; edges: number[]; pit?: Point[] };
type Categorical = { name: string; kind: 'categorical'; vocabulary: string[] };
type Feature = Numeric | Categorical;
interface SpecBaseline {
  features: Feature[];
  outputs?: { classCounts?: number[]; confidenceDeciles?: number[]; confidence?: Omit<Numeric, 'name' | 'kind'> };
}
interface Layout {
  digest: string;
  features: (Feature & { bins: number; components: number })[];
  bytes: number;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

function specLayout(baseline: SpecBaseline): Layout {
  const monitored: Feature[] = [...baseline.features];
  const classes = baseline.outputs?.classCounts;
  if (classes)
    monitored.push({ name: '@output.class', kind: 'categorical', vocabulary: classes.map((_, i) => String(i)) });
  const d = baseline.outputs?.confidenceDeciles;
  const confidence = baseline.outputs?.confidence;
  if (confidence)
    monitored.push({
      name: '@output.confidence',
      kind: 'numeric',
      edges: confidence.edges,
      ...(confidence.pit ? { pit: confidence.pit } : {}),
    });
  else if (d) {
    const edges: number[] = [];
    for (const e of [Math.min(1 / (classes?.length ?? 2), d[0]!), ...d, 1])
      if (edges.length === 0 || e > edges[edges.length - 1]!) edges.push(e);
    if (edges.length >= 2) monitored.push({ name: '@output.confidence', kind: 'numeric', edges });
  }
  const features = monitored.map((f) => ({
    ...f,
    bins: f.kind === 'numeric' ? f.edges.length - 1 + 3 : f.vocabulary.length + 2,
    components: f.kind === 'numeric' ? K : 0,
  }));
  const described = monitored.map((f) =>
    f.kind === 'numeric' ? ['n', f.name, f.edges, f.pit ?? null] : ['c', f.name, f.vocabulary],
  );
  const digest = sha256(JSON.stringify(['modelfleet/sketch/v1', SKETCH_SCALE, COMPONENT_SCALE, described]));
  return { digest, features, bytes: HEADER_BYTES + features.reduce((n, f) => n + 2 * (f.bins + f.components), 0) };
}

// ---- SPEC 10.4: values --------------------------------------------------------------------------
type Value = number | string | null;
interface Encoded {
  bins: number[];
  components: number[];
}

function quantise(counts: number[]): number[] {
  const n = counts.reduce((a, b) => a + b, 0);
  const q = counts.map((c) => Math.floor((SKETCH_SCALE * c) / n));
  const frac = counts
    .map((c, j) => [(SKETCH_SCALE * c) / n - q[j]!, j] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  let left = SKETCH_SCALE - q.reduce((a, b) => a + b, 0);
  for (const [, j] of frac) if (left-- > 0) q[j]!++;
  return q;
}

function numericBin(x: Value, edges: number[]): number {
  const B = edges.length - 1;
  if (typeof x !== 'number' || !Number.isFinite(x)) return B + 2;
  if (x < edges[0]!) return 0;
  if (x > edges[B]!) return B + 1;
  for (let i = 1; i <= B; i++) if (x < edges[i]!) return i;
  return B; // x = e_B
}

/** v uniform in [0, 1) from a CSPRNG (SPEC 10.4), drawn only inside a jump. */
const v = () => randomBytes(4).readUInt32LE(0) / 2 ** 32;

/** SPEC 10.4's randomized PIT on points [x, F(x−), F(x)] (a 2-element point has F(x−) = F(x)). */
function pit(x: number, table: Point[]): number {
  const points = table.map((p) => (p.length === 2 ? [p[0], p[1], p[1]] : p) as [number, number, number]);
  const within = (lo: number, hi: number) => (hi > lo ? lo + v() * (hi - lo) : lo);
  const first = points[0]!;
  const last = points[points.length - 1]!;
  if (x < first[0]) return within(0, first[1]);
  if (x > last[0]) return within(last[2], 1);
  const j = points.findIndex((p) => p[0] >= x);
  if (points[j]![0] === x) return within(points[j]![1], points[j]![2]);
  const [x0, , f0] = points[j - 1]!;
  const [x1, f1minus] = points[j]!;
  return f0 + ((x - x0) / (x1 - x0)) * (f1minus - f0);
}

function encodeFeature(f: Layout['features'][number], values: Value[], minSamples = MIN_SAMPLES): Encoded | null {
  if (values.length < minSamples) return null; // absent
  const counts = new Array<number>(f.bins).fill(0);
  if (f.kind === 'categorical') {
    for (const v of values)
      counts[
        v === null
          ? f.vocabulary.length + 1
          : f.vocabulary.indexOf(String(v)) >= 0
            ? f.vocabulary.indexOf(String(v))
            : f.vocabulary.length
      ]!++;
    return { bins: quantise(counts), components: [] };
  }
  const points = f.pit ?? f.edges.map((e, k) => [e, k / (f.edges.length - 1)] as Point);
  const sums = [0, 0, 0, 0];
  let m = 0;
  for (const raw of values) {
    const x = typeof raw === 'number' ? Math.fround(raw) : raw; // float32 first
    counts[numericBin(x, f.edges)]!++;
    if (typeof x !== 'number' || !Number.isFinite(x)) continue;
    m++;
    const t = 2 * pit(x, points) - 1;
    const p = [t, (3 * t * t - 1) / 2, (5 * t ** 3 - 3 * t) / 2, (35 * t ** 4 - 30 * t * t + 3) / 8];
    p.forEach((v, k) => (sums[k]! += v));
  }
  return {
    bins: quantise(counts),
    components: sums.map((s) => (m === 0 ? 0 : Math.floor((COMPONENT_SCALE * s) / m + 0.5))),
  };
}

// ---- SPEC 10.3: bytes ---------------------------------------------------------------------------
function encode(layout: Layout, window: number, features: (Encoded | null)[], digest = layout.digest): Uint8Array {
  const bytes = new Uint8Array(layout.bytes);
  const view = new DataView(bytes.buffer);
  bytes.set([0x4d, 0x46, 0x53, 0x31], 0); // "MFS1"
  view.setUint8(4, 1);
  view.setUint8(5, 0);
  view.setUint16(6, layout.features.length, true);
  bytes.set(Buffer.from(digest, 'hex'), 8);
  view.setUint32(40, window, true);
  let at = HEADER_BYTES;
  layout.features.forEach((f, i) => {
    for (let b = 0; b < f.bins; b++, at += 2) view.setUint16(at, features[i]?.bins[b] ?? 0, true);
    for (let k = 0; k < f.components; k++, at += 2) view.setInt16(at, features[i]?.components[k] ?? 0, true);
  });
  return bytes;
}

// ---- SPEC 10.5: a health record from counters ---------------------------------------------------
function healthRecord(
  layout: Layout,
  counters: Record<string, number>[],
  latencies: number[],
  window: number,
): Uint8Array {
  const expand = (c: Record<string, number>) => {
    const total = Object.values(c).reduce((a, b) => a + b, 0);
    const scale = total > SKETCH_SCALE ? SKETCH_SCALE / total : 1;
    return Object.entries(c).flatMap(([k, n]) => new Array<string>(Math.round(n * scale)).fill(k));
  };
  const [load, predict, backend, feedback] = counters;
  const f = layout.features;
  return encode(layout, window, [
    encodeFeature(f[0]!, expand(load!), 1),
    encodeFeature(f[1]!, expand(predict!), 1),
    encodeFeature(f[2]!, latencies.slice(0, MAX_SAMPLES)),
    encodeFeature(f[3]!, expand(backend!), 1),
    encodeFeature(f[4]!, expand(feedback!), 1),
  ]);
}

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
