// The baseline schema a device checks inside every manifest: a real baseline (the demo fraud
// model's, built by `modelfleet baseline` from its training rows) passes unchanged, and each way a
// PIT table can be wrong is refused — the table is checked in one loop (baseline.ts), so each rule
// of the old per-point schema is asserted here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { Baseline, NumericFeatureBaseline } from './baseline.ts';

const real = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../examples/fraud-model/baseline.json'), 'utf8'),
) as Baseline;
const amount = real.features[0] as NumericFeatureBaseline;
const withPit = (pit: unknown) => ({ ...amount, pit });
const problems = (x: unknown) => {
  const r = NumericFeatureBaseline.safeParse(x);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('baseline schema', () => {
  it('a real baseline parses to itself, atoms (three-point entries) and two-point entries alike', () => {
    expect(Baseline.parse(real)).toEqual(real);
    expect(amount.pit!.length).toBeGreaterThan(100);
    expect(
      problems(
        withPit([
          [0, 0.1],
          [1, 0.2, 0.5],
          [2, 1],
        ]),
      ),
    ).toEqual([]);
  });

  it.each([
    ['an F above 1', [[0, 0.1, 1.2]]],
    ['a negative F', [[0, -0.1]]],
    ['F(x−) above F(x)', [[0, 0.5, 0.4]]],
    ['a NaN x', [[Number.NaN, 0.5]]],
    ['an infinite x', [[Number.POSITIVE_INFINITY, 0.5]]],
    ['a string F', [[0, '0.5']]],
    ['a point of one value', [[0]]],
    ['a point of four values', [[0, 0.1, 0.2, 0.3]]],
    [
      'x not increasing',
      [
        [1, 0.2],
        [1, 0.3],
      ],
    ],
    [
      'F falling from one point to the next',
      [
        [0, 0.2, 0.4],
        [1, 0.3, 0.5],
      ],
    ],
  ])('refuses a PIT table with %s', (_, pit) => {
    const found = problems(withPit(pit));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^pit: pit must be \[x, F\(x−\), F\(x\)\] or \[x, F\(x\)\] points/);
  });

  it('refuses a table that is not an array, an empty one, and one over 2,048 points', () => {
    expect(problems(withPit({ 0: [0, 0.5] }))).toEqual(['pit: pit must be an array of points']);
    expect(problems(withPit([]))).toEqual(['pit: pit needs at least one point']);
    const long = Array.from({ length: 2049 }, (_, i) => [i, i / 2049]);
    expect(problems(withPit(long))).toEqual(['pit: pit has at most 2,048 points']);
  });

  it('the JSON Schema (the OpenAPI document) still shows each point as 2 or 3 numbers', () => {
    const pit = (z.toJSONSchema(NumericFeatureBaseline) as { properties: Record<string, unknown> }).properties.pit;
    expect(pit).toMatchObject({
      type: 'array',
      minItems: 1,
      maxItems: 2048,
      items: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 3 },
    });
  });

  it('a bad table inside a whole baseline names its feature', () => {
    const bad = { ...real, features: [withPit([[0, 2]]), ...real.features.slice(1)] };
    const r = Baseline.safeParse(bad);
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['features', 0, 'pit']);
  });
});
