// Fast CI variant of `npm run sim:rollout`: uniform buckets, no flip-flops while a rollout grows,
// and the kill switch reaching every simulated device.
import { expect, it } from 'vitest';
import { bucketingUniformity, fleetRollout } from './rollout-sim.ts';

it('buckets are uniform over 10,000 buckets for 200,000 ids under 10 salts', () => {
  const u = bucketingUniformity(10, 200_000);
  console.log(`sim (CI): bucketing ${u.passed}/10 salts pass at α = 0.001, worst p ${u.worstP.toExponential(2)}`);
  expect(u.passed).toBeGreaterThanOrEqual(9);
}, 60_000);

it('1,000 devices through 1 → 50 %: no flip-flops, shares on target, the kill switch brings all back', async () => {
  const f = await fleetRollout(1000, { cacheTtlMs: 500 });
  console.log(
    `sim (CI): flip-flops ${f.flipFlops}, shares ${f.shares.map((s) => (100 * s).toFixed(1)).join('/')} %, kill → champion ${f.killToChampionMs} ms, back ${(100 * f.backWithinTwoPolls).toFixed(1)} %`,
  );
  expect(f.flipFlops).toBe(0);
  // The 1 % step: 10 devices expected; none would mean it reached nobody (P = e^-10 by chance).
  expect(f.shares[0]).toBeGreaterThan(0);
  expect(f.shares[0]).toBeLessThan(0.03);
  expect(f.shares[3]).toBeGreaterThan(0.45);
  expect(f.shares[3]).toBeLessThan(0.55);
  expect(f.killToChampionMs).toBeLessThan(2000);
  expect(f.backWithinTwoPolls).toBe(1);
}, 300_000);

it('at the default ε = 2: A/A step analyses never roll back; a +2 pp regression on real devices is rolled back by the alarm', async () => {
  const { aaRuns, regressionToRollback } = await import('./analysis-sim.ts');
  const aa = await aaRuns(20, 2000);
  const reg = await regressionToRollback(5000);
  console.log(
    `sim (CI): A/A ${aa.rollbacks}/${aa.runs} rolled back (${aa.holds} held); regression → champion tickets in ${reg.ms} ms (${reg.decision})`,
  );
  expect(aa.rollbacks).toBe(0);
  expect(reg.decision).toMatch(/^rolled-back: roll back: inference_error_rate/);
  expect(reg.ms).toBeLessThan(30_000);
}, 300_000);

it('forged step records from one network (5 % of each arm) change decisions without the cap, none with it', async () => {
  const { forgedStepRuns } = await import('./adversarial-sim.ts');
  const a = await forgedStepRuns(6, 5000, 5);
  console.log(
    `sim (CI): forged 5 %: honest ${JSON.stringify(a.honest)}, undefended changed ${a.undefended.changed}/6, defended ${a.defended.changed}/6`,
  );
  expect(a.undefended.changed).toBeGreaterThanOrEqual(5);
  expect(a.undefended.to.rollback).toBe(a.undefended.changed);
  expect(a.defended.changed).toBe(0);
}, 120_000);
