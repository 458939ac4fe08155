/**
 * @module evaluate/fit
 * Whether an evaluation set can be scored on a model with this io: one input, whose shape past
 * the batch takes the set's rows, and a first output of `[batch, classes]` (or `[batch]`, one
 * sigmoid) with a class for every label. Checked at registration against the champion, and again
 * before each version is run (a version may take a different input).
 */
import type { IoSchema } from '@modelfleet/protocol';
import { classesOf } from './metrics.ts';

/** `batch`: rows per model call (the model's own batch size when it fixes one, which must be 1). */
export type Fit = { ok: true; classes: number | null; batch: number | null } | { ok: false; message: string };

const fmt = (shape: readonly (number | null)[]) => `[${shape.map((d) => d ?? '?').join(',')}]`;

export function fitOf(io: IoSchema, rowShape: readonly number[], labels?: readonly number[]): Fit {
  if (io.inputs.length !== 1)
    return {
      ok: false,
      message: `evaluation sets feed one input; the model has ${io.inputs.length} (${io.inputs.map((i) => i.name).join(', ')})`,
    };
  const input = io.inputs[0]!;
  const [batch, ...rest] = input.shape;
  if (batch !== null && batch !== 1)
    return {
      ok: false,
      message: `input ${input.name} fixes its batch at ${batch}; evaluation runs rows one at a time or in batches of any size`,
    };
  if (rest.length !== rowShape.length || rest.some((d, j) => d !== null && d !== rowShape[j])) {
    return {
      ok: false,
      message: `each row has shape ${fmt(rowShape)}, but input ${input.name} takes ${fmt(input.shape)} (rows without the first, batch, dimension)`,
    };
  }
  const output = io.outputs[0];
  if (!output || output.shape.length < 1 || output.shape.length > 2) {
    return {
      ok: false,
      message: `evaluation sets are for classifiers whose first output is [batch, classes]; this one is ${output ? `${output.name} ${fmt(output.shape)}` : 'missing'}`,
    };
  }
  const width = output.shape.length === 1 ? 1 : output.shape[1]!;
  const classes = width === null ? null : classesOf(width);
  if (classes !== null && labels) {
    const bad = labels.findIndex((l) => l >= classes);
    if (bad >= 0)
      return {
        ok: false,
        message: `labels[${bad}] is ${labels[bad]}, but output ${output.name} ${fmt(output.shape)} has classes 0 … ${classes - 1}`,
      };
  }
  return { ok: true, classes, batch: batch === 1 ? 1 : null };
}
