// Fast CI variant of `npm run sim:drift` (seeded, smaller fleets): the device-level smooth test
// stays near its nominal family-wise 1 % under device heterogeneity, where the naive pooled χ²
// over-alarms, and it detects a shift through the DP noise.
import { expect, it } from 'vitest';
import { simulate } from './drift-sim.ts';

const base = { features: 20, samplesPerDevice: 20, tau: 0.3, familyAlpha: 0.01, devices: 500, epsilon: 2 };

it('no drift: smooth test near nominal 1 %, naive pooled χ² inflated', async () => {
  const r = await simulate({ ...base, runs: 200, shift: 0, seed: 11 });
  console.log(`sim (CI): no drift, N=500, 200 runs — smooth ${(100 * r.alarmRate).toFixed(1)} %, naive ${(100 * r.naiveAlarmRate).toFixed(1)} %`);
  expect(r.alarmRate).toBeLessThanOrEqual(0.03);
  expect(r.naiveAlarmRate).toBeGreaterThan(r.alarmRate + 0.03);
}, 120_000);

it('a 0.4σ shift in 1 of 20 features is found through ε = 2 noise at N = 500', async () => {
  const r = await simulate({ ...base, runs: 40, shift: 0.4, seed: 12 });
  console.log(`sim (CI): 0.4σ shift, N=500, ε=2, 40 runs — power ${(100 * r.alarmRate).toFixed(1)} %`);
  expect(r.alarmRate).toBeGreaterThanOrEqual(0.9);
}, 120_000);
