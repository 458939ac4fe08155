import { seededUniform } from '@modelfleet/protocol/testing';
import { describe, expect, it } from 'vitest';
import type { DriftVerdict, FeatureVerdict } from './detect.ts';
import { retrainDecision, windowScore } from './retrain.ts';

const feature = (p: number | null, alarm = false): FeatureVerdict => ({
  name: 'f',
  test: 'smooth',
  devices: 5000,
  statistic: null,
  p,
  effects: { psi: 0, js: 0, linf: 0, sigmaShift: 0 },
  bins: { labels: [], observed: [], expected: [] },
  alarm,
});
const verdict = (
  ps: (number | null)[],
  alarms: boolean[] = [],
  outputs: DriftVerdict['outputs'] = null,
): DriftVerdict => ({
  features: ps.map((p, i) => feature(p, alarms[i] ?? false)),
  outputs,
  alarm: alarms.some(Boolean),
});

const rng = seededUniform;

describe('retrain trigger', () => {
  it('scores a window by its Bonferroni-adjusted smallest p', () => {
    expect(windowScore(verdict([0.5, 1, null]))).toBeLessThan(0);
    expect(windowScore(verdict([0.0005, 0.9]))).toBeCloseTo(3.09, 2); // 2·0.0005 = 0.001 → z = 3.09
    expect(windowScore(verdict([0]))).toBeGreaterThan(7.9); // p = 0 is capped, not infinite
  });

  it('does not fire in a year of null windows (20 features, uniform p), most of the time', () => {
    const random = rng(3);
    let fired = 0;
    for (let year = 0; year < 200; year++) {
      let cusum = 0;
      for (let day = 0; day < 365; day++) {
        const d = retrainDecision(cusum, verdict(Array.from({ length: 20 }, () => random())));
        cusum = d.cusum;
        if (d.reasons.includes('cusum')) {
          fired++;
          break;
        }
      }
    }
    expect(fired / 200).toBeLessThan(0.05);
  });

  it('fires within days when one feature drifts persistently below the per-window alarm level', () => {
    let cusum = 0;
    const days: number[] = [];
    for (let day = 0; day < 30; day++) {
      // p = 0.002 each day: not an alarm at family α = 1 % over 20 features (needs 0.0005), but z ≈ 1.64 after Bonferroni.
      const d = retrainDecision(cusum, verdict([0.002, ...new Array(19).fill(0.5)]));
      cusum = d.cusum;
      if (d.reasons.includes('cusum')) days.push(day);
    }
    expect(days[0]).toBeLessThanOrEqual(7);
    expect(days.length).toBeGreaterThanOrEqual(2); // restarts at 0 after a request, then fires again
  });

  it('fires at once on broad drift, prediction drift or an accuracy drop', () => {
    expect(retrainDecision(0, verdict([1e-9, 1e-9, 0.5, 0.5], [true, true, false, false])).reasons).toEqual(['share']);
    const outputs = {
      predictionDrift: true,
      estimatedAccuracy: 0.7,
      calibrated: true,
      baselineAccuracy: 0.8,
      feedbackAccuracy: null,
      accuracyDrop: 0.1,
      accuracyAlarm: true,
    };
    expect(retrainDecision(0, verdict([0.4], [], outputs)).reasons).toEqual(['prediction_drift', 'accuracy']);
    expect(retrainDecision(0, verdict([0.4])).reasons).toEqual([]);
  });
});
