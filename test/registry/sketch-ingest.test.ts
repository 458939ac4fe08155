// Sketch ingest at the edge into the per-window Durable Object: valid uploads count once per
// device; every bad upload gets a coded error and leaves the aggregate exactly as it was.
import {
  type Baseline,
  encodeUpload,
  healthLayout,
  healthUpload,
  sketchLayout,
  sketchNumeric,
  windowOf,
} from '@modelfleet/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

const edges = [-2, -1.28, -0.84, -0.52, -0.25, 0, 0.25, 0.52, 0.84, 1.28, 2];
const baseline: Baseline = { features: ['f0', 'f1', 'f2'].map((name) => ({ name, kind: 'numeric' as const, edges })) };
let worker: TestWorker;
let appKey: string;
let layout: Awaited<ReturnType<typeof sketchLayout>>;
const today = windowOf(new Date());

const sketchBytes = (seed: number, window = today, digest?: string) =>
  encodeUpload(layout, {
    schemaDigest: digest ?? layout.schemaDigest,
    window,
    features: [0, 1, 2].map((f) =>
      sketchNumeric(
        Array.from({ length: 30 }, (_, i) => Math.sin(seed * 13 + i * 7 + f)),
        edges,
      ),
    ),
  });

const send = (
  body: Uint8Array | string,
  {
    device = 'dev-1',
    model = 'fraud',
    version = 1,
    type = 'application/octet-stream',
    key = appKey,
    channel = 'sketches',
  } = {},
) =>
  worker.api(`/v1/edge/${channel}/${model}/${version}?device=${device}`, {
    method: 'POST',
    token: null,
    body: body as unknown as BodyInit,
    headers: { 'content-type': type, 'x-modelfleet-app-key': key },
  });

const status = async (cohort = 'all', model = 'fraud') =>
  (await (await worker.api(`/v1/models/${model}/versions/1/sketches/${today}?cohort=${cohort}`)).json()) as {
    devices: number;
    digest: string | null;
  };

beforeAll(async () => {
  worker = await startWorker();
  layout = await sketchLayout(baseline);
  await createModel(worker, 'fraud');
  await createModel(worker, 'plain');
  expect(
    (await publish(worker, 'fraud', await buildLayersModel({ seed: 1, inputs: 3 }), { baseline })).res.status,
  ).toBe(201);
  expect((await publish(worker, 'plain', await buildLayersModel({ seed: 2, inputs: 3 }))).res.status).toBe(201);
  appKey = (
    (await (await worker.api('/v1/apps', { method: 'POST', json: { name: 'web', models: ['*'] } })).json()) as {
      appKey: string;
    }
  ).appKey;
});
afterAll(() => worker?.dispose());

describe('sketch ingest', () => {
  it('accepts one upload per device per window and counts devices', async () => {
    const first = await send(sketchBytes(1), { device: 'dev-1' });
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ accepted: true, devices: 1, window: today });
    expect((await send(sketchBytes(2), { device: 'dev-2' })).status).toBe(202);
    expect(await status()).toMatchObject({ devices: 2 });
  });

  const refusals: [string, () => Promise<Response>, number, string][] = [
    ['replayed upload', () => send(sketchBytes(1), { device: 'dev-1' }), 409, 'sketch_replayed'],
    [
      'wrong schema digest',
      () => send(sketchBytes(3, today, 'ab'.repeat(32)), { device: 'dev-3' }),
      422,
      'sketch_schema_mismatch',
    ],
    [
      'L1 ≠ 1',
      () => {
        const b = sketchBytes(4);
        b[44] = b[44]! + 1;
        return send(b, { device: 'dev-4' });
      },
      422,
      'sketch_not_normalized',
    ],
    [
      'out-of-range component',
      () => {
        const b = sketchBytes(5);
        new DataView(b.buffer).setInt16(44 + 26, -30000, true);
        return send(b, { device: 'dev-5' });
      },
      422,
      'sketch_out_of_range',
    ],
    ['closed window', () => send(sketchBytes(6, today - 3), { device: 'dev-6' }), 422, 'window_closed'],
    [
      'garbage bytes of the right size',
      () => send(new Uint8Array(sketchBytes(7).length).fill(7), { device: 'dev-7' }),
      400,
      'sketch_malformed',
    ],
    ['oversized body', () => send(new Uint8Array(70_000), { device: 'dev-8' }), 413, 'payload_too_large'],
    ['wrong size', () => send(new Uint8Array(100), { device: 'dev-9' }), 400, 'sketch_malformed'],
    ['unknown model', () => send(sketchBytes(10), { device: 'dev-10', model: 'nosuch' }), 404, 'unknown_model'],
    ['unknown version', () => send(sketchBytes(11), { device: 'dev-11', version: 9 }), 404, 'unknown_version'],
    [
      'version without a baseline',
      () => send(sketchBytes(12), { device: 'dev-12', model: 'plain' }),
      422,
      'no_baseline',
    ],
    [
      'JSON instead of bytes',
      () => send('{"bins":[1]}', { device: 'dev-13', type: 'application/json' }),
      415,
      'unsupported_media_type',
    ],
    ['no app key', () => send(sketchBytes(14), { device: 'dev-14', key: '' }), 401, 'app_key_invalid'],
  ];
  it.each(refusals)(
    'refuses %s with a coded error and leaves the aggregate unchanged',
    async (_, request, httpStatus, code) => {
      const before = await status();
      const res = await request();
      expect({ status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code }).toEqual({
        status: httpStatus,
        code,
      });
      expect(await status()).toEqual(before);
    },
  );

  it('never writes the registry', async () => {
    const count = async () =>
      (await worker.db
        .prepare('SELECT (SELECT COUNT(*) FROM versions) + (SELECT COUNT(*) FROM audit) AS n')
        .first<{ n: number }>())!.n;
    const before = await count();
    await send(sketchBytes(20), { device: 'dev-20' });
    expect(await count()).toBe(before);
  });
});

describe('health ingest', () => {
  const healthBytes = async (errors: number) => {
    const l = await healthLayout();
    return encodeUpload(
      l,
      (await healthUpload(
        {
          load: { ok: 1 },
          predict: { ok: 20, inference_error: errors },
          latencies: new Array(12).fill(2),
          backend: { wasm: 20 },
        },
        today,
      ))!,
    );
  };

  it('takes health records for any served version, baseline or not, once per device per window', async () => {
    expect((await send(await healthBytes(1), { device: 'h-1', channel: 'health' })).status).toBe(202);
    expect((await send(await healthBytes(0), { device: 'h-1', model: 'plain', channel: 'health' })).status).toBe(202);
    expect(await status('health')).toMatchObject({ devices: 1 });
    expect(await status('health', 'plain')).toMatchObject({ devices: 1 });
    expect(await status('all')).toMatchObject({ devices: 3 }); // the drift aggregate is a different one
  });

  const refusals: [string, () => Promise<Response>, number, string][] = [
    [
      'replayed health record',
      async () => send(await healthBytes(2), { device: 'h-1', channel: 'health' }),
      409,
      'sketch_replayed',
    ],
    [
      'a drift sketch sent as health',
      () => send(sketchBytes(30), { device: 'h-2', channel: 'health' }),
      413,
      'payload_too_large',
    ],
    [
      'garbage bytes',
      async () => send(new Uint8Array((await healthBytes(0)).length).fill(9), { device: 'h-3', channel: 'health' }),
      400,
      'sketch_malformed',
    ],
    [
      'L1 ≠ 1',
      async () => {
        const b = await healthBytes(0);
        b[44] = b[44]! + 1;
        return send(b, { device: 'h-4', channel: 'health' });
      },
      422,
      'sketch_not_normalized',
    ],
  ];
  it.each(refusals)('refuses %s and leaves the health aggregate unchanged', async (_, request, httpStatus, code) => {
    const before = await status('health');
    const res = await request();
    expect({ status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code }).toEqual({
      status: httpStatus,
      code,
    });
    expect(await status('health')).toEqual(before);
  });
});
