// validateModel inside workerd: a test-only Worker (test/fixtures/validate-worker.ts) bundled
// with esbuild and started through Miniflare, fed models built in Node by the fixtures.
import { toBase64 } from '@modelfleet/protocol';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
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

const ENTRY = new URL('../../../test/fixtures/validate-worker.ts', import.meta.url).pathname;

/** The Worker as esbuild bundles it for workerd; also what the bundle-size figures measure. */
async function bundleValidateWorker(minify = false): Promise<string> {
  const { outputFiles } = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    minify,
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    // 'browser' first, as wrangler does: tfjs-core's browser map drops node-fetch.
    mainFields: ['browser', 'module', 'main'],
    // tfjs-core's Node platform calls require('util') only when it is constructed, which never
    // happens in workerd (IS_BROWSER is true there); leave the require unresolved.
    external: ['cloudflare:*', 'node:*', 'util'],
    logLevel: 'silent',
  });
  return outputFiles[0]!.text;
}

let mf: Miniflare;
beforeAll(async () => {
  mf = new Miniflare({
    modules: true,
    script: await bundleValidateWorker(),
    compatibilityDate: '2026-04-01',
    compatibilityFlags: ['nodejs_compat'],
    cf: false,
  });
  await mf.ready;
});
afterAll(() => mf?.dispose());

type Result = {
  ok: boolean;
  ms: number;
  io?: any;
  reasons?: { code: string; message: string }[];
  checks: { name: string; ok: boolean; ms: number; detail?: string }[];
};

async function validate(
  a: ModelArtifacts,
  over: { modelJson?: unknown; weightData?: Uint8Array; io?: unknown; golden?: unknown } = {},
): Promise<Result> {
  const body = {
    format: a.format,
    modelJson: over.modelJson ?? a.modelJson,
    weightData: toBase64(over.weightData ?? a.weightData),
    io: over.io,
    golden: over.golden,
  };
  const res = await mf.dispatchFetch('http://validate/validate', { method: 'POST', body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as Result;
}

const codes = (r: Result) => (r.reasons ?? []).map((x) => x.code);
const probeOf = (r: Result) => r.checks.find((c) => c.name === 'probe')?.detail;
const runtime = async () =>
  (await (await mf.dispatchFetch('http://validate/runtime')).json()) as {
    platform: string;
    backend: string;
    flags: Record<string, boolean>;
    numTensors: number;
  };
const numTensors = async () => (await runtime()).numTensors;

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

/** validate.test.ts runs these through workerd; the ids are in test/fixtures/real-models.ts. */
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
