// Rollout targeting end to end: the SDK describes the device with each ticket request (platform,
// SDK and app version, backends, tiers) and the edge puts only eligible devices in the challenger
// range; an ineligible device in the same bucket stays on the champion.
import { bucketOf, rolloutCohort } from '@modelfleet/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildLayersModel } from '../../test/fixtures/models.ts';
import type { TestWorker } from '../../test/harness/worker.ts';
import { pollUntil } from '../../test/harness/poll.ts';
import { controlPlane, publishAs, sdkClient, setChampion } from './helpers.ts';

let worker: TestWorker & { appKey: string };
const plan = {
  steps: [
    { percent: 50, bakeSeconds: 3600 },
    { percent: 100, bakeSeconds: 0 },
  ],
  salt: 'targeting-salt',
  targeting: { appVersions: ['2.*'], backends: ['wasm', 'webgpu'] },
};

beforeAll(async () => {
  worker = await controlPlane();
  await publishAs(worker, 'scorer', await buildLayersModel({ seed: 91 }));
  await publishAs(worker, 'scorer', await buildLayersModel({ seed: 92 }), false);
  await setChampion(worker, 'scorer', 1);
  expect(
    (await worker.api('/v1/models/scorer/rollouts', { method: 'POST', json: { challenger: 2, plan } })).status,
  ).toBe(201);
});
afterAll(() => worker?.dispose());

it('sends its profile and gets the challenger only when eligible', async () => {
  let device = '';
  for (let i = 0; !device; i++)
    if (rolloutCohort(await bucketOf(plan.salt, `t-${i}`), 50) === 'challenger') device = `t-${i}`;
  const urls: string[] = [];
  const spy: typeof fetch = (input, init) => {
    if (String(input).includes('/tickets/')) urls.push(String(input));
    return fetch(input, init);
  };
  const eligibleClient = (await sdkClient(worker, { deviceId: device, appVersion: '2.4.1', fetch: spy })).client;
  expect((await eligibleClient.load('scorer')).version).toBe(2);
  const query = new URL(urls[0]!).searchParams;
  expect([query.get('platform'), query.get('sdk'), query.get('app')]).toEqual(['web', '0.1.0', '2.4.1']);
  expect(query.get('backends')).toContain('wasm'); // Node has WebAssembly; no navigator.gpu
  await eligibleClient.close();

  for (const appVersion of ['1.9.0', undefined]) {
    const { client } = await sdkClient(worker, { deviceId: device, ...(appVersion ? { appVersion } : {}) });
    expect((await client.load('scorer')).version).toBe(1); // same bucket, not targeted
    await client.close();
  }
});

it('never waits for the storage estimate: the first ticket goes without a tier, later ones (and the next start) carry it', async () => {
  // The quota estimate takes tens of ms in a fresh browser profile; here it answers only once the
  // first ticket request has gone out (the download's headroom check, later, does wait for it).
  let answer!: (e: { quota: number }) => void;
  const estimate = new Promise<{ quota: number }>((r) => (answer = r));
  const previous = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', {
    value: { storage: { estimate: () => estimate } },
    configurable: true,
  });
  try {
    const tiers: (string | null)[] = [];
    const spy: typeof fetch = (input, init) => {
      if (String(input).includes('/tickets/')) tiers.push(new URL(String(input)).searchParams.get('storage'));
      answer({ quota: 50 * 2 ** 30 });
      return fetch(input, init);
    };
    const { client, store } = await sdkClient(worker, { deviceId: 'tier-1', fetch: spy });
    const model = await client.load('scorer');
    await estimate;
    // The tier is kept in IndexedDB off the request path: wait for that write (bounded), not a guess.
    await pollUntil(
      () => store.getMeta('storageTier'),
      (tier) => tier === 'high',
      { what: 'the storage tier kept in IndexedDB', everyMs: 5, timeoutMs: 10_000 },
    );
    await model.reload();
    await client.close();
    const again = await sdkClient(worker, { deviceId: 'tier-1', fetch: spy, store });
    await again.client.load('scorer');
    await again.client.close();
    expect(tiers).toEqual([null, 'high', 'high']); // the tier was kept in IndexedDB for the next start
  } finally {
    if (previous) Object.defineProperty(globalThis, 'navigator', previous);
    else delete (globalThis as { navigator?: unknown }).navigator;
  }
});
