// validateModel inside workerd: the probe run on a conv graph model with open dimensions, sized by
// golden examples, then a declared io, then default sizes. Set-up is in validate-harness.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ModelArtifacts,
  buildConvGraphModel,
  goldenForTensors,
  testImage,
} from '../../../test/fixtures/models.ts';
import { codes, probeOf, startValidateWorker, validate } from './validate-harness.ts';

startValidateWorker();

describe('probe shapes: open dimensions are run at golden, then io, then default sizes', () => {
  // x: float32[-1,-1,-1,3] → features [b,H-2,W-2,4] (follows H, W), pooled [b,4] (does not).
  let conv: ModelArtifacts;
  beforeAll(async () => {
    conv = await buildConvGraphModel({ seed: 5 });
  });
  const convIo = (h: number | null, w: number | null) => ({
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, h, w, 3] }],
    outputs: [
      { name: 'features', dtype: 'float32', shape: [null, null, null, 4] },
      { name: 'pooled', dtype: 'float32', shape: [null, 4] },
    ],
  });

  it('default: batch 1, 64 elsewhere, then again at 96; sizes that follow H×W are recorded open', async () => {
    const r = await validate(conv);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(probeOf(r)).toBe(
      'x float32[1,64,64,3] (default) on zeros; again on zeros at x[1,96,96,3]: output sizes that changed are recorded as any size',
    );
    expect(r.io.outputs).toEqual([
      { name: 'features', dtype: 'float32', shape: [null, null, null, 4] },
      { name: 'pooled', dtype: 'float32', shape: [null, 4] },
    ]);
  });

  it('a declared io narrows the open sizes: one run, at its size, and the version records them', async () => {
    const r = await validate(conv, { io: convIo(16, 12) });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(probeOf(r)).toBe('x float32[1,16,12,3] (io) on zeros');
    expect(r.io).toEqual({
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 16, 12, 3] }],
      outputs: [
        { name: 'features', dtype: 'float32', shape: [1, 14, 10, 4] },
        { name: 'pooled', dtype: 'float32', shape: [1, 4] },
      ],
    });
    const half = await validate(conv, { io: convIo(16, null) });
    expect(probeOf(half)).toBe(
      'x float32[1,16,64,3] (io+default) on zeros; again on zeros at x[1,16,96,3]: output sizes that changed are recorded as any size',
    );
    expect(half.io.outputs[0].shape).toEqual([1, 14, null, 4]);
  });

  it('golden example 0 sizes the run, and its outputs reproduce', async () => {
    const golden = await goldenForTensors(conv, [
      { x: testImage(8, 8).map((i) => i.map((r) => r.map((p) => p.map((v) => v / 255)))) },
    ]);
    const r = await validate(conv, { golden });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(probeOf(r)).toBe(
      'x float32[1,8,8,3] (golden) on golden example 0; again on zeros at x[1,16,16,3]: output sizes that changed are recorded as any size',
    );
    expect(r.checks.map((c) => c.name)).toEqual(['weights', 'load', 'probe', 'io', 'golden']);
  });

  it('a golden example that disagrees with the declared io → golden_invalid before anything runs', async () => {
    const golden = await goldenForTensors(conv, [{ x: testImage(8, 8) }]);
    const r = await validate(conv, { io: convIo(16, 16), golden });
    expect(codes(r)).toEqual(['golden_invalid']);
    expect(r.reasons![0]!.message).toBe('golden example 0, input x has shape [1,8,8,3]; the model takes [1,16,16,3]');
    expect(r.checks.map((c) => c.name)).toEqual(['weights', 'load', 'golden']);
  });

  it('sizes the model cannot run at → the code of whoever chose them, naming the shapes', async () => {
    // TF.js gives a 3×3 VALID convolution on 1×1 the shape [1,-1,-1,4] instead of throwing.
    const r = await validate(conv, { io: convIo(1, 1) });
    expect(codes(r)).toEqual(['io_mismatch']);
    expect(r.reasons![0]!.message).toBe(
      "the model does not run at the declared io's shapes, x float32[1,1,1,3] (io): output features came out with the impossible shape [1,-1,-1,4]",
    );
    expect(r.checks.at(-1)).toMatchObject({ name: 'probe', ok: false });
    const tiny = await validate(conv, { golden: { examples: [{ inputs: { x: testImage(1, 1) }, outputs: {} }] } });
    expect(codes(tiny)).toEqual(['golden_invalid']);
    expect(tiny.reasons![0]!.message).toBe(
      'golden example 0 could not run, x float32[1,1,1,3] (golden): output features came out with the impossible shape [1,-1,-1,4]',
    );
  });

  it('a model that needs more than the default size → model_unloadable saying to declare its sizes', async () => {
    const wide = await buildConvGraphModel({ seed: 6, channels: 1, filters: 1, kernel: 66 });
    const r = await validate(wide);
    expect(codes(r)).toEqual(['model_unloadable']);
    expect(r.reasons![0]!.message).toMatch(
      /^the tfjs-graph model loads but does not run on zeros at x float32\[1,64,64,1\] \(default\): .*; its open dimensions were given the default size 64 \(batch 1\): declare the sizes it runs at with an io schema \(publish --io\) or golden examples \(--golden\)$/,
    );
    const io = {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 80, 80, 1] }],
      outputs: [
        { name: 'features', dtype: 'float32', shape: [1, 15, 15, 1] },
        { name: 'pooled', dtype: 'float32', shape: [1, 1] },
      ],
    };
    expect((await validate(wide, { io })).ok).toBe(true);
  });
});
