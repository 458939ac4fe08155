import { describe, expect, it } from 'vitest';
import { TfjsModelError, planChunks, tensorByteLength, weightSpecsOf, type WeightSpec } from './index.ts';

const w = (name: string, shape: number[], dtype = 'float32', quantization?: WeightSpec['quantization']): WeightSpec => ({ name, shape, dtype, ...(quantization ? { quantization } : {}) });
const MiB = 2 ** 20;

describe('planChunks (SPEC 5.1)', () => {
  it('sizes every dtype, and quantized weights by their stored dtype', () => {
    expect(tensorByteLength(w('a', [2, 3]))).toBe(24);
    expect(tensorByteLength(w('a', [5], 'bool'))).toBe(5);
    expect(tensorByteLength(w('a', [5], 'int32'))).toBe(20);
    expect(tensorByteLength(w('a', [10], 'float32', { dtype: 'uint8', scale: 1, min: 0 }))).toBe(10);
    expect(tensorByteLength(w('a', [10], 'float32', { dtype: 'float16' }))).toBe(20);
    expect(() => tensorByteLength(w('s', [1], 'string'))).toThrow(TfjsModelError);
  });

  it('packs small tensors of one layer, gives large ones their own chunks, splits at the limit', () => {
    const plan = planChunks([w('l1/kernel', [4, 8]), w('l1/bias', [8]), w('l2/kernel', [10 * MiB / 4]), w('l3/kernel', [8, 1]), w('l3/bias', [1])]);
    expect(plan.totalBytes).toBe(128 + 32 + 10 * MiB + 32 + 4);
    expect(plan.chunks.map((c) => c.size)).toEqual([160, 4 * MiB, 4 * MiB, 2 * MiB, 36]);
    expect(plan.tensors.map((t) => t.chunks)).toEqual([[0], [0], [1, 2, 3], [4], [4]]);
    // chunks tile the buffer exactly, in order
    plan.chunks.reduce((at, c) => (expect(c.offset).toBe(at), at + c.size), 0);
  });

  it('never packs two layers together, so a retrain of one layer re-sends only its chunks', () => {
    const plan = planChunks([w('a/kernel', [4]), w('b/kernel', [4])]);
    expect(plan.chunks).toHaveLength(2);
  });

  it('is deterministic and honours custom limits', () => {
    const specs = [w('x/k', [100]), w('x/b', [100]), w('y/k', [1000])];
    expect(planChunks(specs, { packBytes: 512, maxChunkBytes: 1024 })).toEqual(planChunks(structuredClone(specs), { packBytes: 512, maxChunkBytes: 1024 }));
    expect(planChunks(specs, { packBytes: 512, maxChunkBytes: 1024 }).chunks.map((c) => c.size)).toEqual([400, 400, 1024, 1024, 1024, 928]);
  });

  it('gives zero-size tensors no chunk', () => {
    const plan = planChunks([w('a/k', [0, 4]), w('a/b', [2])]);
    expect(plan.tensors[0]).toMatchObject({ size: 0, chunks: [] });
    expect(plan.chunks).toHaveLength(1);
  });

  it('refuses a weight listed twice', () => {
    const mj = { modelTopology: {}, weightsManifest: [{ paths: ['a.bin'], weights: [w('a', [1]), w('a', [1])] }] };
    expect(() => weightSpecsOf(mj)).toThrow(expect.objectContaining({ code: 'malformed_model_json' }));
  });
});
