// Window close: release once with DP noise when enough devices contributed, record the privacy
// spend, run the drift tests on what was released; refuse uploads to a closed window.
import { windowOf } from '@modelfleet/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { baseline, createApp, createToken, uploadHealth, uploadSketch } from '../fixtures/drift.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

const today = windowOf(new Date());
let worker: TestWorker;
let appKey: string;
let viewer: string;

const upload = (device: string, shift: number, model = 'fraud') =>
  uploadSketch(worker, appKey, device, shift, { model });
const close = (model = 'fraud', token?: string) =>
  worker.api(`/v1/models/${model}/versions/1/sketches/${today}/close`, { method: 'POST', ...(token ? { token } : {}) });

beforeAll(async () => {
  // A large daily ε keeps the noise far below the effect floor, so the verdicts cannot flake.
  worker = await startWorker({ vars: { DRIFT_MIN_DEVICES: '20', DRIFT_EPSILON_PER_DAY: '1000' } });
  for (const name of ['fraud', 'quiet']) {
    await createModel(worker, name);
    expect((await publish(worker, name, await buildLayersModel({ seed: 3, inputs: 3 }), { baseline })).res.status).toBe(
      201,
    );
  }
  appKey = await createApp(worker);
  viewer = await createToken(worker, 'viewer');
  for (let d = 0; d < 30; d++) expect((await upload(`device-${'x'.repeat(d)}`, 1.5)).status).toBe(202);
  // Health: every device loaded once; 1 in 10 predictions errored on the 10 devices with d < 10; latencies 1–3 ms,
  // with three slow devices (10 %) at 300 ms; WebGPU on two thirds of the devices.
  for (let d = 0; d < 30; d++) {
    const counts = {
      load: { ok: 1 },
      predict: { ok: d < 10 ? 18 : 20, inference_error: d < 10 ? 2 : 0 },
      latencies: Array.from({ length: 20 }, (_, i) => (d >= 27 ? 300 : 1 + (i % 3))),
      backend: d % 3 === 0 ? { cpu: 20 } : { webgpu: 20 },
      feedback: { correct: 9, incorrect: 1 },
    };
    expect((await uploadHealth(worker, appKey, `device-${'x'.repeat(d)}`, counts)).status).toBe(202);
  }
  expect(
    (await uploadHealth(worker, appKey, 'device-', { load: { ok: 1 }, predict: {}, latencies: [], backend: {} }))
      .status,
  ).toBe(409); // replayed
  for (let d = 0; d < 5; d++) expect((await upload(`device-${'y'.repeat(d)}`, 0, 'quiet')).status).toBe(202);
});
afterAll(() => worker?.dispose());

it('releases a window once, with noise, and alarms on the shifted feature only', async () => {
  expect((await close('fraud', viewer)).status).toBe(403);
  // Yesterday's window left the CUSUM just under its threshold: today's drift carries it over.
  const id = ((await worker.db.prepare("SELECT id FROM models WHERE name = 'fraud'").first()) as { id: number }).id;
  await worker.db
    .prepare(
      "INSERT INTO drift_windows (model_id, version, window, cohort, devices, released, alarm, cusum, closed_at) VALUES (?, 1, ?, 'all', 30, 1, 0, 5.9, ?)",
    )
    .bind(id, today - 1, new Date().toISOString())
    .run();
  const res = await close();
  expect(res.status).toBe(200);
  const r = (await res.json()) as any;
  expect(r).toMatchObject({ devices: 30, released: true, alarm: true });
  expect(r.noiseSigma).toBeGreaterThan(0);
  expect(r.verdict.features.map((f: any) => f.alarm)).toEqual([true, false, false]);
  expect(r.verdict.features[0].effects.sigmaShift).toBeGreaterThan(0.5);
  // 1 of 3 features alarmed (≥ 25 %) and the carried CUSUM crossed h: retraining is requested, the CUSUM restarts.
  expect(r.retrain).toMatchObject({ reasons: ['cusum', 'share'], cusum: 0 });
  // Device health, released with the window on its 10 % of the budget: one device, one vote. With 30
  // devices the noise on a share is σ ≈ 0.005 at ε = 1000; shares are checked to ±0.02 (4σ), tight
  // enough that the inference errors (1/30) cannot pass as 0.
  const near = (x: number, target: number) => expect(Math.abs(x - target), `${x} vs ${target}`).toBeLessThan(0.02);
  expect(r.healthDevices).toBe(30);
  near(r.health.predict.shares.inference_error, (10 * 0.1) / 30);
  near(r.health.load.shares.ok, 1);
  near(r.health.backend.shares.webgpu, 2 / 3);
  near(r.health.feedback.shares.correct, 0.9);
  expect(r.health.latency.p50Ms).toBeGreaterThan(1);
  expect(r.health.latency.p50Ms).toBeLessThan(4);
  expect(r.health.latency.p95Ms).toBeGreaterThan(100); // the slow 10 % put the 95th percentile in their 256–512 ms bin
  expect(r.retrain.score).toBeGreaterThan(3);
  const again = (await (await close()).json()) as any;
  expect(again).toEqual(r); // idempotent: the same release, no fresh noise
  const privacy = (await (await worker.api('/v1/models/fraud/privacy', { token: viewer })).json()) as any;
  expect(privacy.releasesLastYear).toBe(1);
  expect(privacy.epsilonLastYear).toBeCloseTo(1000, 6);
  const list = (await (await worker.api('/v1/models/fraud/drift', { token: viewer })).json()) as any;
  expect(list.windows).toHaveLength(2); // today's and the seeded yesterday
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
