// Window close: release once with DP noise when enough devices contributed, record the privacy
// spend, run the drift tests on what was released; refuse uploads to a closed window.
import { type Baseline, encodeUpload, sketchLayout, sketchNumeric, windowOf } from '@modelfleet/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

const edges = [-4, -1.28, -0.84, -0.52, -0.25, 0, 0.25, 0.52, 0.84, 1.28, 4];
const baseline: Baseline = { features: ['f0', 'f1', 'f2'].map((name) => ({ name, kind: 'numeric' as const, edges })) };
const today = windowOf(new Date());
let worker: TestWorker;
let appKey: string;
let viewer: string;

async function upload(device: string, shift: number, model = 'fraud') {
  const layout = await sketchLayout(baseline);
  // Stratified draws from the baseline (the inverse of its piecewise-linear F0 at the midpoints
  // of 40 equal u-steps, so every device matches it closely), shifted on feature 0 only.
  const features = [0, 1, 2].map((f) => sketchNumeric(Array.from({ length: 40 }, (_, i) => inverseF0((((i * 17 + device.length * 7 + f) % 40) + 0.5) / 40) + (f === 0 ? shift : 0)), edges));
  return worker.api(`/v1/edge/sketches/${model}/1?device=${device}`, {
    method: 'POST', token: null, body: encodeUpload(layout, { schemaDigest: layout.schemaDigest, window: today, features }) as unknown as BodyInit,
    headers: { 'content-type': 'application/octet-stream', 'x-modelfleet-app-key': appKey },
  });
}
function inverseF0(u: number): number {
  const B = edges.length - 1;
  const j = Math.min(B - 1, Math.floor(u * B));
  return edges[j]! + (u * B - j) * (edges[j + 1]! - edges[j]!);
}
const close = (model = 'fraud', token?: string) => worker.api(`/v1/models/${model}/versions/1/sketches/${today}/close`, { method: 'POST', ...(token ? { token } : {}) });

beforeAll(async () => {
  // A large daily ε keeps the noise far below the effect floor, so the verdicts cannot flake.
  worker = await startWorker({ vars: { DRIFT_MIN_DEVICES: '20', DRIFT_EPSILON_PER_DAY: '1000' } });
  for (const name of ['fraud', 'quiet']) {
    await createModel(worker, name);
    expect((await publish(worker, name, await buildLayersModel({ seed: 3, inputs: 3 }), { baseline })).res.status).toBe(201);
  }
  appKey = ((await (await worker.api('/v1/apps', { method: 'POST', json: { name: 'web', models: ['*'] } })).json()) as { appKey: string }).appKey;
  viewer = ((await (await worker.api('/v1/tokens', { method: 'POST', json: { role: 'viewer' } })).json()) as { token: string }).token;
  for (let d = 0; d < 30; d++) expect((await upload(`device-${'x'.repeat(d)}`, 1.5)).status).toBe(202);
  for (let d = 0; d < 5; d++) expect((await upload(`device-${'y'.repeat(d)}`, 0, 'quiet')).status).toBe(202);
});
afterAll(() => worker?.dispose());

it('releases a window once, with noise, and alarms on the shifted feature only', async () => {
  expect((await close('fraud', viewer)).status).toBe(403);
  const res = await close();
  expect(res.status).toBe(200);
  const r = (await res.json()) as any;
  expect(r).toMatchObject({ devices: 30, released: true, alarm: true });
  expect(r.noiseSigma).toBeGreaterThan(0);
  expect(r.verdict.features.map((f: any) => f.alarm)).toEqual([true, false, false]);
  expect(r.verdict.features[0].effects.sigmaShift).toBeGreaterThan(0.5);
  const again = (await (await close()).json()) as any;
  expect(again).toEqual(r); // idempotent: the same release, no fresh noise
  const privacy = (await (await worker.api('/v1/models/fraud/privacy', { token: viewer })).json()) as any;
  expect(privacy.releasesLastYear).toBe(1);
  expect(privacy.epsilonLastYear).toBeCloseTo(1000, 6);
  const list = (await (await worker.api('/v1/models/fraud/drift', { token: viewer })).json()) as any;
  expect(list.windows).toHaveLength(1);
  expect(list.windows[0]).toMatchObject({ window: today, devices: 30, released: true, alarm: true });
});

it('refuses uploads to a closed window', async () => {
  const res = await upload('late-device', 0);
  expect(res.status).toBe(422);
  expect(((await res.json()) as any).error.code).toBe('window_closed');
});

it('releases nothing and spends no privacy below minDevices', async () => {
  const r = (await (await close('quiet')).json()) as any;
  expect(r).toMatchObject({ devices: 5, released: false, alarm: false, verdict: null, noiseSigma: null });
  expect(((await (await worker.api('/v1/models/quiet/privacy')).json()) as any).releasesLastYear).toBe(0);
});
