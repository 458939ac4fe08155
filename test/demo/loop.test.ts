// The whole loop closes (issue 17): the CI variant of `npm run demo` — a smaller fleet of real SDK
// clients (Node, one in Chromium) on 10-second windows against the real Worker in workerd. The
// fraud pattern changes → the window's sketches raise a drift alarm and a retrain request → the
// signed CloudEvent reaches the retrain service, which is down when the alarm fires (the control
// plane retries) → it publishes a challenger whose lineage points at v1 → CI starts the staged
// rollout, judged on the devices' step records and window health → promoted → every device runs
// it within two polls, the one that was offline through the rollout included. Time is compressed
// by Worker settings only (WINDOW_SECONDS, bakes, minimum samples, ε).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../../examples/demo/ports.ts';
import type { Plane } from '../../examples/demo/plane.ts';
import { startDemoRetrain } from '../../examples/demo/retrain.ts';
import { runScenario } from '../../examples/demo/scenario.ts';
import { ROOT } from '../harness/bundle.ts';
import { runCli } from '../harness/cli.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';

const WINDOW = 10;
let worker: TestWorker;

beforeAll(async () => {
  worker = await startWorker({
    http: true,
    vars: {
      WINDOW_SECONDS: String(WINDOW),
      DRIFT_MIN_DEVICES: '15',
      DRIFT_EPSILON_PER_DAY: '1000',
      ROLLOUT_STEP_EPSILON_PER_DAY: '100000',
      ROLLOUT_TICK_SECONDS: '1',
      EDGE_CACHE_TTL_MS: '500',
      WEBHOOK_RETRY_BASE_SECONDS: '1',
    },
  });
}, 120_000);
afterAll(() => worker?.dispose());

it('alarm → retrain request, retried while the service was down → challenger with lineage → promoted → every device on it within two polls', async () => {
  const plane: Plane = {
    url: worker.url,
    token: worker.adminToken,
    root: worker.rootEnvelope,
    async publish(dir, args) {
      const r = await runCli(worker, ROOT, 'publish', dir, ...args);
      if (r.code !== 0) throw new Error(`publish ${dir}: ${r.err}`);
    },
    trigger: () => worker.trigger('15 0 * * *', new Date()),
  };
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  const rollout = { steps: [50, 100], bakeSeconds: 3, minSample: 15, tolerance: 0.2 }; // ~30 devices an arm vouch for 20-point differences (the power analysis refuses less)
  const r = await runScenario({
    plane,
    model: 'fraud-live',
    windowSeconds: WINDOW,
    graceSeconds: WINDOW / 2,
    devices: 60,
    browsers: 1,
    pollMs: 2000,
    perTick: 6,
    seed: 3,
    shiftAfterSeconds: 2 * WINDOW,
    ...rollout,
    faults: { retrainDownAtAlarm: true, offlineDevice: true },
    retrainPort: await freePort(),
    retrain: (o) =>
      startDemoRetrain({
        ...o,
        endpoint: worker.url,
        token: worker.adminToken,
        root: worker.rootEnvelope,
        rollout,
        seed: 3,
        log,
      }),
    timeoutSeconds: 240,
    log,
  });
  console.log(lines.filter((l) => !/skipped|: retraining/.test(l)).join('\n'));
  expect(r.outcome).toBe('promoted');
  expect(r.challenger).toBe(2);
  expect(r.versions).toEqual({ v2: 61 }); // 60 in Node (the offline one back) and 1 in Chromium
  // The first delivery met the service down; the retry reached it, verified, and started the job.
  const first = r.deliveries.at(-1)!; // newest first
  expect(first).toMatchObject({ status: 'delivered' });
  expect(first.attempts).toBeGreaterThanOrEqual(2);
  expect(lines.some((l) => l.includes('fault: the retrain service goes down'))).toBe(true);
  expect(r.accuracy.afterShiftOldModel!).toBeLessThan(r.accuracy.beforeShift! - 0.1);
  // The challenger's signed manifest points at its parent and carries what the service measured.
  const v2 = (await (await worker.api('/v1/models/fraud-live/versions/2')).json()) as any;
  expect(v2.lineage).toMatchObject({ parentVersion: 1 });
  expect(Object.keys(v2.metrics.explanations.features)).toHaveLength(12);
}, 300_000);
