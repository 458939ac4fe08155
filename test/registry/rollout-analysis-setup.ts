/**
 * @module rollout-analysis-setup (test/registry)
 * What the rollout-analysis suites share: a Worker whose rollout alarm ticks every second with
 * small drift floors, an app for the devices' uploads, the analysis plan, and helpers that publish
 * two versions, report a day of health, send late step records and wait for the alarm's decision.
 * Each suite calls startAnalysisWorker / stopAnalysisWorker in its beforeAll / afterAll.
 */
import { windowOf } from '@modelfleet/protocol';
import { expect } from 'vitest';
import { createApp, monitoredBaseline, uploadHealth } from '../fixtures/drift.ts';
import { buildLayersModel } from '../fixtures/models.ts';
import { pollUntil } from '../harness/poll.ts';
import { createModel, publish } from '../harness/publish.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

export let worker: TestWorker;
export let appKey: string;
export const today = windowOf(new Date());
// Tens of devices per arm can bound a difference within 5 points, not 1 (binomial spread and DP noise).
export const analysis = [{ metric: 'inference_error_rate', tolerance: 0.05, minSample: 20, critical: true }];
export const plan = {
  steps: [
    { percent: 10, bakeSeconds: 1 },
    { percent: 100, bakeSeconds: 3600 },
  ],
  analysis,
  salt: 'analysis-salt',
}; // fixed: the same devices fall in the control range every run

export async function model(name: string) {
  await createModel(worker, name);
  for (const seed of [1, 2])
    expect((await publish(worker, name, await buildLayersModel({ seed }))).res.status).toBe(201);
  await worker.api(`/v1/models/${name}/aliases/champion`, { method: 'PUT', json: { version: 1 } });
}

/** 40 devices per version report a day of health; then the day's windows close and release. */
export async function dayOfHealth(name: string, challengerErrors: number) {
  for (const [version, errors] of [
    [1, 0],
    [2, challengerErrors],
  ] as const) {
    for (let d = 0; d < 40; d++) {
      const res = await uploadHealth(
        worker,
        appKey,
        `${name}-v${version}-${d}`,
        {
          load: { ok: 1 },
          predict: { ok: 20 - errors, inference_error: errors },
          latencies: new Array(20).fill(2),
          backend: { wasm: 20 },
        },
        { model: name, version },
      );
      expect(res.status).toBe(202);
    }
    expect(
      (await worker.api(`/v1/models/${name}/versions/${version}/sketches/${today}/close`, { method: 'POST' })).status,
    ).toBe(200);
  }
}

/**
 * Records sent while the alarm may decide: each is accepted (202) until the step is over, and
 * refused as `window_closed` (422) from then on — never accepted again after a refusal.
 */
export async function lateRecords(sends: (() => Promise<Response>)[]) {
  const answers: string[] = [];
  for (const send of sends) {
    const res = await send();
    answers.push(res.status === 202 ? 'accepted' : `${res.status} ${((await res.json()) as any).error?.code}`);
  }
  const firstRefusal = answers.findIndex((a) => a !== 'accepted');
  const expected = answers.map((_, i) => (firstRefusal >= 0 && i >= firstRefusal ? '422 window_closed' : 'accepted'));
  expect(answers).toEqual(expected);
}

// The alarm ticks every second; on a loaded 2-core CI machine a decision can still take a while.
export const waitFor = (id: string, done: (r: any) => boolean) =>
  pollUntil(async () => (await (await worker.api(`/v1/rollouts/${id}`)).json()) as any, done, {
    timeoutMs: 45_000,
    what: `rollout ${id}`,
  });

// Output monitoring: two versions published with a baseline that monitors the predicted class and confidence.
export async function outputModel(name: string) {
  await createModel(worker, name);
  for (const seed of [1, 2])
    expect(
      (await publish(worker, name, await buildLayersModel({ seed, inputs: 3 }), { baseline: monitoredBaseline })).res
        .status,
    ).toBe(201);
  await worker.api(`/v1/models/${name}/aliases/champion`, { method: 'PUT', json: { version: 1 } });
}

/** Starts the Worker (the alarm ticking every second, small drift floors) and creates the devices' app. */
export async function startAnalysisWorker(): Promise<void> {
  worker = await startWorker({
    vars: { ROLLOUT_TICK_SECONDS: '1', DRIFT_MIN_DEVICES: '20', DRIFT_EPSILON_PER_DAY: '1000' },
  });
  appKey = await createApp(worker);
}

export async function stopAnalysisWorker(): Promise<void> {
  await worker?.dispose();
}
