// Property tests of the sketch layer: exact merges, pooled-histogram equality, round trips,
// and refusal of every malformed upload a device could send.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Baseline,
  MIN_SAMPLES,
  SKETCH_SCALE,
  type SketchAggregate,
  type SketchLayout,
  addUpload,
  decodeUpload,
  emptyAggregate,
  encodeUpload,
  mergeSketches,
  numericBin,
  quantizeFractions,
  sketchCategorical,
  sketchLayout,
  sketchNumeric,
  uploadSize,
} from './index.ts';

const edges = [-2, -1.28, -0.84, -0.52, -0.25, 0, 0.25, 0.52, 0.84, 1.28, 2];
const baseline: Baseline = {
  features: [
    { name: 'amount', kind: 'numeric', edges },
    { name: 'hour', kind: 'numeric', edges: edges.map((e) => e * 6 + 12) },
    { name: 'country', kind: 'categorical', vocabulary: ['de', 'fr', 'us'] },
  ],
};
const layout: SketchLayout = await sketchLayout(baseline);

const value = fc.oneof(
  { weight: 20, arbitrary: fc.double({ min: -4, max: 4, noNaN: true }) },
  { weight: 1, arbitrary: fc.constant(null) },
);
const deviceArb = fc.record({
  amount: fc.array(value, { minLength: MIN_SAMPLES, maxLength: 64 }),
  hour: fc.array(fc.double({ min: 0, max: 24, noNaN: true }), { minLength: 0, maxLength: 64 }),
  country: fc.array(fc.constantFrom('de', 'fr', 'us', 'xx', null), { minLength: MIN_SAMPLES, maxLength: 64 }),
});
type Device = typeof deviceArb extends fc.Arbitrary<infer T> ? T : never;

function uploadOf(d: Device) {
  return {
    schemaDigest: layout.schemaDigest,
    window: 20_000,
    features: [
      sketchNumeric(d.amount, edges),
      sketchNumeric(
        d.hour,
        edges.map((e) => e * 6 + 12),
      ),
      sketchCategorical(d.country, ['de', 'fr', 'us']),
    ],
  };
}
function aggregateOf(devices: Device[]): SketchAggregate {
  const agg = emptyAggregate(layout, 20_000);
  for (const d of devices) addUpload(agg, decodeUpload(layout, encodeUpload(layout, uploadOf(d))));
  return agg;
}

describe('sketch merge', () => {
  it('is associative, commutative and bit-exact', () => {
    fc.assert(
      fc.property(
        fc.array(deviceArb, { maxLength: 6 }),
        fc.array(deviceArb, { maxLength: 6 }),
        fc.array(deviceArb, { maxLength: 6 }),
        (a, b, c) => {
          const [A, B, C] = [aggregateOf(a), aggregateOf(b), aggregateOf(c)];
          expect(mergeSketches(mergeSketches(A, B), C)).toEqual(mergeSketches(A, mergeSketches(B, C)));
          expect(mergeSketches(A, B)).toEqual(mergeSketches(B, A));
          expect(mergeSketches(mergeSketches(A, B), C)).toEqual(aggregateOf([...a, ...b, ...c]));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('equals the histogram of the pooled device samples (devices at the 64-value cap)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 64, maxLength: 64 }), {
          minLength: 1,
          maxLength: 20,
        }),
        (devices) => {
          const agg = emptyAggregate(layout, 1);
          for (const values of devices) {
            addUpload(agg, {
              schemaDigest: layout.schemaDigest,
              window: 1,
              features: [sketchNumeric(values, edges), null, null],
            });
          }
          const pooled = new Array(edges.length + 2).fill(0);
          for (const x of devices.flat()) pooled[numericBin(Math.fround(x), edges)]++; // devices bin float32 values
          // Each sample weighs SKETCH_SCALE / 64 units: the device-weighted sum is the pooled count, exactly.
          expect(agg.features[0]!.sumBins).toEqual(pooled.map((c) => (c * SKETCH_SCALE) / 64));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('normalises every present feature to exactly L1 = 1 and skips thin features', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 40 }), (counts) => {
        const q = quantizeFractions(counts);
        expect(q.reduce((a, b) => a + b, 0)).toBe(counts.some((c) => c > 0) ? SKETCH_SCALE : 0);
        counts.forEach((c, i) =>
          expect(
            Math.abs(
              q[i]! -
                (c * SKETCH_SCALE) /
                  Math.max(
                    1,
                    counts.reduce((a, b) => a + b, 0),
                  ),
            ),
          ).toBeLessThan(1),
        );
      }),
    );
    expect(sketchNumeric([1, 2, 3], edges)).toBeNull();
  });
});

describe('sketch upload layout', () => {
  it('round-trips and fits 20 numeric features in under 1 KB', async () => {
    fc.assert(
      fc.property(deviceArb, (d) => {
        const u = uploadOf(d);
        expect(decodeUpload(layout, encodeUpload(layout, u))).toEqual({
          ...u,
          features: u.features.map((f) => f ?? null),
        });
      }),
    );
    const twenty = await sketchLayout({
      features: Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, kind: 'numeric' as const, edges })),
    });
    expect(uploadSize(twenty)).toBe(724);
  });

  it('refuses malformed uploads with coded errors', async () => {
    const good = encodeUpload(
      layout,
      uploadOf({ amount: Array(20).fill(0.1), hour: Array(20).fill(3), country: Array(20).fill('de') }),
    );
    const other = await sketchLayout({ features: [{ name: 'x', kind: 'numeric', edges: [0, 1] }] });
    const cases: [string, Uint8Array, string][] = [];
    cases.push(['garbage', new Uint8Array([1, 2, 3]), 'sketch_malformed']);
    cases.push(['truncated', good.subarray(0, good.length - 2), 'sketch_malformed']);
    const schema = good.slice();
    schema[8] = schema[8]! ^ 1;
    cases.push(['wrong schema digest', schema, 'sketch_schema_mismatch']);
    const l1 = good.slice();
    l1[44] = l1[44]! + 1;
    cases.push(['L1 ≠ 1', l1, 'sketch_not_normalized']);
    const range = good.slice();
    const off = 44 + 2 * 13;
    new DataView(range.buffer).setInt16(off, 20000, true);
    cases.push(['component out of range', range, 'sketch_out_of_range']);
    const empty = encodeUpload(layout, { schemaDigest: layout.schemaDigest, window: 1, features: [null, null, null] });
    cases.push(['no feature present', empty, 'sketch_malformed']);
    for (const [what, bytes, code] of cases) {
      expect(() => decodeUpload(layout, bytes), what).toThrow(expect.objectContaining({ code }));
    }
    expect(() => decodeUpload(other, good)).toThrow(expect.objectContaining({ code: 'sketch_schema_mismatch' }));
  });
});
