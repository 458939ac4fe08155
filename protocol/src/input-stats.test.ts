// Declared input statistics (input-stats.ts): known images give known values; the baseline's
// @-name rule admits exactly the declared statistics; they are monitored as numeric features
// apart from tabular columns.
import { describe, expect, it } from 'vitest';
import { Baseline } from './baseline.ts';
import { ProtocolError, parseOrThrow } from './errors.ts';
import {
  IMAGE_STATS,
  batchTensorStats,
  declaredInputStats,
  imageStats,
  inputStatName,
  parseInputStat,
  tensorStats,
} from './input-stats.ts';
import { monitoredFeatures, sketchLayout } from './sketch.ts';

const rgba = (...pixels: [number, number, number][]) => new Uint8Array(pixels.flatMap(([r, g, b]) => [r, g, b, 255]));

describe('imageStats', () => {
  it('black and white: every mean and std is 127.5, luma too', () => {
    expect(imageStats(rgba([0, 0, 0], [255, 255, 255]), 2, 1)).toEqual({
      mean_r: 127.5,
      mean_g: 127.5,
      mean_b: 127.5,
      std_r: 127.5,
      std_g: 127.5,
      std_b: 127.5,
      brightness: 127.5,
      contrast: 127.5,
      width: 2,
      height: 1,
    });
  });

  it('pure red: Rec. 601 luma 0.299 × 255, no contrast; alpha is ignored', () => {
    const red = rgba(...Array.from({ length: 6 }, () => [255, 0, 0] as [number, number, number]));
    red[3] = 0; // a transparent pixel counts like any other
    const s = imageStats(red, 3, 2);
    expect(s).toMatchObject({ mean_r: 255, mean_g: 0, mean_b: 0, std_r: 0, contrast: 0, width: 3, height: 2 });
    expect(s.brightness).toBe(76.245); // (299 × 255) / 1000, one rounding
  });

  it('a 2×2 of known values: population std, luma of each pixel', () => {
    const s = imageStats(rgba([10, 20, 30], [30, 20, 10], [50, 60, 70], [70, 60, 50]), 2, 2);
    expect(s.mean_r).toBe(40);
    expect(s.mean_g).toBe(40);
    expect(s.std_g).toBe(20);
    expect(s.std_r).toBeCloseTo(Math.sqrt(500), 12); // deviations −30, −10, 10, 30
    const lumas = [
      [10, 20, 30],
      [30, 20, 10],
      [50, 60, 70],
      [70, 60, 50],
    ].map(([r, g, b]) => 0.299 * r! + 0.587 * g! + 0.114 * b!);
    const mean = lumas.reduce((a, b) => a + b) / 4;
    expect(s.brightness).toBeCloseTo(mean, 12);
    expect(s.contrast).toBeCloseTo(Math.sqrt(lumas.reduce((a, y) => a + (y - mean) ** 2, 0) / 4), 12);
  });

  it('RGB bytes give exactly what RGBA bytes give; any array type of the same bytes too', () => {
    const four = new Uint8Array(64 * 48 * 4).map((_, i) => (i * 7919) % 256);
    const three = new Uint8Array(64 * 48 * 3);
    for (let p = 0; p < 64 * 48; p++) three.set(four.subarray(p * 4, p * 4 + 3), p * 3);
    const s = imageStats(four, 64, 48, 4);
    expect(imageStats(three, 64, 48, 3)).toEqual(s);
    expect(imageStats(new Uint8ClampedArray(four), 64, 48)).toEqual(s);
    expect(imageStats(Array.from(four), 64, 48)).toEqual(s);
  });

  it('refuses a size that does not match the bytes', () => {
    expect(() => imageStats(new Uint8Array(12), 2, 2)).toThrow(/needs 16 bytes/);
    expect(() => imageStats(new Uint8Array(0), 0, 0)).toThrow(RangeError);
  });
});

describe('tensorStats', () => {
  it('mean and population std per example, the batch dimension split off', () => {
    expect(tensorStats([1, 2, 3, 4])).toEqual({ mean: 2.5, std: Math.sqrt(1.25) });
    const batch = batchTensorStats(new Float32Array([1, 1, 1, 0, 2, 4]), [2, 3]);
    expect(batch).toEqual([
      { mean: 1, std: 0 },
      { mean: 2, std: Math.sqrt(8 / 3) },
    ]);
    expect(batchTensorStats([5, 7], [2])).toEqual([{ mean: 6, std: 1 }]); // rank 1: one example
    expect(tensorStats([1, NaN]).mean).toBeNaN(); // a non-finite value: the example's statistic is missing
  });
});

describe('names', () => {
  it('@input.<input>.<stat>, the statistic after the last dot', () => {
    expect(parseInputStat('@input.image.brightness')).toEqual({ input: 'image', stat: 'brightness' });
    expect(parseInputStat('@input.serving_default.x:0.mean')).toEqual({ input: 'serving_default.x:0', stat: 'mean' });
    for (const bad of ['@input.image.hue', '@input.brightness', '@input..mean', 'image.brightness', '@output.class'])
      expect(parseInputStat(bad), bad).toBeNull();
    expect(inputStatName('image', 'std_g')).toBe('@input.image.std_g');
  });

  it('a baseline admits declared statistics only, numeric only, with a coded message otherwise', () => {
    const numeric = (name: string) => ({ name, kind: 'numeric', edges: [0, 1, 2] });
    expect(
      parseOrThrow(
        Baseline,
        { features: [numeric('@input.image.brightness'), numeric('@input.x.mean'), numeric('age')] },
        'b',
      ).features,
    ).toHaveLength(3);
    const refused = (features: unknown[]) => {
      try {
        parseOrThrow(Baseline, { features }, 'b');
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
        return (e as ProtocolError).message;
      }
      throw new Error('accepted');
    };
    expect(refused([numeric('@input.image.hue')])).toMatch(
      /reserved_feature_name: feature @input\.image\.hue: names starting with @ are reserved/,
    );
    expect(refused([numeric('@output.class')])).toMatch(/reserved_feature_name: feature @output\.class/);
    expect(refused([{ name: '@input.image.width', kind: 'categorical', vocabulary: ['224'] }])).toMatch(
      /reserved_feature_name: feature @input\.image\.width is an input statistic and must be numeric/,
    );
  });
});

it('declared statistics are monitored apart from tabular columns, and enter the layout digest like any numeric feature', async () => {
  const edges = [0, 100, 200];
  const baseline = parseOrThrow(
    Baseline,
    {
      features: [
        { name: 'f0', kind: 'numeric', edges },
        { name: '@input.image.brightness', kind: 'numeric', edges },
      ],
    },
    'b',
  );
  expect(monitoredFeatures(baseline).map((f) => f.source)).toEqual(['input', 'input-stat']);
  expect(declaredInputStats(baseline.features)).toEqual(new Map([['image', ['brightness']]]));
  const layout = await sketchLayout(baseline);
  expect(layout.features[1]).toMatchObject({ name: '@input.image.brightness', kind: 'numeric', bins: 5 });
  expect(IMAGE_STATS).toHaveLength(10);
});
