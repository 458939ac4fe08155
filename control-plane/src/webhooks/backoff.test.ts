import { expect, it } from 'vitest';
import { backoffSeconds } from './backoff.ts';

it('backs off exponentially with jitter in [½, 1] of the cap, at most an hour', () => {
  expect([1, 2, 3, 4].map((n) => backoffSeconds(n, 30, 1))).toEqual([30, 60, 120, 240]);
  expect([1, 2, 3, 4].map((n) => backoffSeconds(n, 30, 0))).toEqual([15, 30, 60, 120]);
  expect(backoffSeconds(20, 30, 1)).toBe(3600);
  expect(backoffSeconds(3, 0, 1)).toBe(0); // tests run with a zero base
});
