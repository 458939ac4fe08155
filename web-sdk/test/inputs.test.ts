// predict's inputs on the page side: every accepted form becomes the right tensor, every bad one a
// coded SdkError before anything is moved or run — and a model refusing bad inputs keeps serving.
import type { IoSchema } from '@modelfleet/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayersModel, type ModelArtifacts } from '../../test/fixtures/models.ts';
import type { TestWorker } from '../../test/harness/worker.ts';
import { prepareInputs } from '../src/inputs.ts';
import { toArray, toArrays, type WireTensor } from '../src/tensors.ts';
import { controlPlane, publishAs, referencePredict, sdkClient } from './helpers.ts';

const image: IoSchema = {
  inputs: [{ name: 'input', dtype: 'int32', shape: [1, 4, 4, 3] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2] }],
};
const tabular: IoSchema = {
  inputs: [{ name: 'x', dtype: 'float32', shape: [null, 3] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [null, 1] }],
};
const named: IoSchema = {
  inputs: [
    { name: 'tokens', dtype: 'int32', shape: [null, 5] },
    { name: 'mask', dtype: 'bool', shape: [null, 5] },
    { name: 'scale', dtype: 'float32', shape: [null, 1] },
  ],
  outputs: [{ name: 'y', dtype: 'float32', shape: [null, 2] }],
};

const one = async (io: IoSchema, input: unknown, options = {}) => {
  const { wire, transfer } = await prepareInputs(io, input as never, options);
  return { tensor: wire[0] as WireTensor, wire: wire as WireTensor[], transfer };
};

describe('accepted inputs', () => {
  it('nested arrays of any rank, in the signature dtype; a missing batch dimension becomes 1', async () => {
    const img = Array.from({ length: 4 }, (_, y) => Array.from({ length: 4 }, (_, x) => [x, y, x + y]));
    const { tensor } = await one(image, img);
    expect(tensor).toMatchObject({ name: 'input', dtype: 'int32', shape: [1, 4, 4, 3] });
    expect(tensor.data).toBeInstanceOf(Int32Array);
    expect(toArray(tensor)).toEqual([img]);
    expect((await one(tabular, [1, 2, 3])).tensor.shape).toEqual([1, 3]);
    expect(
      (
        await one(tabular, [
          [1, 2, 3],
          [4, 5, 6],
        ])
      ).tensor.shape,
    ).toEqual([2, 3]);
  });

  it('rows given as typed arrays', async () => {
    const { tensor } = await one(tabular, [new Float32Array([1, 2, 3]), new Float32Array([4, 5, 6])]);
    expect(tensor.shape).toEqual([2, 3]);
    expect([...tensor.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('{ data, shape }: moved as is when the array is the dtype’s own (zero-copy), converted otherwise', async () => {
    const data = new Int32Array(48).map((_, i) => i);
    const moved = await one(image, { data, shape: [1, 4, 4, 3] });
    expect(moved.tensor.data).toBe(data); // the same array: its buffer is listed for transfer
    expect(moved.transfer).toEqual([data.buffer]);
    const pixels = new Uint8Array(48).fill(7);
    const widened = await one(image, { data: pixels, shape: [4, 4, 3] });
    expect(widened.tensor.data).toBeInstanceOf(Int32Array);
    expect(widened.tensor.shape).toEqual([1, 4, 4, 3]);
    expect(widened.transfer).not.toContain(pixels.buffer); // the caller's pixels stay usable
    const copy = await one(image, { data, shape: [1, 4, 4, 3] }, { transfer: false });
    expect(copy.tensor.data).not.toBe(data);
    expect([...copy.tensor.data]).toEqual([...data]);
  });

  it('a view into a larger buffer is copied, never moving the rest of the buffer', async () => {
    const big = new Float32Array(10);
    const view = big.subarray(2, 5);
    const { tensor, transfer } = await one(tabular, { data: view, shape: [1, 3] });
    expect(transfer).not.toContain(big.buffer);
    expect(tensor.data.buffer).not.toBe(big.buffer);
  });

  it('several inputs by name, each in its own dtype (bool from booleans)', async () => {
    const { wire } = await one(named, {
      tokens: [[1, 2, 3, 0, 0]],
      mask: [[true, true, true, false, false]],
      scale: { data: new Float32Array([0.5]), shape: [1, 1] },
    });
    expect(wire.map((w) => [w.name, w.dtype, w.data.constructor.name, w.shape])).toEqual([
      ['tokens', 'int32', 'Int32Array', [1, 5]],
      ['mask', 'bool', 'Uint8Array', [1, 5]],
      ['scale', 'float32', 'Float32Array', [1, 1]],
    ]);
    expect([...wire[1]!.data]).toEqual([1, 1, 1, 0, 0]);
  });
});

describe('refused inputs, each with a code and a sentence naming the input', () => {
  const cases: [string, IoSchema, () => unknown, string, RegExp][] = [
    ['wrong rank', image, () => [[1, 2, 3]], 'input_shape', /input input takes rank 4 \[1,4,4,3\]; got rank 2 \[1,3\]/],
    [
      'a fixed dimension differs',
      image,
      () => ({ data: new Int32Array(60), shape: [1, 5, 4, 3] }),
      'input_shape',
      /dimension 1 is 5, the model takes 4/,
    ],
    [
      'data length vs shape',
      image,
      () => ({ data: new Int32Array(47), shape: [1, 4, 4, 3] }),
      'input_shape',
      /needs 48 values, data has 47/,
    ],
    [
      'ragged rows',
      tabular,
      () => [
        [1, 2, 3],
        [4, 5],
      ],
      'input_shape',
      /ragged: \[1\] has 2 entries where 3 were expected/,
    ],
    [
      'float data for an int32 input',
      image,
      () => ({ data: new Float32Array(48), shape: [1, 4, 4, 3] }),
      'input_dtype',
      /input input is int32; got a Float32Array — pass a Int32Array/,
    ],
    [
      'NaN in an int32 input',
      image,
      () => [[[[1, 2, Number.NaN], ...Array(3).fill([0, 0, 0])], ...Array(3).fill(Array(4).fill([0, 0, 0]))]],
      'input_value',
      /input input is int32 but input\[0\]\[0\]\[0\]\[2\] is NaN/,
    ],
    [
      'a fraction in an int32 input',
      named,
      () => ({ tokens: [[1, 2.5, 3, 0, 0]], mask: [[1, 1, 1, 0, 0]], scale: [[1]] }),
      'input_value',
      /tokens is int32 but tokens\[0\]\[1\] is 2.5/,
    ],
    ['a string value', tabular, () => [[1, '2', 3]], 'input_value', /x\[0\]\[1\] is string, expected a number/],
    [
      'a missing named input',
      named,
      () => ({ tokens: [[1, 2, 3, 0, 0]], scale: [[1]] }),
      'input_missing',
      /input mask is missing; the model takes tokens, mask, scale/,
    ],
    [
      'a bare value for a three-input model',
      named,
      () => [[1, 2, 3, 0, 0]],
      'input_missing',
      /takes 3 inputs \(tokens, mask, scale\); pass them by name/,
    ],
    [
      'an input the model lacks',
      tabular,
      () => ({ x: [[1, 2, 3]], extra: [[1]] }),
      'input_unknown',
      /no input extra; its inputs are x/,
    ],
    ['not an input at all', tabular, () => 42, 'bad_input', /got number/],
  ];
  it.each(cases)('%s', async (_, io, input, code, message) => {
    const error = await prepareInputs(io, input() as never).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'SdkError', code });
    expect((error as Error).message).toMatch(message);
  });

  it('a buffer already moved to the worker (detached) → input_detached, saying how to keep it', async () => {
    const data = new Float32Array([1, 2, 3]);
    structuredClone(data.buffer, { transfer: [data.buffer] }); // what a previous predict's transfer does
    const error = await prepareInputs(tabular, { data, shape: [1, 3] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'input_detached' });
    expect((error as Error).message).toContain('{ transfer: false }');
  });

  it('a bad second input leaves the first one’s buffer where it was', async () => {
    const tokens = new Int32Array([1, 2, 3, 0, 0]);
    await expect(
      prepareInputs(named, { tokens: { data: tokens, shape: [1, 5] }, mask: [[1, 1]], scale: [[1]] } as never),
    ).rejects.toMatchObject({ code: 'input_shape' });
    expect(tokens.byteLength).toBe(20);
  });

  it('image sources outside a browser say what to pass instead', async () => {
    // Node has no ImageData/createImageBitmap: an object is taken for inputs by name and refused as such.
    await expect(prepareInputs(image, { input: 'a picture' } as never)).rejects.toMatchObject({ code: 'bad_input' });
  });
});

describe('through the SDK (Node, inline engine)', () => {
  let worker: TestWorker & { appKey: string };
  let model: ModelArtifacts;
  beforeAll(async () => {
    worker = await controlPlane();
    model = await buildLayersModel({ seed: 81, inputs: 6, hidden: 8, outputs: 3 });
    await publishAs(worker, 'shapes', model);
  }, 120_000);
  afterAll(() => worker?.dispose());

  it('refuses bad inputs before inference and keeps serving', async () => {
    const { client } = await sdkClient(worker);
    const m = await client.load('shapes');
    const rows = [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]];
    const expected = await referencePredict(model, rows);
    const bad: unknown[] = [
      [[1, 2, 3]],
      { data: new Float32Array(5), shape: [1, 6] },
      { data: new Float64Array(6), shape: [1, 6] },
      { hidden_input: rows, nope: rows },
      [[[rows]]],
    ];
    for (const input of bad) {
      await expect(m.predict(input as never)).rejects.toMatchObject({
        name: 'SdkError',
        code: expect.stringMatching(/^input_/),
      });
      expect(toArrays(await m.predict(rows)).out).toEqual(expected); // still serving, same answers
    }
    const out = await m.predict({ data: Float32Array.from(rows[0]!), shape: [6] });
    expect(out.out).toMatchObject({ dtype: 'float32', shape: [1, 3] });
    expect(toArray(out.out!)).toEqual(expected);
    await client.close();
  });
});
