// Step health from the SDK: a device in a rollout's challenger range says once that it runs the
// step's version ("loaded"), records what it runs during the step and sends that once (named by
// the ticket's sequence, with the rollout id); a device outside the ranges sends none.
import { bucketOf, rolloutCohort } from '@modelfleet/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { baseline } from '../../test/fixtures/drift.ts';
import { buildLayersModel } from '../../test/fixtures/models.ts';
import { createModel, publish } from '../../test/harness/publish.ts';
import type { TestWorker } from '../../test/harness/worker.ts';
import { controlPlane, publishAs, sdkClient, setChampion } from './helpers.ts';

let worker: TestWorker & { appKey: string };
let rollout: string;
let sketchy: string; // a rollout of a model with a monitoring baseline
const salt = 'sdk-step-salt';

beforeAll(async () => {
  worker = await controlPlane();
  await publishAs(worker, 'stepper', await buildLayersModel({ seed: 61 }));
  await publishAs(worker, 'stepper', await buildLayersModel({ seed: 62 }), false);
  await setChampion(worker, 'stepper', 1);
  const res = await worker.api('/v1/models/stepper/rollouts', {
    method: 'POST',
    json: {
      challenger: 2,
      plan: {
        steps: [
          { percent: 20, bakeSeconds: 3600 },
          { percent: 100, bakeSeconds: 0 },
        ],
        salt,
      },
    },
  });
  rollout = ((await res.json()) as { id: string }).id;
  await createModel(worker, 'sketchy');
  for (const seed of [64, 65])
    expect(
      (await publish(worker, 'sketchy', await buildLayersModel({ seed, inputs: 3 }), { baseline })).res.status,
    ).toBe(201);
  await setChampion(worker, 'sketchy', 1);
  const r2 = await worker.api('/v1/models/sketchy/rollouts', {
    method: 'POST',
    json: {
      challenger: 2,
      plan: {
        steps: [
          { percent: 20, bakeSeconds: 3600 },
          { percent: 100, bakeSeconds: 0 },
        ],
        salt,
      },
    },
  });
  sketchy = ((await r2.json()) as { id: string }).id;
});
afterAll(() => worker?.dispose());

async function deviceIn(cohort: 'challenger' | 'control' | 'rest', prefix = 'sd'): Promise<string> {
  for (let i = 0; ; i++)
    if (rolloutCohort(await bucketOf(salt, `${prefix}-${i}`), 20) === cohort) return `${prefix}-${i}`;
}

it('a challenger-range device sends one step record for the step, with the rollout and the ticket sequence', async () => {
  const sent: { url: string; status: number }[] = [];
  const spy: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (String(input).includes('/step-health/')) sent.push({ url: String(input), status: res.status });
    return res;
  };
  const { client } = await sdkClient(worker, { deviceId: await deviceIn('challenger'), fetch: spy });
  const model = await client.load('stepper');
  expect(model.version).toBe(2);
  const rows = Array.from({ length: 4 }, (_, i) => [i, 1, 2, 3]);
  for (let i = 0; i < 12; i++) await model.predict(rows); // a step record waits for 10 predict calls
  expect((await client.flush()).dropped.rejected).toBe(0);
  // First a "loaded" record (the device runs the step's version), then the step's record of use.
  expect(sent.map((s) => s.status)).toEqual([202, 202]);
  const [loaded, used] = [
    sent.filter((s) => s.url.includes('phase=loaded')),
    sent.filter((s) => !s.url.includes('phase=')),
  ];
  expect([loaded.length, used.length]).toEqual([1, 1]);
  expect(loaded[0]!.url).toContain(`&rollout=${rollout}&phase=loaded`);
  expect(used[0]!.url).toContain(`/v1/edge/step-health/stepper/2?device=`);
  expect(used[0]!.url).toContain(`&rollout=${rollout}`);
  const sequence = ((await (await worker.api('/v1/models/stepper')).json()) as { sequence: number }).sequence;
  const devices = async (cohort: string) =>
    (
      (await (await worker.api(`/v1/models/stepper/versions/2/sketches/${sequence}?cohort=${cohort}`)).json()) as {
        devices: number;
      }
    ).devices;
  expect(await devices(`step-${rollout}-loaded`)).toBe(1);
  expect(await devices(`step-${rollout}`)).toBe(1);
  await model.predict(rows);
  await client.flush();
  expect(sent).toHaveLength(2); // once per step
  await client.close();
});

it('a device outside both ranges sends no step record', async () => {
  const sent: string[] = [];
  const spy: typeof fetch = (input, init) => {
    if (String(input).includes('/step-health/')) sent.push(String(input));
    return fetch(input, init);
  };
  const { client } = await sdkClient(worker, { deviceId: await deviceIn('rest'), fetch: spy });
  const model = await client.load('stepper');
  expect(model.version).toBe(1);
  for (let i = 0; i < 12; i++) await model.predict([[0, 1, 2, 3]]);
  await client.flush();
  expect(sent).toEqual([]);
  await client.close();
});

it('a control-range device names the rollout on its daily health record and counts in the control arm; others do not', async () => {
  const { windowOf } = await import('@modelfleet/protocol');
  const contributions = async (cohort: string) =>
    (
      (await (
        await worker.api(`/v1/models/stepper/versions/1/sketches/${windowOf(new Date())}?cohort=${cohort}`)
      ).json()) as { devices: number }
    ).devices;
  const before = { control: await contributions('health-control'), health: await contributions('health') };
  for (const cohort of ['control', 'rest'] as const) {
    const urls: string[] = [];
    const spy: typeof fetch = async (input, init) => {
      if (String(input).includes('/health/stepper/')) urls.push(String(input));
      return fetch(input, init);
    };
    const { client } = await sdkClient(worker, { deviceId: await deviceIn(cohort, 'daily'), fetch: spy });
    const model = await client.load('stepper');
    expect(model.version).toBe(1);
    await model.predict([[0, 1, 2, 3]]);
    await client.flush();
    const daily = urls.filter((u) => u.includes('/v1/edge/health/'));
    expect(daily).toHaveLength(1);
    if (cohort === 'control') expect(daily[0]).toContain(`&rollout=${rollout}`);
    else expect(daily[0]).not.toContain('rollout=');
    await client.close();
  }
  expect(await contributions('health-control')).toBe(before.control + 1);
  expect(await contributions('health')).toBe(before.health + 1);
});

it('with a monitoring baseline, each range device also sends the step’s sketch of inputs and outputs, once', async () => {
  const sequence = ((await (await worker.api('/v1/models/sketchy')).json()) as { sequence: number }).sequence;
  for (const [cohort, version] of [
    ['challenger', 2],
    ['control', 1],
  ] as const) {
    const sent: { url: string; status: number }[] = [];
    const spy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).includes('/step-')) sent.push({ url: String(input), status: res.status });
      return res;
    };
    const { client } = await sdkClient(worker, { deviceId: await deviceIn(cohort, 'sk'), fetch: spy });
    const model = await client.load('sketchy');
    expect(model.version).toBe(version);
    for (let i = 0; i < 12; i++)
      await model.predict(Array.from({ length: 4 }, (_, r) => [Math.sin(i + r), Math.cos(i * r), (i % 5) / 5 - 0.5]));
    expect((await client.flush()).dropped.rejected).toBe(0);
    const sketches = sent.filter((s) => s.url.includes('/v1/edge/step-sketches/'));
    expect(sketches.map((s) => s.status)).toEqual([202]);
    expect(sketches[0]!.url).toContain(`/step-sketches/sketchy/${version}?device=`);
    expect(sketches[0]!.url).toContain(`&rollout=${sketchy}`);
    const devices = (
      (await (
        await worker.api(`/v1/models/sketchy/versions/${version}/sketches/${sequence}?cohort=step-${sketchy}-sketches`)
      ).json()) as { devices: number }
    ).devices;
    expect(devices).toBe(1);
    await model.predict([[0, 0, 0]]);
    await client.flush();
    expect(sent.filter((s) => s.url.includes('/step-sketches/'))).toHaveLength(1); // once per step
    await client.close();
  }
});

it('without a baseline, a step sends its record but no sketch', async () => {
  const sent: string[] = [];
  const spy: typeof fetch = (input, init) => (sent.push(String(input)), fetch(input, init));
  const { client } = await sdkClient(worker, { deviceId: await deviceIn('challenger', 'nb'), fetch: spy });
  const model = await client.load('stepper');
  for (let i = 0; i < 12; i++) await model.predict([[0, 1, 2, 3]]);
  await client.flush();
  expect(sent.filter((u) => u.includes('/step-health/') && !u.includes('phase='))).toHaveLength(1);
  expect(sent.filter((u) => u.includes('/step-sketches/'))).toEqual([]);
  await client.close();
});
