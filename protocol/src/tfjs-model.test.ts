import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  TfjsModelError,
  TfjsModelJson,
  modelJsonWithoutWeights,
  planChunks,
  tensorByteLength,
  weightSpecsOf,
  type WeightSpec,
} from './index.ts';

const w = (
  name: string,
  shape: number[],
  dtype = 'float32',
  quantization?: WeightSpec['quantization'],
): WeightSpec => ({ name, shape, dtype, ...(quantization ? { quantization } : {}) });
const MiB = 2 ** 20;

/** What SPEC 5.1 forbids, as sentences: [] when the plan is aligned. */
function alignmentViolations(
  plan: ReturnType<typeof planChunks>,
  o: { packBytes: number; maxChunkBytes: number },
): string[] {
  const out: string[] = [];
  const pack = Math.min(o.packBytes, o.maxChunkBytes);
  let at = 0;
  for (const [i, c] of plan.chunks.entries()) {
    if (c.offset !== at || c.size <= 0 || c.size > o.maxChunkBytes)
      out.push(`chunk ${i} at ${c.offset}+${c.size} does not tile the buffer within the limit`);
    at = c.offset + c.size;
    const members = plan.tensors.filter((t) => t.chunks.includes(i));
    if (members.length > 1) {
      const small = members.every((t) => t.size < pack && t.chunks.length === 1);
      const whole = c.size === members.reduce((n, t) => n + t.size, 0) && c.size <= pack;
      if (!small || !whole) out.push(`chunk ${i} packs ${members.map((t) => t.name).join(', ')}`);
    } else if (members.length === 1) {
      const t = members[0]!;
      if (c.offset < t.offset || c.offset + c.size > t.offset + t.size) out.push(`chunk ${i} straddles ${t.name}`);
    } else out.push(`chunk ${i} belongs to no tensor`);
  }
  if (at !== plan.totalBytes) out.push(`chunks end at ${at}, not ${plan.totalBytes}`);
  for (const t of plan.tensors) {
    const covered = t.chunks.map((i) => plan.chunks[i]!);
    if (
      t.size === 0
        ? covered.length > 0
        : covered[0]!.offset > t.offset || covered.at(-1)!.offset + covered.at(-1)!.size < t.offset + t.size
    )
      out.push(`${t.name} is not covered by its chunks`);
  }
  return out;
}

describe('planChunks (SPEC 5.1)', () => {
  it('sizes every dtype, and quantized weights by their stored dtype', () => {
    expect(tensorByteLength(w('a', [2, 3]))).toBe(24);
    expect(tensorByteLength(w('a', [5], 'bool'))).toBe(5);
    expect(tensorByteLength(w('a', [5], 'int32'))).toBe(20);
    expect(tensorByteLength(w('a', [10], 'float32', { dtype: 'uint8', scale: 1, min: 0 }))).toBe(10);
    expect(tensorByteLength(w('a', [10], 'float32', { dtype: 'float16' }))).toBe(20);
    expect(tensorByteLength(w('a', [10], 'int32', { dtype: 'uint16', scale: 1, min: 0 }))).toBe(20);
    expect(tensorByteLength(w('scalar', []))).toBe(4);
    expect(tensorByteLength(w('empty', [0, 3]))).toBe(0);
  });

  it('refuses string and other dtypes, naming the weight', () => {
    expect(() => tensorByteLength(w('vocab/table', [3], 'string'))).toThrow(
      expect.objectContaining({
        name: 'TfjsModelError',
        code: 'unsupported_dtype',
        message: expect.stringMatching(/^weight vocab\/table has dtype string \(string tensors have no fixed size\)/),
      }),
    );
    for (const dtype of ['complex64', 'uint8', 'float64'])
      expect(() => tensorByteLength(w('x', [1], dtype))).toThrow(TfjsModelError);
    expect(() => tensorByteLength(w('huge', [2 ** 30, 2 ** 30, 2 ** 30]))).toThrow(
      expect.objectContaining({ code: 'malformed_model_json' }),
    );
  });

  it('packs small tensors in order whatever their layer, gives large ones their own chunks, splits at the limit', () => {
    const plan = planChunks([
      w('l1/kernel', [4, 8]),
      w('l1/bias', [8]),
      w('l2/kernel', [(10 * MiB) / 4]),
      w('l3/kernel', [8, 1]),
      w('l4/bias', [1]),
    ]);
    expect(plan.totalBytes).toBe(128 + 32 + 10 * MiB + 32 + 4);
    expect(plan.chunks.map((c) => c.size)).toEqual([160, 4 * MiB, 4 * MiB, 2 * MiB, 36]);
    expect(plan.tensors.map((t) => t.chunks)).toEqual([[0], [0], [1, 2, 3], [4], [4]]);
    // chunks tile the buffer exactly, in order
    plan.chunks.reduce((at, c) => (expect(c.offset).toBe(at), at + c.size), 0);
  });

  it('packs a converted graph model whose neighbours share no layer name into few chunks', () => {
    // Like tfjs-converter output: constants and weights of different ops interleaved, many tiny.
    const specs = Array.from({ length: 180 }, (_, i) =>
      w(`StatefulPartitionedCall/op_${i}/ReadVariableOp`, i % 5 === 0 ? [1] : [16, 16]),
    );
    const plan = planChunks(specs);
    expect(plan.chunks).toHaveLength(1);
    expect(plan.chunks[0]!.size).toBe(plan.totalBytes);
  });

  it('starts a new chunk when the next small tensor would overflow the target', () => {
    const plan = planChunks([w('a', [100]), w('b', [100]), w('c', [100])], { packBytes: 800 });
    expect(plan.chunks.map((c) => c.size)).toEqual([800, 400]);
    expect(plan.tensors.map((t) => t.chunks)).toEqual([[0], [0], [1]]);
  });

  it('keeps every chunk before the one a reshaped last layer joins', () => {
    const specs = Array.from({ length: 40 }, (_, i) => w(`t${i}`, [1000 + 37 * i]));
    const before = planChunks(specs, { packBytes: 16 * 1024 });
    const reshaped = planChunks([...specs.slice(0, -2), w('t38', [10]), w('t39', [99_999])], { packBytes: 16 * 1024 });
    // The reshaped tensor may join the chunk its predecessor is in; every chunk before that one stays.
    const first = reshaped.tensors[38]!.chunks[0]!;
    expect(first).toBeGreaterThan(10);
    expect(reshaped.chunks.slice(0, first)).toEqual(before.chunks.slice(0, first));
  });

  it('is deterministic and honours custom limits', () => {
    const specs = [w('x/k', [100]), w('x/b', [100]), w('y/k', [1000])];
    expect(planChunks(specs, { packBytes: 512, maxChunkBytes: 1024 })).toEqual(
      planChunks(structuredClone(specs), { packBytes: 512, maxChunkBytes: 1024 }),
    );
    expect(planChunks(specs, { packBytes: 512, maxChunkBytes: 1024 }).chunks.map((c) => c.size)).toEqual([
      400, 400, 1024, 1024, 1024, 928,
    ]);
  });

  it('gives zero-size tensors no chunk', () => {
    const plan = planChunks([w('a/k', [0, 4]), w('a/b', [2])]);
    expect(plan.tensors[0]).toMatchObject({ size: 0, chunks: [] });
    expect(plan.chunks).toHaveLength(1);
  });

  it('keeps every chunk within one tensor, or whole small tensors packed within the target (property)', () => {
    const spec = fc.record({
      layer: fc.constantFrom('a', 'b', 'c'),
      shape: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 0, maxLength: 3 }),
      dtype: fc.constantFrom('float32', 'int32', 'bool'),
    });
    const opts = fc.record({
      packBytes: fc.integer({ min: 1, max: 2000 }),
      maxChunkBytes: fc.integer({ min: 64, max: 3000 }),
    });
    fc.assert(
      fc.property(fc.array(spec, { maxLength: 12 }), opts, (raw, o) => {
        const plan = planChunks(
          raw.map((r, i) => w(`${r.layer}/w${i}`, r.shape, r.dtype)),
          o,
        );
        expect(alignmentViolations(plan, o)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a weight listed twice', () => {
    const mj = { modelTopology: {}, weightsManifest: [{ paths: ['a.bin'], weights: [w('a', [1]), w('a', [1])] }] };
    expect(() => weightSpecsOf(mj)).toThrow(expect.objectContaining({ code: 'malformed_model_json' }));
  });
});

describe('TfjsModelJson', () => {
  const layers = {
    format: 'layers-model',
    generatedBy: 'keras v2.15',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: { class_name: 'Sequential', config: { layers: [] }, keras_version: '2.15' },
    weightsManifest: [
      { paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: [w('d/kernel', [4, 8]), w('d/bias', [8])] },
      { paths: ['group2.bin'], weights: [w('e/kernel', [8, 1])] },
    ],
    trainingConfig: { loss: 'mse' },
  };
  const graph = {
    format: 'graph-model',
    modelTopology: { node: [], versions: { producer: 1 } },
    signature: { inputs: {}, outputs: {} },
    userDefinedMetadata: { labels: ['a'] },
    modelInitializer: { node: [] },
    weightsManifest: [
      {
        paths: ['g.bin'],
        weights: [
          {
            name: 'c',
            shape: [2],
            dtype: 'float32',
            quantization: { dtype: 'uint8', scale: 0.1, min: -1, original_dtype: 'float32' },
          },
        ],
      },
    ],
  };

  it('reads layers and graph model.json, keeping fields it does not know', () => {
    expect(TfjsModelJson.parse(layers)).toEqual(layers);
    expect(TfjsModelJson.parse(graph)).toEqual(graph);
  });

  it('lists weights in buffer order across groups, and strips only the manifest for embedding', () => {
    expect(weightSpecsOf(TfjsModelJson.parse(layers)).map((s) => s.name)).toEqual(['d/kernel', 'd/bias', 'e/kernel']);
    const { weightsManifest: _, ...rest } = layers;
    expect(modelJsonWithoutWeights(TfjsModelJson.parse(layers))).toEqual(rest);
  });

  it.each([
    ['no weightsManifest', { modelTopology: {} }],
    ['no modelTopology', { weightsManifest: layers.weightsManifest }],
    ['a negative dimension', { ...layers, weightsManifest: [{ paths: ['a.bin'], weights: [w('a', [-1, 4])] }] }],
    ['a fractional dimension', { ...layers, weightsManifest: [{ paths: ['a.bin'], weights: [w('a', [1.5])] }] }],
    ['a group without paths', { ...layers, weightsManifest: [{ paths: [], weights: [] }] }],
    [
      'an unknown quantization dtype',
      {
        ...layers,
        weightsManifest: [{ paths: ['a.bin'], weights: [w('a', [1], 'float32', { dtype: 'int4' as 'uint8' })] }],
      },
    ],
  ])('refuses %s', (_, json) => {
    expect(TfjsModelJson.safeParse(json).success).toBe(false);
  });
});
