/**
 * @module input-stats
 * Declared input statistics: how image and other non-tabular models are monitored. A baseline
 * may hold numeric features named `@input.<inputName>.<stat>`; each is an ordinary numeric
 * feature (bins, PIT), so drift tests, charts and alarms apply unchanged. The device computes
 * the statistics of every example it predicts on, the CLI those of the training images, both
 * with the functions below — one implementation, so the two agree bit for bit on the same
 * pixels (only +, −, ×, ÷ and √ on float64, in a fixed order: IEEE 754 gives the same result
 * in every JavaScript engine).
 *
 * Images: the statistics are of the SOURCE pixels, 0–255, before any resize or normalise option
 * (a model fed 224×224 still sees a 1920×1080 camera drift as width/height): per-channel mean and
 * standard deviation (population, over all pixels), brightness = mean luma and contrast = luma
 * standard deviation (Rec. 601 luma, 0.299 R + 0.587 G + 0.114 B), width and height. Alpha is
 * ignored. Plain tensors (`{ data, shape }`): mean and standard deviation of one example's values
 * (the batch dimension split off), as the model receives them.
 */

export const INPUT_STAT_PREFIX = '@input.';
export const IMAGE_STATS = [
  'mean_r',
  'mean_g',
  'mean_b',
  'std_r',
  'std_g',
  'std_b',
  'brightness',
  'contrast',
  'width',
  'height',
] as const;
export const TENSOR_STATS = ['mean', 'std'] as const;
export type ImageStat = (typeof IMAGE_STATS)[number];
export type TensorStat = (typeof TENSOR_STATS)[number];
export type InputStat = ImageStat | TensorStat;

const KNOWN: ReadonlySet<string> = new Set<string>([...IMAGE_STATS, ...TENSOR_STATS]);

/** The feature name of one statistic of one input: `@input.image.brightness`. */
export const inputStatName = (input: string, stat: InputStat): string => `${INPUT_STAT_PREFIX}${input}.${stat}`;

/**
 * `{ input, stat }` when `name` is a declared input statistic, else null. The statistic is what
 * follows the last dot, so input names may hold dots (TF.js names such as `serving_default_x:0` too).
 */
export function parseInputStat(name: string): { input: string; stat: InputStat } | null {
  if (!name.startsWith(INPUT_STAT_PREFIX)) return null;
  const rest = name.slice(INPUT_STAT_PREFIX.length);
  const dot = rest.lastIndexOf('.');
  if (dot <= 0) return null;
  const stat = rest.slice(dot + 1);
  return KNOWN.has(stat) ? { input: rest.slice(0, dot), stat: stat as InputStat } : null;
}

/**
 * Statistics of one image from its pixel bytes, row-major, `channels` bytes per pixel (4 = RGBA
 * as canvases, pngjs and jpeg-js give them; 3 = RGB). Integer sums (channel values, their
 * squares, luma × 1000 = 299 R + 587 G + 114 B) are exact in float64 up to 2^53; only the final
 * divisions and square roots round, the same way everywhere.
 */
export function imageStats(
  pixels: ArrayLike<number>,
  width: number,
  height: number,
  channels: 3 | 4 = 4,
): Record<ImageStat, number> {
  const n = width * height;
  if (!Number.isInteger(width) || !Number.isInteger(height) || n <= 0)
    throw new RangeError(`image size ${width}×${height} is not a positive whole size`);
  if (pixels.length !== n * channels)
    throw new RangeError(
      `image ${width}×${height} needs ${n * channels} bytes (${channels} per pixel), got ${pixels.length}`,
    );
  let r = 0,
    g = 0,
    b = 0,
    r2 = 0,
    g2 = 0,
    b2 = 0,
    y = 0,
    y2 = 0;
  for (let i = 0, at = 0; i < n; i++, at += channels) {
    const R = pixels[at]!;
    const G = pixels[at + 1]!;
    const B = pixels[at + 2]!;
    r += R;
    g += G;
    b += B;
    r2 += R * R;
    g2 += G * G;
    b2 += B * B;
    const Y = 299 * R + 587 * G + 114 * B; // luma × 1000, an integer
    y += Y;
    y2 += Y * Y;
  }
  const mean = (s: number) => s / n;
  const std = (s: number, s2: number) => Math.sqrt(Math.max(0, s2 / n - (s / n) * (s / n)));
  return {
    mean_r: mean(r),
    mean_g: mean(g),
    mean_b: mean(b),
    std_r: std(r, r2),
    std_g: std(g, g2),
    std_b: std(b, b2),
    brightness: mean(y) / 1000,
    contrast: std(y, y2) / 1000,
    width,
    height,
  };
}

/** Mean and standard deviation (population) of one example's values; NaN when it has a non-finite value. */
export function tensorStats(values: ArrayLike<number>, from = 0, to = values.length): Record<TensorStat, number> {
  const n = to - from;
  if (n <= 0) return { mean: NaN, std: NaN };
  let s = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    const v = values[i]!;
    s += v;
    s2 += v * v;
  }
  const mean = s / n;
  return { mean, std: Math.sqrt(Math.max(0, s2 / n - mean * mean)) };
}

/** Per example of a batched tensor (`shape[0]` examples; rank ≤ 1 is one example). */
export function batchTensorStats(values: ArrayLike<number>, shape: readonly number[]): Record<TensorStat, number>[] {
  if (shape.length <= 1) return [tensorStats(values)];
  const batch = shape[0]!;
  const size = batch === 0 ? 0 : values.length / batch;
  return Array.from({ length: batch }, (_, i) => tensorStats(values, i * size, (i + 1) * size));
}

/** The declared statistics of a baseline, by input: which inputs the device must measure, and what. */
export function declaredInputStats(features: readonly { name: string }[]): Map<string, InputStat[]> {
  const out = new Map<string, InputStat[]>();
  for (const f of features) {
    const p = parseInputStat(f.name);
    if (!p) continue;
    const list = out.get(p.input) ?? [];
    list.push(p.stat);
    out.set(p.input, list);
  }
  return out;
}

/**
 * Why a feature name is refused, or null: names starting with @ are reserved for the monitor's
 * own views (@output.class, @output.confidence) and for declared input statistics, which must be
 * numeric and name a known statistic.
 */
export function reservedNameProblem(f: { name: string; kind: string }): string | null {
  if (!f.name.startsWith('@')) return null;
  const p = parseInputStat(f.name);
  if (!p) {
    return `reserved_feature_name: feature ${f.name}: names starting with @ are reserved; @input.<input>.<stat> declares an input statistic (stats: ${[...IMAGE_STATS, ...TENSOR_STATS].join(', ')})`;
  }
  if (f.kind !== 'numeric') return `reserved_feature_name: feature ${f.name} is an input statistic and must be numeric`;
  return null;
}
