// Window length as configuration (issue 17): with WINDOW_SECONDS=30 the tickets say so, real web-SDK
// clients in Node stamp their health records and sketches with 30-s windows, the edge refuses a
// window that has not started, and the window-close cron closes exactly the windows that ended a
// grace period ago (not the open one), each once; the privacy ledger's year is 365 days of windows.
// An invalid WINDOW_SECONDS refuses every telemetry path with window_length_invalid while models
// are still delivered.
import {
  type Envelope,
  Ticket,
  closeGraceSeconds,
  fromBase64,
  fromUtf8,
  windowOf,
  windowStart,
} from '@modelfleet/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { baseline, uploadHealth, uploadSketch } from '../fixtures/drift.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { pollUntil } from '../harness/poll.ts';
import type { TestWorker } from '../harness/worker.ts';
import { consolePage, signIn } from '../security/console-session.ts';
import { controlPlane, sdkClient, setChampion } from '../../web-sdk/test/helpers.ts';

const SECONDS = 30;
const ticketOf = (envelope: unknown) => Ticket.parse(JSON.parse(fromUtf8(fromBase64((envelope as Envelope).payload))));
const CLOSE_CRON = '15 0 * * *'; // any cron but the webhook sweep closes ended windows
let worker: TestWorker & { appKey: string };
let modelId: number;

beforeAll(async () => {
  // A large ε keeps the noise far below anything asserted; three devices are enough to release.
  worker = await controlPlane({
    WINDOW_SECONDS: String(SECONDS),
    DRIFT_MIN_DEVICES: '3',
    DRIFT_EPSILON_PER_DAY: '1000',
  });
  await createModel(worker, 'fraud');
  const r = await publish(worker, 'fraud', await buildLayersModel({ seed: 3, inputs: 3 }), { baseline });
  expect(r.res.status).toBe(201);
  await setChampion(worker, 'fraud', 1);
  await createModel(worker, 'idle');
  expect((await publish(worker, 'idle', await buildLayersModel({ seed: 4, inputs: 3 }), { baseline })).res.status).toBe(
    201,
  );
  await setChampion(worker, 'idle', 1);
  modelId = ((await worker.db.prepare("SELECT id FROM models WHERE name = 'fraud'").first()) as { id: number }).id;
});
afterAll(() => worker?.dispose());

/** Rows of three features, different per device, enough for every feature's sketch (≥ 10 values). */
const rowsFor = (d: number) =>
  Array.from({ length: 24 }, (_, i) => [Math.sin(d * 7 + i), Math.cos(d * 3 + i * 2), ((d + i) % 5) / 5 - 0.5]);

/** `count` SDK clients, each loading, predicting and flushing its window at the instant `at`. */
async function fleet(prefix: string, count: number, at: Date): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async (_, d) => {
      const { client } = await sdkClient(worker, { deviceId: `${prefix}-${d}`, now: () => at });
      try {
        const m = await client.load('fraud');
        await m.predict(rowsFor(d));
        await new Promise((r) => setTimeout(r, 0)); // observe() runs off the inference path
        const stats = await client.flush();
        expect(stats, `device ${prefix}-${d}`).toMatchObject({ sent: 2, dropped: { rejected: 0 } });
      } finally {
        await client.close();
      }
    }),
  );
}

const devicesIn = async (window: number, cohort = 'all') =>
  (await (await worker.api(`/v1/models/fraud/versions/1/sketches/${window}?cohort=${cohort}`)).json()) as {
    devices: number;
    closed: boolean;
  };
const recorded = async () =>
  (
    await worker.db
      .prepare('SELECT window, cohort, devices, released FROM drift_windows WHERE model_id = ? ORDER BY window, cohort')
      .bind(modelId)
      .all<{ window: number; cohort: string; devices: number; released: number }>()
  ).results;

it('tickets carry the window length, and the SDK keeps it with the verified ticket', async () => {
  const res = await worker.api(`/v1/edge/tickets/fraud?device=probe&key=${worker.appKey}`, { token: null });
  expect(res.status).toBe(200);
  const ticket = ticketOf(await res.json());
  expect(ticket.windowSeconds).toBe(SECONDS);
  const { client, store } = await sdkClient(worker, { deviceId: 'probe' });
  await client.load('fraud');
  expect((await store.state('fraud')).ticket?.windowSeconds).toBe(SECONDS);
  await client.close();
});

it('refuses a window that has not started with a coded error, and counts nothing', async () => {
  const current = windowOf(new Date(), SECONDS);
  for (const res of [
    await uploadSketch(worker, worker.appKey, 'ahead', 0, { window: current + 2 }),
    await uploadHealth(
      worker,
      worker.appKey,
      'ahead',
      { load: { ok: 1 }, predict: { ok: 3 }, latencies: [], backend: { cpu: 3 } },
      { window: current + 2 },
    ),
  ]) {
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('window_not_started');
  }
  expect(await devicesIn(current + 2)).toMatchObject({ devices: 0, closed: false });
  expect(await devicesIn(current + 2, 'health')).toMatchObject({ devices: 0, closed: false });
  // A day number (what a device on an older ticket would send) is long closed in 30-s windows.
  const stale = await uploadSketch(worker, worker.appKey, 'day-device', 0, { window: windowOf(new Date()) });
  expect(((await stale.json()) as { error: { code: string } }).error.code).toBe('window_closed');
  // Documented in the OpenAPI description of the telemetry routes.
  const openapi = (await (await worker.api('/v1/openapi.json', { token: null })).json()) as any;
  for (const channel of ['sketches', 'health']) {
    const codes = (status: number) =>
      openapi.paths[`/v1/edge/${channel}/{model}/{version}`].post.responses[String(status)].content['application/json']
        .schema.properties.error.properties.code.enum;
    expect(codes(422)).toContain('window_not_started');
    expect(codes(503)).toContain('window_length_invalid');
  }
});

// Before the cron test: its runs close every served version's ended windows, this model's too.
it('a device that stops predicting sends its window at the next poll once the window is over', async () => {
  const start = new Date();
  const c = windowOf(start, SECONDS);
  let clock = start;
  const { client } = await sdkClient(worker, { deviceId: 'idle-0', now: () => clock, pollInterval: 100 });
  try {
    const m = await client.load('idle');
    await m.predict(rowsFor(0));
    await new Promise((r) => setTimeout(r, 0));
    expect((await client.telemetry()).sent).toBe(0);
    clock = windowStart(c + 1, SECONDS); // no prediction, no flush: only the poll notices the window ended
    await pollUntil(
      () => client.telemetry(),
      (t) => t.sent === 2,
      { what: "the ended window's health record and sketch" },
    );
  } finally {
    await client.close();
  }
  const counted = async (cohort: string) =>
    (
      (await (await worker.api(`/v1/models/idle/versions/1/sketches/${c}?cohort=${cohort}`)).json()) as {
        devices: number;
      }
    ).devices;
  expect([await counted('all'), await counted('health')]).toEqual([1, 1]);
});

it('the cron closes and releases exactly the windows that ended a grace period ago, each once', async () => {
  // Devices report in window w (the SDK stamps it from its 30-s ticket), then in w + 1.
  const first = new Date();
  const w = windowOf(first, SECONDS);
  await fleet('early', 4, first);
  expect(await devicesIn(w)).toMatchObject({ devices: 4 });
  expect(await devicesIn(w, 'health')).toMatchObject({ devices: 4 });
  await pollUntil(
    async () => windowOf(new Date(), SECONDS),
    (now) => now > w,
    { what: 'the next 30-s window', timeoutMs: 40_000 },
  );
  await fleet('late', 3, windowStart(w + 1, SECONDS));
  expect(await devicesIn(w + 1)).toMatchObject({ devices: 3 });

  const published = windowOf(
    new Date(
      (
        (await worker.db.prepare('SELECT published_at FROM versions WHERE model_id = ?').bind(modelId).first()) as {
          published_at: string;
        }
      ).published_at,
    ),
    SECONDS,
  );
  const grace = closeGraceSeconds(SECONDS) * 1000;
  // Just before w has been over for the grace period: nothing of w is closed.
  await worker.trigger(CLOSE_CRON, new Date(windowStart(w + 1, SECONDS).getTime() + grace - 1));
  expect((await recorded()).filter((r) => r.window >= w)).toEqual([]);
  // Once it has: every window from the one the version was published in through w, none after.
  const at = new Date(windowStart(w + 1, SECONDS).getTime() + grace);
  await worker.trigger(CLOSE_CRON, at);
  await worker.trigger(CLOSE_CRON, at); // a second run changes nothing
  const rows = await recorded();
  const windows = [...new Set(rows.map((r) => r.window))];
  expect(windows).toEqual(Array.from({ length: w - published + 1 }, (_, i) => published + i));
  expect(rows.filter((r) => r.window === w)).toEqual([
    { window: w, cohort: 'all', devices: 4, released: 1 },
    { window: w, cohort: 'health', devices: 4, released: 1 },
  ]);
  expect(await devicesIn(w + 1)).toMatchObject({ devices: 3, closed: false }); // the open window is untouched
  const audits = await worker.db
    .prepare("SELECT COUNT(*) AS n FROM audit WHERE action = 'drift.close' AND subject = ?")
    .bind(`model/fraud/version/1/drift/${w}`)
    .first<{ n: number }>();
  expect(audits?.n).toBe(1);
  const ledger = await worker.db
    .prepare('SELECT COUNT(*) AS n FROM privacy_ledger WHERE model_id = ? AND window = ?')
    .bind(modelId, w)
    .first<{ n: number }>();
  expect(ledger?.n).toBe(1);

  // The next window closes on the next run after it ended.
  await worker.trigger(CLOSE_CRON, new Date(windowStart(w + 2, SECONDS).getTime() + grace));
  expect((await recorded()).filter((r) => r.window === w + 1 && r.cohort === 'all')).toEqual([
    { window: w + 1, cohort: 'all', devices: 3, released: 1 },
  ]);
  expect((await recorded()).filter((r) => r.window === w && r.cohort === 'all')).toHaveLength(1);

  // The drift view says how long windows are; the ledger's year is 365 days of 30-s windows (a
  // release 400 windows ago, three hours, is in it; one 366 days ago is not).
  const drift = (await (await worker.api('/v1/models/fraud/drift')).json()) as {
    windowSeconds: number;
    windows: { window: number }[];
  };
  expect(drift.windowSeconds).toBe(SECONDS);
  // The console's drift page names windows by their UTC start time, and says the budget is per window.
  const { html } = await consolePage(
    worker,
    (await signIn(worker, worker.adminToken)).cookie,
    '/console/models/fraud/drift',
  );
  expect(html).toContain('<th scope="col">Window (start)</th>');
  expect(html).toContain(
    `<tr data-window="${w}"><td data-label="Window">${windowStart(w, SECONDS).toISOString().slice(0, 19).replace('T', ' ')} UTC</td>`,
  );
  expect(html).toContain('Budget per device per window');
  const before = (await (await worker.api('/v1/models/fraud/privacy')).json()) as { releasesLastYear: number };
  const now = windowOf(new Date(), SECONDS);
  for (const back of [400, 366 * 2880]) {
    await worker.db
      .prepare(
        "INSERT INTO privacy_ledger (model_id, window, rho, epsilon, delta, released_at, channel) VALUES (?, ?, 0.5, 1, 1e-6, ?, 'window')",
      )
      .bind(modelId, now - back, new Date().toISOString())
      .run();
  }
  const after = (await (await worker.api('/v1/models/fraud/privacy')).json()) as { releasesLastYear: number };
  expect(after.releasesLastYear).toBe(before.releasesLastYear + 1);
});

it('an invalid WINDOW_SECONDS refuses every telemetry path with a coded error; models are still delivered', async () => {
  const before = await recorded();
  const w = windowOf(new Date(), SECONDS);
  const health = await devicesIn(w, 'health');
  await worker.restart({ WINDOW_SECONDS: '45.5' });
  // Delivery does not depend on it: the ticket goes without a window length (devices fall back to days).
  const res = await worker.api(`/v1/edge/tickets/fraud?device=after&key=${worker.appKey}`, { token: null });
  expect(res.status).toBe(200);
  expect(ticketOf(await res.json()).windowSeconds).toBeUndefined();
  const refused = async (p: Promise<Response>) => {
    const r = await p;
    expect(r.status).toBe(503);
    expect(((await r.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'window_length_invalid',
      message: expect.stringContaining('divides 86400'),
    });
  };
  await refused(
    uploadHealth(
      worker,
      worker.appKey,
      'after',
      { load: { ok: 1 }, predict: { ok: 3 }, latencies: [], backend: { cpu: 3 } },
      { window: w },
    ),
  );
  await refused(uploadSketch(worker, worker.appKey, 'after', 0, { window: w }));
  await refused(worker.api(`/v1/models/fraud/versions/1/sketches/${w}/close`, { method: 'POST' }));
  await refused(worker.api('/v1/models/fraud/drift'));
  await refused(worker.api('/v1/models/fraud/privacy'));
  // The cron closes nothing (and logs why) rather than numbering windows in a unit nobody chose.
  await worker.trigger(CLOSE_CRON, new Date(windowStart(w + 10, SECONDS).getTime()));
  expect(await recorded()).toEqual(before);
  expect(await devicesIn(w, 'health')).toEqual(health);
});
