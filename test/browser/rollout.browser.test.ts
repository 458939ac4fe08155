// A real SDK page through a rollout: at its step the device (chosen in the challenger bucket)
// moves to the challenger and downloads it; after an injected regression (the challenger's devices
// report errors, the day's window closes) the rollout's alarm rolls back and the device returns to
// the champion with no download (its chunks are still cached); a device in the control range
// never leaves the champion.
import { bucketOf, rolloutCohort, windowOf } from '@modelfleet/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp, uploadHealth } from '../fixtures/drift.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { pollUntil } from '../harness/poll.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';
import { launchChromium } from './chromium.ts';
import { type StaticServer, startStaticServer } from './server.ts';

let worker: TestWorker;
let site: StaticServer;
let browser: Browser;
let appKey: string;

async function device(deviceId: string): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`[${deviceId}] ${e.message}`));
  await page.goto(`${site.url}/rollout.html`);
  await page.waitForFunction(() => (globalThis as unknown as { sdkReady?: boolean }).sdkReady === true);
  return page;
}
const call = (page: Page, fn: string, arg?: unknown) =>
  page.evaluate(([f, a]) => (globalThis as any).device[f as string](a), [fn, arg] as const);

beforeAll(async () => {
  [worker, site, browser] = await Promise.all([
    startWorker({
      http: true,
      vars: { ROLLOUT_TICK_SECONDS: '1', DRIFT_MIN_DEVICES: '20', DRIFT_EPSILON_PER_DAY: '1000' },
    }),
    startStaticServer(),
    launchChromium(),
  ]);
  await createModel(worker, 'fraud');
  for (const seed of [21, 22])
    expect((await publish(worker, 'fraud', await buildLayersModel({ seed, inputs: 4 }))).res.status).toBe(201);
  await worker.api('/v1/models/fraud/aliases/champion', { method: 'PUT', json: { version: 1 } });
  appKey = await createApp(worker);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await worker?.dispose();
});

it('a device moves to the challenger at its step and back after an injected regression, downloading nothing the second time', async () => {
  const plan = {
    steps: [
      { percent: 20, bakeSeconds: 1 },
      { percent: 100, bakeSeconds: 0 },
    ],
    salt: 'e2e-salt',
    analysis: [{ metric: 'inference_error_rate', tolerance: 0.05, minSample: 20, critical: true }],
  };
  // Devices are chosen by their bucket under the rollout's salt, as the edge will compute it.
  const ids = await Promise.all(
    Array.from({ length: 400 }, async (_, i) => ({
      id: `browser-${i}`,
      cohort: rolloutCohort(await bucketOf(plan.salt, `browser-${i}`), 20),
    })),
  );
  const inChallenger = ids.find((d) => d.cohort === 'challenger')!.id;
  const inControl = ids.find((d) => d.cohort === 'control')!.id;
  const cfg = (deviceId: string) => ({
    endpoint: worker.url,
    appKey,
    trustRoot: worker.rootEnvelope,
    deviceId,
    storage: `db-${deviceId}`,
  });

  const canary = await device(inChallenger);
  const control = await device(inControl);
  const v1 = await call(canary, 'open', cfg(inChallenger));
  expect(v1.version).toBe(1);
  expect((await call(control, 'open', cfg(inControl))).version).toBe(1);

  const created = await worker.api('/v1/models/fraud/rollouts', { method: 'POST', json: { challenger: 2, plan } });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };

  const up = await call(canary, 'reload');
  expect(up).toMatchObject({ version: 2, changed: true });
  expect(up.downloadedBytes).toBeGreaterThan(0);
  expect(up.out).not.toEqual(v1.out); // really another model
  expect(await call(control, 'reload')).toMatchObject({ version: 1, changed: false, downloadedBytes: 0 });

  // The injected regression: the challenger's devices (the canary among them) fail 30 % of their
  // predictions; the control range's do not. The day's window closes (Cron Trigger at an injected
  // time) and the rollout's alarm rolls it back on the released health.
  const arm = (cohort: 'challenger' | 'control') =>
    ids
      .filter((d) => d.cohort === cohort)
      .slice(0, 25)
      .map((d) => d.id);
  for (const [version, devices, errors] of [
    [2, arm('challenger'), 6],
    [1, arm('control'), 0],
  ] as const) {
    for (const d of devices) {
      const res = await uploadHealth(
        worker,
        appKey,
        d,
        {
          load: { ok: 1 },
          predict: { ok: 20 - errors, inference_error: errors },
          latencies: new Array(20).fill(3),
          backend: { cpu: 20 },
        },
        { model: 'fraud', version },
      );
      expect(res.status).toBe(202);
    }
  }
  const today = windowOf(new Date());
  await worker.trigger('15 0 * * *', new Date((today + 1) * 86_400_000 + 15 * 60_000));
  const { state } = await pollUntil(
    async () => (await (await worker.api(`/v1/rollouts/${id}`)).json()) as { state: string },
    (x) => x.state !== 'running',
    { what: `rollout ${id} to end` },
  );
  expect(state).toBe('rolled-back');
  const back = await call(canary, 'reload');
  expect(back).toMatchObject({ version: 1, changed: true, downloadedBytes: 0 });
  expect(back.out).toEqual(v1.out);
  await Promise.all([call(canary, 'close'), call(control, 'close')]);
}, 120_000);
