// validateModel inside workerd: what it accepts and rejects, and why, on small layers and graph
// models built in Node by the fixtures. The Worker and helpers are in validate-harness.ts; the
// probe's shapes are in validate-probe.test.ts, real models and load in validate-real-models.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ModelArtifacts,
  buildGraphModel,
  buildLayersModel,
  goldenFor,
  withChangedTensor,
} from '../../../test/fixtures/models.ts';
import { codes, probeOf, runtime, startValidateWorker, validate } from './validate-harness.ts';

startValidateWorker();

let layers: ModelArtifacts;
let graph: ModelArtifacts;
beforeAll(async () => {
  layers = await buildLayersModel({ seed: 7, inputs: 4, hidden: 8, outputs: 2, shardBytes: 64 });
  graph = await buildGraphModel({ seed: 9, inputs: 5, outputs: 3 });
});

it('runs TF.js on our workerd platform with the CPU backend, not as Node', async () => {
  // workerd defines WorkerGlobalScope (IS_BROWSER) and, with nodejs_compat, process.versions.node.
  expect(await runtime()).toMatchObject({
    platform: 'workerd',
    backend: 'cpu',
    flags: { IS_BROWSER: true, IS_NODE: false, PROD: true },
  });
});

describe('accepts', () => {
  it('a layers model, deriving its io, reproducing its golden examples', async () => {
    const r = await validate(layers, { golden: await goldenFor(layers, 3) });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(r.io).toEqual({
      inputs: [{ name: 'hidden_input', dtype: 'float32', shape: [null, 4] }],
      outputs: [{ name: 'out', dtype: 'float32', shape: [null, 2] }],
    });
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([
      ['weights', true],
      ['load', true],
      ['probe', true],
      ['io', true],
      ['golden', true],
    ]);
    expect(probeOf(r)).toBe('hidden_input float32[1,4] (golden) on golden example 0');
  });

  it('a graph model with a declared io (wildcard batch) and golden examples', async () => {
    const io = {
      inputs: [{ name: 'x', dtype: 'float32', shape: [null, 5] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [null, 3] }],
    };
    const r = await validate(graph, {
      io,
      golden: await goldenFor(graph, [
        {
          x: [
            [1, 2, 3, 4, 5],
            [0, 0, 0, 0, 0],
          ],
        },
      ]),
    });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(r.io).toEqual(io);
  });

  it('golden values within atol + rtol·|expected|, with the tolerance the publisher gives', async () => {
    const golden = await goldenFor(layers, 1);
    golden.examples[0]!.outputs.out![0]![0]! += 0.02;
    expect(codes(await validate(layers, { golden }))).toEqual(['golden_mismatch']);
    expect((await validate(layers, { golden: { ...golden, tolerance: { atol: 0.05 } } })).ok).toBe(true);
  });
});

describe('rejects', () => {
  it('golden outputs that do not reproduce → golden_mismatch, naming the first failing value', async () => {
    const golden = await goldenFor(layers, 2);
    golden.examples[1]!.outputs.out![0]![1]! += 0.5;
    const r = await validate(layers, { golden });
    expect(codes(r)).toEqual(['golden_mismatch']);
    expect(r.reasons![0]!.message).toMatch(/^example 1, output out\[1\] is 0\.\d+, expected /);
  });

  it('a declared io that differs from the model → io_mismatch', async () => {
    const io = {
      inputs: [{ name: 'hidden_input', dtype: 'int32', shape: [null, 4] }],
      outputs: [{ name: 'score', dtype: 'float32', shape: [null, 2] }],
    };
    const r = await validate(layers, { io });
    expect(codes(r)).toEqual(['io_mismatch']);
    expect(r.reasons![0]!.message).toContain(
      'input 0 declared hidden_input:int32[?,4] but the model has hidden_input:float32[?,4]',
    );
    expect(r.reasons![0]!.message).toContain('output 0 declared score:float32[?,2] but the model has out:float32[?,2]');
    expect(
      codes(
        await validate(graph, {
          io: {
            inputs: [{ name: 'x', dtype: 'float32', shape: [null, 6] }],
            outputs: [{ name: 'y', dtype: 'float32', shape: [null, 3] }],
          },
        }),
      ),
    ).toEqual(['io_mismatch']);
  });

  it('a layers kernel declared [8,4] for a [4,8] topology (same bytes) → weights_mismatch', async () => {
    const modelJson = structuredClone(layers.modelJson);
    const kernel = modelJson.weightsManifest[0]!.weights.find((w) => w.name === 'hidden/kernel')!;
    expect(kernel.shape).toEqual([4, 8]);
    kernel.shape = [8, 4];
    const r = await validate(layers, { modelJson });
    expect(codes(r)).toEqual(['weights_mismatch']);
    expect(r.reasons![0]!.message).toMatch(/shape/i);
  });

  it('a graph weight declared [3,5] for a [5,3] Const (same bytes) → weights_mismatch before any run', async () => {
    const modelJson = structuredClone(graph.modelJson);
    modelJson.weightsManifest[0]!.weights[0]!.shape = [3, 5];
    const r = await validate(graph, { modelJson });
    expect(codes(r)).toEqual(['weights_mismatch']);
    expect(r.reasons![0]!.message).toContain('weight W is declared [3,5] but its Const node has shape [5,3]');
  });

  it('a graph Const with no weight → weights_mismatch', async () => {
    const modelJson = structuredClone(graph.modelJson);
    modelJson.weightsManifest[0]!.weights.pop();
    const r = await validate(graph, { modelJson, weightData: graph.weightData.slice(0, 60) });
    expect(codes(r)).toEqual(['weights_mismatch']);
    expect(r.reasons![0]!.message).toContain('Const node b has no weight');
  });

  it('truncated weight data → weights_mismatch, before TF.js is asked', async () => {
    const r = await validate(layers, { weightData: layers.weightData.slice(0, -4) });
    expect(codes(r)).toEqual(['weights_mismatch']);
    expect(r.reasons![0]!.message).toBe(
      `the weight specs need ${layers.weightData.length} bytes, the weight files hold ${layers.weightData.length - 4}`,
    );
    expect(r.checks.map((c) => c.name)).toEqual(['weights']);
  });

  it('a layers weight the topology does not have → weights_mismatch', async () => {
    const modelJson = structuredClone(layers.modelJson);
    modelJson.weightsManifest.push({
      paths: ['extra.bin'],
      weights: [{ name: 'stray/kernel', shape: [1], dtype: 'float32' }],
    });
    const weightData = new Uint8Array([...layers.weightData, 0, 0, 0, 0]);
    expect(codes(await validate(layers, { modelJson, weightData }))).toEqual(['weights_mismatch']);
  });

  it.each([
    ['layers', () => layers, { garbage: true }],
    [
      'layers',
      () => layers,
      {
        class_name: 'Sequential',
        config: {
          name: 's',
          layers: [{ class_name: 'NoSuchLayer', config: { name: 'x', batch_input_shape: [null, 4] } }],
        },
      },
    ],
    ['graph', () => graph, { node: 'not a node list' }],
  ])('a garbage %s topology → model_unloadable (%#)', async (_, model, modelTopology) => {
    const a = model();
    const r = await validate(a, { modelJson: { ...a.modelJson, modelTopology } });
    expect(codes(r)).toEqual(['model_unloadable']);
    expect(r.reasons![0]!.message).toContain(`TF.js could not load the ${a.format} model`);
  });

  it('a malformed model.json or a string weight → model_unloadable, naming what is wrong', async () => {
    expect(codes(await validate(layers, { modelJson: { modelTopology: {} } }))).toEqual(['model_unloadable']);
    const modelJson = structuredClone(layers.modelJson);
    modelJson.weightsManifest[0]!.weights[0]!.dtype = 'string';
    const r = await validate(layers, { modelJson });
    expect(codes(r)).toEqual(['model_unloadable']);
    expect(r.reasons![0]!.message).toContain('weight hidden/kernel has dtype string');
  });

  it('a model whose weights hold NaN → non_finite_output', async () => {
    const poisoned = withChangedTensor(layers, 'out/bias', () => Number.NaN);
    const r = await validate(poisoned, { golden: await goldenFor(layers, 1) });
    expect(codes(r)).toEqual(['non_finite_output']);
    expect(r.reasons![0]!.message).toBe('example 0, output out[0] is NaN');
  });

  it('golden inputs that overflow a relu graph → non_finite_output', async () => {
    const relu = await buildGraphModel({ seed: 3, inputs: 8, outputs: 1, activation: 'relu' });
    const W = [...new Float32Array(relu.weightData.slice(0, 32).buffer)];
    expect(W.reduce((n, w) => n + Math.abs(w), 0)).toBeGreaterThan(1.1); // so x·W overflows float32
    const x = W.map((w) => Math.sign(w) * 3.4e38);
    const golden = { examples: [{ inputs: { x: [x] }, outputs: { y: [[0]] } }] };
    expect(codes(await validate(relu, { golden }))).toEqual(['non_finite_output']);
  });

  it('golden examples that cannot run or name unknown tensors → golden_invalid', async () => {
    const wide = { examples: [{ inputs: { hidden_input: [[1, 2, 3]] }, outputs: {} }] };
    const stranger = { examples: [{ inputs: { hidden_input: [[1, 2, 3, 4]] }, outputs: { score: [[0, 0]] } }] };
    const missing = { examples: [{ inputs: { x: [[1, 2, 3, 4]] }, outputs: {} }] };
    const malformed = { examples: [{ inputs: { hidden_input: 'nope' }, outputs: {} }] };
    for (const golden of [wide, stranger, missing, malformed])
      expect(codes(await validate(layers, { golden }))).toEqual(['golden_invalid']);
  });
});
