// Background polling: If-None-Match/304 while nothing changes, a background download when the
// champion moves, activation only on reload(), and `update-ready` in status meanwhile.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildLayersModel } from '../../test/fixtures/models.ts';
import { pollUntil } from '../../test/harness/poll.ts';
import type { TestWorker } from '../../test/harness/worker.ts';
import { controlPlane, publishAs, sdkClient } from './helpers.ts';

let worker: TestWorker & { appKey: string };
beforeAll(async () => {
  worker = await controlPlane();
  await publishAs(worker, 'poll', await buildLayersModel({ seed: 61 }));
});
afterAll(() => worker?.dispose());

it('polls with ETags, downloads in the background, swaps on reload only', async () => {
  const seen: { path: string; status: number; conditional: boolean }[] = [];
  const spy: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const url = new URL(String(input));
    if (url.pathname.includes('/tickets/'))
      seen.push({
        path: url.pathname,
        status: res.status,
        conditional: new Headers(init?.headers).has('if-none-match'),
      });
    return res;
  };
  const { client, store } = await sdkClient(worker, { fetch: spy, pollInterval: 100 });
  const model = await client.load('poll');
  // Polls every ~100 ms; wait (bounded) for the first conditional 304 rather than a fixed sleep.
  await pollUntil(
    async () => seen.filter((s) => s.conditional && s.status === 304).length,
    (n) => n >= 1,
    { timeoutMs: 10_000, what: 'a conditional poll answered 304', everyMs: 50 },
  );

  await publishAs(worker, 'poll', await buildLayersModel({ seed: 62 }));
  const stored = await pollUntil(
    () => store.state('poll'),
    (st) => st.active?.version === 2,
    { timeoutMs: 20_000, what: 'v2 activated in storage', everyMs: 50 },
  );
  expect(stored.active?.version).toBe(2); // downloaded and activated in storage…
  expect(model.version).toBe(1); // …but the running model only changes on reload
  expect((await client.status())['poll']).toMatchObject({ version: 1, cachedVersion: 2, state: 'update-ready' });
  expect(await model.reload()).toMatchObject({ version: 2, changed: true, downloadedBytes: 0 });
  await client.close();
});
