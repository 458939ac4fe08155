import { expect, it } from 'vitest';
import { fitOf } from './fit.ts';

const io = (input: (number | null)[], output: (number | null)[]) => ({
  inputs: [{ name: 'x', dtype: 'float32' as const, shape: input }],
  outputs: [{ name: 'y', dtype: 'float32' as const, shape: output }],
});

it('takes rows shaped like the input past its batch, and labels within the classes', () => {
  expect(fitOf(io([null, 4], [null, 3]), [4], [0, 2])).toEqual({ ok: true, classes: 3, batch: null });
  expect(fitOf(io([null, 4], [null, 1]), [4], [1])).toEqual({ ok: true, classes: 2, batch: null }); // one sigmoid: classes 0 and 1
  expect(fitOf(io([1, null, null, 3], [1, 5]), [8, 8, 3], [4])).toEqual({ ok: true, classes: 5, batch: 1 }); // a fixed batch of 1 runs row by row
  expect(fitOf(io([null, 4], [null, null]), [4], [7])).toEqual({ ok: true, classes: null, batch: null }); // width known only after a run
});

it('says why it cannot score', () => {
  const no = (fit: ReturnType<typeof fitOf>) => (fit.ok ? '' : fit.message);
  expect(no(fitOf(io([null, 4], [null, 3]), [5]))).toMatch(/shape \[5\].*takes \[\?,4\]/);
  expect(no(fitOf(io([8, 4], [8, 3]), [4]))).toMatch(/fixes its batch at 8/);
  expect(no(fitOf(io([null, 4], [null, 3]), [4], [0, 3]))).toMatch(/labels\[1\] is 3.*classes 0 … 2/);
  expect(no(fitOf(io([null, 4], [null, 7, 7, 3]), [4]))).toMatch(
    /classifiers whose first output is \[batch, classes\]/,
  );
  expect(
    no(
      fitOf(
        { inputs: [...io([null, 4], []).inputs, { name: 'z', dtype: 'float32', shape: [null, 1] }], outputs: [] },
        [4],
      ),
    ),
  ).toMatch(/one input; the model has 2/);
});
