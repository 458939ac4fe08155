// Drift end to end: real SDK clients in Chromium run two monitored models (one on inputs shifted
// by 1.5σ in feature 0, one on unshifted inputs), sketch and upload through the edge into the
// Durable Object aggregates; the daily Cron Trigger fires at an injected time (tomorrow 00:15
// UTC) and closes today's windows; the drift alarm reaches a local webhook receiver as a
// CloudEvent with a valid signature — and only for the shifted model.
//
// ε is 500/day here so that 20 browser devices have the power of a large fleet: DP noise at
// ε = 2 needs ~1,000 devices (see `npm run sim:drift`); this test is about the pipeline. (At 50,
// health's tenth of it put σ ≈ 1.2 devices on each released bin, and a clean CI run once read a
// load-ok share of 0.71 from 20 devices; at 500 it is σ ≈ 0.27.)
import { type CloudEvent, verifyWebhook, windowOf } from '@modelfleet/protocol';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { baseline, createApp, edges } from '../fixtures/drift.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type Receiver, header, startReceiver } from '../harness/webhook-receiver.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';
import { launchChromium } from './chromium.ts';
import { type StaticServer, startStaticServer } from './server.ts';

const DEVICES = 20;
let worker: TestWorker;
let site: StaticServer;
let browser: Browser;
let receiver: Receiver;
let appKey: string;
let secret: string;

beforeAll(async () => {
  [worker, site, browser, receiver] = await Promise.all([
    startWorker({ http: true, vars: { DRIFT_MIN_DEVICES: String(DEVICES), DRIFT_EPSILON_PER_DAY: '500' } }),
    startStaticServer(),
    launchChromium(),
    startReceiver(),
  ]);
  for (const name of ['drifting', 'steady']) {
    await createModel(worker, name);
    const r = await publish(worker, name, await buildLayersModel({ seed: 7, inputs: 3 }), { baseline });
    expect(r.res.status).toBe(201);
    await worker.api(`/v1/models/${name}/aliases/champion`, { method: 'PUT', json: { version: r.body.version } });
  }
  appKey = await createApp(worker);
  const hook = await worker.api('/v1/webhooks', {
    method: 'POST',
    json: { url: `${receiver.url}/modelfleet`, events: ['dev.modelfleet.drift.alarm'] },
  });
  secret = ((await hook.json()) as { secret: string }).secret;
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all([site?.close(), receiver?.close()]);
  await worker?.dispose();
});

it('shifted inputs on real devices end in a signed drift alarm at the receiver', async () => {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`[fleet] ${e.message}`));
  await page.goto(`${site.url}/fleet.html`);
  await page.waitForFunction(() => (globalThis as unknown as { sdkReady?: boolean }).sdkReady === true);
  const report = (await page.evaluate((c) => (globalThis as any).runFleet(c), {
    endpoint: worker.url,
    appKey,
    trustRoot: worker.rootEnvelope,
    models: ['drifting', 'steady'],
    devices: DEVICES,
    edges,
    shift: { drifting: 1.5 },
  })) as { device: string; telemetry: { sent: number; queued: number; dropped: Record<string, number> } }[];
  expect(new Set(report.map((r) => r.device)).size).toBe(DEVICES);
  // A sketch and a health record per model.
  for (const r of report)
    expect(r.telemetry).toMatchObject({
      sent: 4,
      queued: 0,
      dropped: { queue_full: 0, rejected: 0, duplicate: 0, storage_error: 0 },
    });

  const today = windowOf(new Date());
  for (const model of ['drifting', 'steady']) {
    const open = (await (await worker.api(`/v1/models/${model}/versions/1/sketches/${today}`)).json()) as {
      devices: number;
    };
    expect(open.devices).toBe(DEVICES);
  }

  // Tomorrow at 00:15 UTC the daily cron closes today's windows.
  await worker.trigger('15 0 * * *', new Date((today + 1) * 86_400_000 + 15 * 60_000));

  const [delivery] = await receiver.waitFor(1);
  const event: CloudEvent = await verifyWebhook(
    secret,
    new Headers(delivery!.headers as Record<string, string>),
    delivery!.body,
  );
  expect(event).toMatchObject({
    type: 'dev.modelfleet.drift.alarm',
    id: `drift.alarm/drifting/1/${today}`,
    subject: `versions/1/drift/${today}`,
  });
  expect(event.data).toMatchObject({ model: 'drifting', version: 1, window: today, devices: DEVICES });
  const features = (event.data as { features: { name: string; effects: { sigmaShift: number } }[] }).features;
  expect(features.map((f) => f.name)).toEqual(['f0']);
  expect(features[0]!.effects.sigmaShift).toBeGreaterThan(0.5);
  expect(header(delivery!, 'webhook-id')).toBe(event.id);

  const windows = async (model: string) =>
    ((await (await worker.api(`/v1/models/${model}/drift`)).json()) as { windows: any[] }).windows;
  expect((await windows('steady'))[0]).toMatchObject({ window: today, devices: DEVICES, released: true, alarm: false });
  const drifting = (await windows('drifting'))[0];
  expect(drifting).toMatchObject({ window: today, devices: DEVICES, released: true, alarm: true });
  // The devices' health came with it: every load fine, CPU answered, no errors. (20 devices on a tenth
  // of ε = 500: a released share carries noise of σ ≈ 0.015; a failure prints the whole summary.)
  const summary = drifting.health.summary;
  expect(drifting.health.devices).toBe(DEVICES);
  expect(summary.load.shares.ok, JSON.stringify(summary)).toBeGreaterThan(0.75);
  expect(summary.backend.shares.cpu, JSON.stringify(summary)).toBeGreaterThan(0.75);
  expect(summary.predict.shares.inference_error, JSON.stringify(summary)).toBeLessThan(0.25);
  // Nothing for the steady model: alarms are written with the window's close (a transactional
  // outbox), so after the cron has run the delivery log is final.
  const log = (
    (await (await worker.api('/v1/deliveries?type=dev.modelfleet.drift.alarm')).json()) as {
      deliveries: { eventId: string }[];
    }
  ).deliveries;
  expect(log.map((d) => d.eventId)).toEqual([`drift.alarm/drifting/1/${today}`]);
  expect(receiver.received).toHaveLength(1);
}, 180_000);
