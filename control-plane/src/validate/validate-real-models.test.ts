// validateModel inside workerd under real use: third-party models (test/fixtures/real-models.ts),
// concurrent requests, tensors left behind in the reused isolate, and a 20 MiB model's timings.
// Set-up is in validate-harness.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ModelArtifacts,
  buildConvGraphModel,
  buildGraphModel,
  buildLargeLayersModel,
  buildLayersModel,
  goldenFor,
  goldenForTensors,
  testImage,
  withChangedTensor,
} from '../../../test/fixtures/models.ts';
import { type RealModelId, readRealModel } from '../../../test/fixtures/real-models.ts';
import { type Result, numTensors, probeOf, startValidateWorker, validate } from './validate-harness.ts';

startValidateWorker();

let layers: ModelArtifacts;
let graph: ModelArtifacts;
beforeAll(async () => {
  layers = await buildLayersModel({ seed: 7, inputs: 4, hidden: 8, outputs: 2, shardBytes: 64 });
  graph = await buildGraphModel({ seed: 9, inputs: 5, outputs: 3 });
});

/** validate-real-models.test.ts runs these through workerd; the ids are in test/fixtures/real-models.ts. */
describe('real third-party models', () => {
  const real = (id: RealModelId): ModelArtifacts => ({ ...readRealModel(id), weightFiles: {} });
  const timings: string[] = [];
  afterAll(() => console.log(`real models in workerd:\n  ${timings.join('\n  ')}`));
  const log = (label: string, r: Result) =>
    timings.push(`${label}: ${r.ms.toFixed(0)} ms (${r.checks.map((c) => `${c.name} ${c.ms}`).join(', ')})`);

  it.each([
    [
      'movenet-lightning',
      'input int32[1,192,192,3] (model) on zeros',
      { inputs: [['input', 'int32', [1, 192, 192, 3]]], outputs: [['Identity', 'float32', [1, 1, 17, 3]]] },
    ],
    [
      'facemesh',
      'input_1 float32[1,192,192,3] (default) on zeros',
      {
        inputs: [['input_1', 'float32', [null, 192, 192, 3]]],
        outputs: [
          ['Identity_2', 'float32', [null, 1404]],
          ['Identity_1', 'float32', [null, 1]],
          ['Identity', 'float32', [null, 266]],
        ],
      },
    ],
    [
      'nsfw-mobilenet-v2',
      'input_1 float32[1,224,224,3] (default) on zeros',
      { inputs: [['input_1', 'float32', [null, 224, 224, 3]]], outputs: [['dense_3', 'float32', [null, 5]]] },
    ],
  ] as const)('%s is accepted with its io and probe shapes recorded', async (id, probe, io) => {
    const r = await validate(real(id));
    log(id, r);
    expect(r.ok, JSON.stringify(r.reasons)).toBe(true);
    expect(probeOf(r)).toBe(probe);
    const tensors = (ts: readonly (readonly [string, string, readonly (number | null)[]])[]) =>
      ts.map(([name, dtype, shape]) => ({ name, dtype, shape }));
    expect(r.io).toEqual({ inputs: tensors(io.inputs), outputs: tensors(io.outputs) });
  });

  // handtrack: uint8 image (int32 in TF.js) [1,-1,-1,3], a while loop (executeAsync), eight
  // outputs. It resizes its input to 320×320 itself, so no output size follows the input's.
  // One run takes ~2 s alone on 2 cores and up to ~7 s inside the whole suite: hence 120 s.
  const SLOW = 120_000;
  const HANDTRACK_OUTPUTS = [
    ['Identity_2', [1, 100]],
    ['Identity_4', [1, 100]],
    ['Identity_6', [1, 12804, 4]],
    ['Identity_1', [1, 100, 4]],
    ['Identity_3', [1, 100, 8]],
    ['Identity_5', [1]],
    ['Identity', [1, 100]],
    ['Identity_7', [1, 12804, 8]],
  ] as const;
  const handtrackIo = (
    inputShape: (number | null)[],
    outputShape = (s: readonly number[]) => s.map(() => null as number | null),
  ) => ({
    inputs: [{ name: 'input_tensor', dtype: 'int32', shape: inputShape }],
    outputs: HANDTRACK_OUTPUTS.map(([name, shape]) => ({ name, dtype: 'float32', shape: outputShape(shape) })),
  });

  it(
    'handtrack with no golden and no io: the default probe, twice, and no tensors left behind',
    async () => {
      const before = await numTensors();
      const r = await validate(real('handtrack'));
      log('handtrack, default probe', r);
      expect(r.ok, JSON.stringify(r.reasons)).toBe(true);
      expect(probeOf(r)).toBe(
        'input_tensor int32[1,64,64,3] (default) on zeros; again on zeros at input_tensor[1,96,96,3]: output sizes that changed are recorded as any size',
      );
      expect(r.io).toEqual(handtrackIo([1, null, null, 3], (s) => [...s]));
      expect(await numTensors()).toBe(before);
    },
    SLOW,
  );

  it(
    'handtrack with a declared io [1,128,128,3]: one run at it, and the version records 128×128',
    async () => {
      const r = await validate(real('handtrack'), { io: handtrackIo([1, 128, 128, 3]) });
      log('handtrack, declared io 128×128', r);
      expect(r.ok, JSON.stringify(r.reasons)).toBe(true);
      expect(probeOf(r)).toBe('input_tensor int32[1,128,128,3] (io) on zeros');
      expect(r.io).toEqual(handtrackIo([1, 128, 128, 3], (s) => [...s]));
    },
    SLOW,
  );

  it(
    'handtrack with a golden example at 48×48 computed by plain TF.js in Node',
    async () => {
      const keep = ['Identity_2', 'Identity_4', 'Identity_1', 'Identity_5'];
      const golden = await goldenForTensors(real('handtrack'), [{ input_tensor: testImage(48, 48) }], keep);
      const r = await validate(real('handtrack'), { golden });
      log('handtrack, golden 48×48', r);
      expect(r.ok, JSON.stringify(r.reasons)).toBe(true);
      expect(probeOf(r)).toBe(
        'input_tensor int32[1,48,48,3] (golden) on golden example 0; again on zeros at input_tensor[1,64,64,3]: output sizes that changed are recorded as any size',
      );
      expect(r.checks.map((c) => c.name)).toEqual(['weights', 'load', 'probe', 'io', 'golden']);
    },
    SLOW,
  );
});

it('gives concurrent requests in one isolate the right answers', async () => {
  const bad = structuredClone(layers.modelJson);
  bad.weightsManifest[0]!.weights[0]!.shape = [8, 4];
  const golden = await goldenFor(layers, 2);
  const results = await Promise.all([
    validate(layers, { golden }),
    validate(layers, { modelJson: bad }),
    validate(graph),
    validate(layers, { golden }),
    validate(layers, { modelJson: bad }),
  ]);
  expect(results.map((r) => r.ok)).toEqual([true, false, true, true, false]);
});

it('leaves no tensors behind in the reused isolate', async () => {
  await validate(layers, { golden: await goldenFor(layers, 1) }); // warm: TF.js keeps a few of its own
  const before = await numTensors();
  await validate(layers, { golden: await goldenFor(layers, 2) });
  await validate(graph, { golden: await goldenFor(graph, 2) });
  await validate(layers, { golden: { examples: [{ inputs: { hidden_input: [[1, 2, 3]] }, outputs: {} }] } });
  await validate(
    withChangedTensor(layers, 'out/bias', () => Number.NaN),
    { golden: await goldenFor(layers, 1) },
  );
  await validate(layers, { modelJson: { ...layers.modelJson, modelTopology: { garbage: true } } });
  await validate(graph, { modelJson: { ...graph.modelJson, modelTopology: { node: 'not a node list' } } });
  const swapped = structuredClone(layers.modelJson);
  swapped.weightsManifest[0]!.weights[0]!.shape = [8, 4];
  await validate(layers, { modelJson: swapped });
  // The probe: two runs, a run that yields an impossible shape, and a golden example 0 that does.
  const conv = await buildConvGraphModel({ seed: 5 });
  await validate(conv);
  await validate(conv, {
    io: {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 1, 1, 3] }],
      outputs: [
        { name: 'features', dtype: 'float32', shape: [1, null, null, 4] },
        { name: 'pooled', dtype: 'float32', shape: [1, 4] },
      ],
    },
  });
  await validate(conv, { golden: { examples: [{ inputs: { x: [[[[0, 0, 0]]]] }, outputs: {} }] } });
  expect(await numTensors()).toBe(before);
});

it('validates a 20 MiB model in workerd (timings logged)', async () => {
  const tiny = await validate(layers, { golden: await goldenFor(layers, 3) });
  const big = await buildLargeLayersModel(20 * 2 ** 20, 1);
  const r = await validate(big, { golden: await goldenFor(big, 2) });
  expect(r.ok, JSON.stringify(r.reasons)).toBe(true);
  const fmt = (x: Result) => `${x.ms.toFixed(0)} ms (${x.checks.map((c) => `${c.name} ${c.ms}`).join(', ')})`;
  console.log(
    `validateModel in workerd — tiny (${layers.weightData.length} B): ${fmt(tiny)}; 20 MiB (${big.weightData.length} B): ${fmt(r)}`,
  );
});
