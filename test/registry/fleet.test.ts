// GET /v1/models/{m}/fleet (issue 17): devices per version per window — closed windows from D1's
// health rows (health + health-control, as recorded), the open ones live from the aggregates the
// edge fills. Two versions, a gap, a window half closed, uploads landing while we read; a viewer
// may read it, a device's app key may not, an unknown model is a coded 404.
import { windowOf } from '@modelfleet/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp, createToken, uploadHealth } from '../fixtures/drift.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

const today = windowOf(new Date());
const COUNTS = { load: { ok: 1 }, predict: { ok: 5 }, latencies: [], backend: { wasm: 5 } };
let worker: TestWorker;
let appKey: string;
let viewer: string;

const fleet = async (query = '?windows=7', token?: string | null, headers: Record<string, string> = {}) => {
  const res = await worker.api(`/v1/models/fleet/fleet${query}`, {
    ...(token !== undefined ? { token } : {}),
    headers,
  });
  return { status: res.status, body: (await res.json()) as any };
};
/** `n` devices named `${prefix}-i` send `version`'s health record for `window` through the edge. */
async function report(version: number, window: number, n: number, prefix: string) {
  for (let i = 0; i < n; i++)
    expect(
      (await uploadHealth(worker, appKey, `${prefix}-${i}`, COUNTS, { model: 'fleet', version, window })).status,
    ).toBe(202);
}
/** The counts per window as [window offset from today, v1, v2, live]. */
const table = (body: any) =>
  body.windows.map((w: any) => [w.window - today, ...w.versions.map((v: any) => v.devices), w.live]);

beforeAll(async () => {
  worker = await startWorker({ vars: { DRIFT_MIN_DEVICES: '2', EDGE_CACHE_TTL_MS: '0' } });
  await createModel(worker, 'fleet');
  for (const seed of [1, 2])
    expect((await publish(worker, 'fleet', await buildLayersModel({ seed, inputs: 3 }))).res.status).toBe(201);
  appKey = await createApp(worker);
  viewer = await createToken(worker, 'viewer');
  // Closed windows as the close records them: a row per version and cohort, control devices apart.
  const id = ((await worker.db.prepare("SELECT id FROM models WHERE name = 'fleet'").first()) as { id: number }).id;
  const rows: [number, number, string, number][] = [
    [1, today - 5, 'health', 30],
    [1, today - 5, 'health-control', 10],
    [1, today - 4, 'health', 30],
    [2, today - 4, 'health', 12],
    [1, today - 3, 'health', 20],
    [1, today - 3, 'health-control', 5],
    [2, today - 3, 'health', 25],
    [1, today - 9, 'health', 99], // outside the 7 windows asked for
    [1, today - 3, 'all', 500], // drift sketches are not a device count of the fleet
  ];
  for (const [version, window, cohort, devices] of rows) {
    await worker.db
      .prepare(
        'INSERT INTO drift_windows (model_id, version, window, cohort, devices, released, closed_at) VALUES (?, ?, ?, ?, ?, 0, ?)',
      )
      .bind(id, version, window, cohort, devices, new Date().toISOString())
      .run();
  }
  // Yesterday: v1's window closed through the API (recorded in D1), v2's still open (late uploads).
  await report(1, today - 1, 3, 'y1');
  await report(2, today - 1, 2, 'y2');
  expect((await worker.api(`/v1/models/fleet/versions/1/sketches/${today - 1}/close`, { method: 'POST' })).status).toBe(
    200,
  );
  // Today, open for both.
  await report(1, today, 1, 't1');
  await report(2, today, 4, 't2');
});
afterAll(() => worker?.dispose());

it('counts devices per version per window: closed windows as recorded, the open ones live', async () => {
  const { status, body } = await fleet('?windows=7', viewer);
  expect(status).toBe(200);
  expect(body).toMatchObject({ model: 'fleet', windowSeconds: 86_400, current: today, versions: [1, 2] });
  expect(table(body)).toEqual([
    [-6, 0, 0, false],
    [-5, 40, 0, false], // health + health-control
    [-4, 30, 12, false],
    [-3, 25, 25, false],
    [-2, 0, 0, false], // a gap: nobody reported
    [-1, 3, 2, true], // v1 from D1, v2 from its open aggregate
    [0, 1, 4, true],
  ]);
  expect(body.windows.map((w: any) => w.total)).toEqual([0, 40, 42, 50, 0, 5, 5]);
  // The open window follows the uploads as they land.
  await report(2, today, 3, 't2-late');
  expect(table((await fleet('?windows=1', viewer)).body)).toEqual([[0, 1, 7, true]]);
});

it('defaults to 30 windows and refuses a window count outside 1–366', async () => {
  const { body } = await fleet('');
  expect(body.windows).toHaveLength(30);
  expect(body.windows.at(-1).window).toBe(today);
  for (const q of ['?windows=0', '?windows=367', '?windows=x'])
    expect((await fleet(q)).body.error.code, q).toBe('bad_request');
});

it('is a 404 with a code for an unknown model', async () => {
  const res = await worker.api('/v1/models/nope/fleet', { token: viewer });
  expect(res.status).toBe(404);
  expect(((await res.json()) as any).error.code).toBe('unknown_model');
});

it('is refused to a device: its app key is no operator credential', async () => {
  const asHeader = await fleet('?windows=7', null, { 'x-modelfleet-app-key': appKey });
  expect(asHeader).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
  // Sent as a bearer token it is recognised, and told what it is (auth/operators.ts).
  const asBearer = await fleet('?windows=7', appKey);
  expect(asBearer).toMatchObject({
    status: 403,
    body: { error: { code: 'forbidden', message: expect.stringContaining('device app key') } },
  });
  expect(asBearer.body.windows).toBeUndefined();
});

it('is in the API document with its response schema', async () => {
  const doc = (await (await worker.api('/v1/openapi.json', { token: null })).json()) as any;
  const route = doc.paths['/v1/models/{model}/fleet'].get;
  expect(route.parameters.map((p: any) => p.name).sort()).toEqual(['model', 'windows']);
  expect(Object.keys(route.responses['200'].content['application/json'].schema.properties).sort()).toEqual([
    'current',
    'model',
    'versions',
    'windowSeconds',
    'windows',
  ]);
  expect(Object.keys(route.responses)).toEqual(expect.arrayContaining(['401', '403', '404']));
});
