import { type Baseline, addUpload, emptyAggregate, sketchLayout, sketchNumeric } from '@modelfleet/protocol';
import { describe, expect, it } from 'vitest';
import { detectDrift } from './detect.ts';
import { epsilonFor, noiseSigma, rhoFor } from './privacy.ts';

const edges = [-4, -1.28, -0.84, -0.52, -0.25, 0, 0.25, 0.52, 0.84, 1.28, 4];
const baseline: Baseline = { features: [{ name: 'x', kind: 'numeric', edges }, { name: 'c', kind: 'categorical', vocabulary: ['a', 'b'] }] };

describe('drift detection', () => {
  it('zCDP conversion round-trips and the noise shrinks as ε grows', async () => {
    expect(epsilonFor(rhoFor(2, 1e-6), 1e-6)).toBeCloseTo(2, 10);
    const layout = await sketchLayout(baseline);
    expect(noiseSigma(layout, 1, 1e-6)).toBeGreaterThan(noiseSigma(layout, 4, 1e-6));
  });

  it('flags a strong shift with its effect sizes, and not the untested categorical feature', async () => {
    const layout = await sketchLayout(baseline);
    const agg = emptyAggregate(layout, 1);
    for (let d = 0; d < 300; d++) {
      const values = Array.from({ length: 30 }, (_, i) => Math.sin(d * 97 + i * 13) * 1.2 + 0.8); // far from N(0,1)
      addUpload(agg, { schemaDigest: layout.schemaDigest, window: 1, features: [sketchNumeric(values, edges), null] });
    }
    const r = detectDrift(layout, agg, { familyAlpha: 0.01, minSigmaShift: 0.05, minDevices: 100, noiseSigma: 0 });
    expect(r.alarm).toBe(true);
    expect(r.features[0]).toMatchObject({ test: 'smooth', alarm: true, devices: 300 });
    expect(r.features[0]!.p!).toBeLessThan(1e-10);
    expect(r.features[0]!.effects.psi).toBeGreaterThan(0.1);
    expect(r.features[1]).toMatchObject({ test: 'none', alarm: false });
    expect(detectDrift(layout, agg, { familyAlpha: 0.01, minSigmaShift: 0.05, minDevices: 1000, noiseSigma: 0 }).alarm).toBe(false); // too few devices
  });
});
