import { DEFAULT_ANALYSIS, healthLayout } from '@modelfleet/protocol';
import { describe, expect, it } from 'vitest';
import { HEALTH_SHARE, HEALTH_SPLIT, releaseNoiseForRho, rhoFor, rhoSpent } from '../drift/privacy.ts';
import { planHealthNoise, stepSplit } from './step-budget.ts';

describe('stepSplit: the step budget goes to the channels the plan reads', () => {
  it('the default plan (rates and latency, no output metric): all of it to health, on load, predict and latency', () => {
    expect(stepSplit(DEFAULT_ANALYSIS)).toEqual({
      health: 1,
      sketches: 0,
      healthFeatures: ['load', 'predict', 'latency_ms'],
    });
  });
  it('output metrics only: all to sketches; both kinds: half each; nothing judged: nothing spent', () => {
    expect(stepSplit([{ metric: 'prediction_drift' }])).toEqual({ health: 0, sketches: 1, healthFeatures: [] });
    expect(stepSplit([{ metric: 'label_accuracy' }, { metric: 'estimated_accuracy' }])).toEqual({
      health: 0.5,
      sketches: 0.5,
      healthFeatures: ['feedback'],
    });
    expect(stepSplit([])).toEqual({ health: 0, sketches: 0, healthFeatures: [] });
  });
});

describe('planHealthNoise: withholding what is not judged sharpens what is', () => {
  it('spends exactly the ρ asked, and at ε = 2 the default plan gets √20 ≈ 4.5× less noise than the old fixed 10 % share', async () => {
    const layout = await healthLayout();
    const rho = rhoFor(2, 1e-6);
    const now = planHealthNoise(layout, rho, DEFAULT_ANALYSIS)!; // the default plan: all of ρ to health
    expect(rhoSpent(layout, now) / rho).toBeCloseTo(1, 9);
    expect(now.withheld).toEqual([3, 4]); // backend, feedback
    const before = releaseNoiseForRho(layout, rho * HEALTH_SHARE, HEALTH_SPLIT);
    expect(before.categoricalBins / now.categoricalBins).toBeGreaterThan(4.4); // σ² ∝ Δ²/ρ: (4 features / 0.1) against (2 / 1)
    // Withholding costs nothing: the same ρ on every feature gives more noise to each.
    expect(releaseNoiseForRho(layout, rho, HEALTH_SPLIT).categoricalBins).toBeGreaterThan(now.categoricalBins * 1.4);
  });
});
