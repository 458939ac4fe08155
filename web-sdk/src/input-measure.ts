/**
 * @module input-measure
 * Worker side of declared input statistics (protocol input-stats.ts): each example of a measured
 * input is summarised — an image by its source pixels, a tensor by its values — into
 * `@input.<input>.<stat>` numbers, which go back to the page with the outputs for the drift
 * sketch. The pixels and values themselves never leave the worker. Only protocol's input-stats
 * module comes into the worker bundle: it imports nothing (no schemas, no zod).
 */
import { batchTensorStats, imageStats, inputStatName } from '@modelfleet/protocol';
import type { InputStat } from '@modelfleet/protocol';
import type { WireTensor } from './tensors.ts';

/** Per example (batch index), feature name → value. */
export type InputStats = Record<string, number>[];

function record(into: InputStats, example: number, input: string, stats: Partial<Record<InputStat, number>>): void {
  const r = (into[example] ??= {});
  for (const [stat, v] of Object.entries(stats)) r[inputStatName(input, stat as InputStat)] = v;
}

/** The callback imagePixels calls with each image's source RGBA bytes. */
export const measureImage =
  (into: InputStats, input: string) =>
  (image: number, rgba: Uint8ClampedArray, width: number, height: number): void =>
    record(into, image, input, imageStats(rgba, width, height, 4));

export function measureTensor(into: InputStats, w: WireTensor): void {
  batchTensorStats(w.data, w.shape).forEach((s, i) => record(into, i, w.name, s));
}
