import { expect, it } from 'vitest';
import { LOG_LOSS_EPSILON, classifierMetrics } from './metrics.ts';

it('scores softmax rows: top class against the label, mean −ln p(label)', () => {
  const m = classifierMetrics(new Float32Array([0.2, 0.8, 0.9, 0.1, 0.5, 0.5]), 2, [1, 1, 0]);
  expect(m).toMatchObject({ rows: 3, correct: 2, classes: 2 }); // the tie goes to class 0
  expect(m.accuracy).toBeCloseTo(2 / 3, 12);
  expect(m.logLoss).toBeCloseTo((-Math.log(0.8) - Math.log(0.1) - Math.log(0.5)) / 3, 6);
});

it('reads one output as P(class 1) and clips log loss at 1e-7', () => {
  const m = classifierMetrics([0.9, 0.2, 1], 1, [1, 1, 0]);
  expect([m.correct, m.classes]).toEqual([1, 2]);
  expect(m.logLoss).toBeCloseTo((-Math.log(0.9) - Math.log(0.2) - Math.log(LOG_LOSS_EPSILON)) / 3, 9);
});

it('gives no log loss for scores that are not probabilities, but still an accuracy', () => {
  expect(classifierMetrics([3, -1, 0.1, 2], 2, [0, 1])).toMatchObject({ accuracy: 1, logLoss: null });
  expect(classifierMetrics([0.6, 0.6], 2, [0])).toMatchObject({ accuracy: 1, logLoss: null }); // sums to 1.2
  expect(classifierMetrics([NaN, 0.5, 0.5, NaN], 2, [1, 0])).toMatchObject({ correct: 2, logLoss: null });
});
