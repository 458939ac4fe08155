import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RolloutPlan, bucketOf, eligible, rolloutCohort } from './index.ts';

describe('rollout plan', () => {
  it('defaults to 1 → 5 → 25 → 50 → 100 % with safety metrics', () => {
    const plan = RolloutPlan.parse({});
    expect(plan.steps.map((s) => s.percent)).toEqual([1, 5, 25, 50, 100]);
    expect(plan.analysis.map((m) => m.metric)).toContain('inference_error_rate');
  });

  it.each([
    [
      {
        steps: [
          { percent: 5, bakeSeconds: 60 },
          { percent: 1, bakeSeconds: 60 },
          { percent: 100, bakeSeconds: 0 },
        ],
      },
      'step percentages must increase',
    ],
    [{ steps: [{ percent: 5, bakeSeconds: 60 }] }, 'the last step is 100 %'],
    [
      {
        steps: [
          { percent: 0.001, bakeSeconds: 60 },
          { percent: 100, bakeSeconds: 0 },
        ],
      },
      '',
    ],
    [
      {
        steps: [
          { percent: 1.234, bakeSeconds: 60 },
          { percent: 100, bakeSeconds: 0 },
        ],
      },
      'two decimals',
    ],
    [
      {
        analysis: [
          { metric: 'latency_p95_ms', tolerance: 5 },
          { metric: 'latency_p95_ms', tolerance: 9 },
        ],
      },
      'each metric once',
    ],
    [{ targeting: { backends: ['tpu'] } }, ''],
    [{ colour: 'blue' }, ''],
  ])('refuses %j', (plan, message) => {
    const r = RolloutPlan.safeParse(plan);
    expect(r.success).toBe(false);
    if (message) expect(JSON.stringify(r.error!.issues)).toContain(message);
  });
});

describe('cohorts', () => {
  it('splits buckets into challenger, an equal control at the top, and the rest', () => {
    expect([0, 99, 100, 9899, 9900, 9999].map((b) => rolloutCohort(b, 1))).toEqual([
      'challenger',
      'challenger',
      'rest',
      'rest',
      'control',
      'control',
    ]);
    expect([4999, 5000, 9999].map((b) => rolloutCohort(b, 50))).toEqual(['challenger', 'control', 'control']);
    expect([0, 5000, 9999].map((b) => rolloutCohort(b, 100))).toEqual(['challenger', 'challenger', 'challenger']);
  });

  it('growing the percentage never moves a device back to the champion', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string(),
        fc.string({ minLength: 1, maxLength: 64 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        async (salt, device, a, b) => {
          const [lo, hi] = [Math.min(a, b) / 100, Math.max(a, b) / 100];
          const bucket = await bucketOf(salt, device);
          if (rolloutCohort(bucket, lo) === 'challenger') expect(rolloutCohort(bucket, hi)).toBe('challenger');
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('targeting', () => {
  it('admits only devices that say they match every targeted attribute', () => {
    const t = {
      platforms: ['web'],
      appVersions: ['2.*', '1.9.3'],
      backends: ['webgpu' as const],
      memoryTiers: ['mid' as const, 'high' as const],
    };
    const ok = {
      platform: 'web',
      appVersion: '2.0.1',
      backends: ['webgpu' as const, 'wasm' as const],
      memoryTier: 'high' as const,
    };
    expect(eligible(undefined, {})).toBe(true);
    expect(eligible(t, ok)).toBe(true);
    expect(eligible(t, { ...ok, appVersion: '1.9.3' })).toBe(true);
    expect(eligible(t, { ...ok, appVersion: '1.9.30' })).toBe(false);
    expect(eligible(t, { ...ok, backends: ['wasm'] })).toBe(false);
    expect(eligible(t, { ...ok, memoryTier: 'low' })).toBe(false);
    const { memoryTier: _m, ...silent } = ok;
    expect(eligible(t, silent)).toBe(false); // an attribute the device did not send is not a match
  });
});
