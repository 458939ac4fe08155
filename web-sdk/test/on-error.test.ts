// The onError hook: failures the SDK absorbs (telemetry never breaks the host) reach the app with a
// code and the model they concern, while the host's own call succeeds; a hook that throws changes nothing.
import { type Baseline } from '@modelfleet/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildLayersModel } from '../../test/fixtures/models.ts';
import { createModel, publish } from '../../test/harness/publish.ts';
import type { TestWorker } from '../../test/harness/worker.ts';
import type { ClientIssue } from '../src/client.ts';
import type { ModelStore } from '../src/store.ts';
import { createOutbox } from '../src/telemetry/outbox.ts';
import { reporter } from '../src/report.ts';
import { controlPlane, sdkClient, setChampion } from './helpers.ts';

const edges = [-1, 0, 1];
const baseline: Baseline = { features: ['a', 'b'].map((name) => ({ name, kind: 'numeric' as const, edges })) };
const rows = Array.from({ length: 12 }, (_, i) => [Math.sin(i), Math.cos(i)]);
let worker: TestWorker & { appKey: string };

beforeAll(async () => {
  worker = await controlPlane();
  await createModel(worker, 'watched');
  const published = await publish(worker, 'watched', await buildLayersModel({ seed: 91, inputs: 2 }), { baseline });
  expect(published.res.status).toBe(201);
  await setChampion(worker, 'watched', 1);
});
afterAll(() => worker?.dispose());

/** Uploads (POSTs) fail as a dropped connection would; every GET reaches the Worker. */
const uploadsFail: typeof fetch = (input, init) =>
  init?.method === 'POST' ? Promise.reject(new TypeError('connection reset')) : fetch(input, init);

it('reports a failing upload through onError while predict and flush succeed', async () => {
  const issues: ClientIssue[] = [];
  const { client } = await sdkClient(worker, { deviceId: 'err-1', fetch: uploadsFail, onError: (i) => issues.push(i) });
  const model = await client.load('watched');
  expect(await model.predict(rows)).toHaveProperty('out');
  const stats = await client.flush();
  expect(stats).toMatchObject({ sent: 0, queued: 2 }); // kept for a retry, as without a hook
  const upload = issues.find((i) => i.code === 'upload_failed');
  expect(upload).toMatchObject({ context: { model: 'watched', version: 1 }, cause: expect.any(TypeError) });
  expect(upload!.message).toContain('connection reset');
  await client.close();
});

it('ignores a hook that throws: the host call still succeeds', async () => {
  let calls = 0;
  const onError = () => {
    calls++;
    throw new Error('the app logger is broken');
  };
  const { client } = await sdkClient(worker, { deviceId: 'err-2', fetch: uploadsFail, onError });
  const model = await client.load('watched');
  await model.predict(rows);
  await expect(client.flush()).resolves.toMatchObject({ queued: 2 });
  expect(calls).toBeGreaterThan(0);
  await client.close();
});

it('reports an attest callback that throws, and loads without attestation', async () => {
  const issues: ClientIssue[] = [];
  const attest = () => Promise.reject(new Error('the widget was removed'));
  const { client } = await sdkClient(worker, { deviceId: 'err-3', attest, onError: (i) => issues.push(i) });
  const model = await client.load('watched');
  expect(model.version).toBe(1);
  expect(issues).toContainEqual(expect.objectContaining({ code: 'attest', context: { model: 'watched' } }));
  await client.close();
});

it('outbox: a failing IndexedDB write is counted as a drop and reported with its channel', async () => {
  // The two calls enqueue makes: the queue's size, then the write, which the browser refuses.
  const refuse = () => Promise.reject(new DOMException('disk full', 'QuotaExceededError'));
  const full = { db: { count: async () => 0, put: refuse } };
  const issues: ClientIssue[] = [];
  const edge = { endpoint: 'http://edge.test', appKey: 'k', fetch };
  const outbox = createOutbox(
    full as unknown as ModelStore,
    edge,
    'dev',
    Date.now,
    reporter((i) => issues.push(i)),
  );
  await outbox.enqueue({ model: 'm', version: 3, window: 7, bytes: new Uint8Array(4), channel: 'health' });
  expect((await outbox.stats()).dropped.storage_error).toBe(1);
  expect(issues).toEqual([
    expect.objectContaining({ code: 'storage_write', context: { model: 'm', version: 3, channel: 'health' } }),
  ]);
});
