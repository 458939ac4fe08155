// The always-valid property (issue 16): under A/A, with the decision checked after every release
// of a step, the sequential rule's false rollbacks stay within its nominal α over 500 runs, while
// the same releases judged with "observed ± 2 SE" at every look exceed it. Production aggregation
// (mergeSketches of noised increments), noise (discrete Gaussian at the step's health budget,
// ε = 2) and judge; see sequential-sim.ts for the pooled devices.
import { expect, it } from 'vitest';
import { SEQUENTIAL_ALPHA } from '../../control-plane/src/rollouts/sequential.ts';
import { DEFAULT_ANALYSIS } from '@modelfleet/protocol';
import { blockPool, derivedPlan, stepNoise, stepRuns } from './sequential-sim.ts';

it('A/A, a look after each of 20 releases, 500 runs: sequential false rollbacks ≤ α; ± 2 SE peeking exceeds it', async () => {
  // A 5 % error rate (no clipping at 0), one prediction per device (so the judge's binomial variance is
  // the true one, not a bound) and a zero tolerance: any lower bound above 0 is a false rollback.
  const analysis = [{ metric: 'inference_error_rate' as const, tolerance: 0, minSample: 1000, critical: true }];
  const pool = await blockPool([0], { rate: 0.05, seed: 21, poolBlocks: 40, calls: 1 }); // one call a device: the binomial spread is exact
  const r = stepRuns(pool, 500, 20_000, 0, { analysis, schedule: 'every' });
  console.log(
    `sim (CI): A/A 20 looks × 500 runs: sequential ${r.sequential.rollback} false rollbacks, naive ± 2 SE ${r.naive.rollback}, one look ${r.today.rollback}`,
  );
  expect(r.sequential.rollback / r.runs).toBeLessThanOrEqual(SEQUENTIAL_ALPHA);
  expect(r.naive.rollback / r.runs).toBeGreaterThan(SEQUENTIAL_ALPHA);
}, 120_000);

it('the derived plan at 5,000 devices per arm a day, ε = 2: A/A promoted ≥ 95 % and never rolled back; +2 pp rolled back ≥ 95 % within the day', async () => {
  const pool = await blockPool([0, 0.02], { seed: 22, poolBlocks: 40 });
  const plan = await derivedPlan(5000);
  const noise = await stepNoise(2, DEFAULT_ANALYSIS);
  const aa = stepRuns(pool, 200, 5000, 0, { analysis: plan.analysis, noise });
  const reg = stepRuns(pool, 100, 5000, 2, { analysis: plan.analysis, noise });
  console.log(
    `sim (CI): 5,000/arm, derived plan ${JSON.stringify(plan.analysis.map((c) => [c.metric, c.tolerance]))}: A/A ${JSON.stringify({ ...aa.sequential, looks: undefined, blocks: undefined, decided: undefined })}; +2 pp ${JSON.stringify({ ...reg.sequential, looks: undefined, blocks: undefined, decided: undefined })}; before (first 1,000, ± 2 SE): A/A ${JSON.stringify(aa.firstOnly)}`,
  );
  expect(aa.sequential.rollback).toBe(0);
  expect(aa.sequential.promote / aa.runs).toBeGreaterThanOrEqual(0.95);
  expect(reg.sequential.rollback / reg.runs).toBeGreaterThanOrEqual(0.95);
  expect(reg.sequential.promote).toBe(0);
}, 120_000);
