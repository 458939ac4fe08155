/**
 * @module golden
 * Smoke inference on the golden examples shipped with a version: outputs must be finite and
 * match the expected values within |actual − expected| ≤ atol + rtol·|expected|. Example 0's
 * input shapes also size the probe's dynamic dimensions (probe.ts).
 */
import type { Golden, IoSchema, NestedNumbers } from '@modelfleet/protocol';
import type { Tensor } from '@tensorflow/tfjs-core';
import { type LoadedModel, type Outputs, runExample } from './load.ts';
import { tfjs } from './tfjs-runtime.ts';

export const DEFAULT_TOLERANCE = { atol: 1e-4, rtol: 1e-3 };

export type GoldenFailure = { code: 'golden_invalid' | 'golden_mismatch' | 'non_finite_output'; message: string };

const flatten = (value: NestedNumbers): number[] => (Array.isArray(value) ? value.flatMap(flatten) : [value]);

export function shapeOf(value: NestedNumbers): number[] {
  const shape: number[] = [];
  for (let v: NestedNumbers = value; Array.isArray(v); v = v[0] ?? 0) shape.push(v.length);
  return shape;
}

const names = (ts: IoSchema['inputs']) => ts.map((x) => x.name).join(', ');

const fmt = (shape: readonly (number | null)[]) => `[${shape.map((d) => d ?? '?').join(',')}]`;

/** Whether a value's shape can be fed to an input of `shape` (same rank; sizes agree where fixed). */
export const fits = (value: readonly number[], shape: readonly (number | null)[]) =>
  value.length === shape.length && shape.every((d, j) => d === null || d === value[j]);

/**
 * What can be told without running: every example names the model's inputs, only its outputs,
 * and gives inputs of a shape the io takes (the io the version will be recorded with, so a
 * declared 128×128 refuses a 64×64 example). Checked before the model is run at all.
 */
export function goldenFits(io: IoSchema, golden: Golden): GoldenFailure | null {
  for (const [index, example] of golden.examples.entries()) {
    const missing = io.inputs.filter((i) => !(i.name in example.inputs)).map((i) => i.name);
    if (missing.length > 0) {
      return {
        code: 'golden_invalid',
        message: `golden example ${index} lacks input(s) ${missing.join(', ')}; the model's inputs are ${names(io.inputs)}`,
      };
    }
    // An expected output under a name the model lacks would otherwise be compared with nothing.
    const unknown = Object.keys(example.outputs).filter((k) => !io.outputs.some((o) => o.name === k));
    if (unknown.length > 0) {
      return {
        code: 'golden_invalid',
        message: `golden example ${index} expects output(s) ${unknown.join(', ')}; the model's outputs are ${names(io.outputs)}`,
      };
    }
    for (const spec of io.inputs) {
      const shape = shapeOf(example.inputs[spec.name]!);
      if (!fits(shape, spec.shape)) {
        return {
          code: 'golden_invalid',
          message: `golden example ${index}, input ${spec.name} has shape ${fmt(shape)}; the model takes ${fmt(spec.shape)}`,
        };
      }
    }
  }
  return null;
}

/** One example's inputs as tensors, in the io's dtypes (the caller disposes them). */
export async function exampleTensors(
  io: IoSchema,
  inputs: Golden['examples'][number]['inputs'],
): Promise<Record<string, Tensor>> {
  const tf = await tfjs();
  const tensors: Record<string, Tensor> = {};
  try {
    for (const spec of io.inputs)
      tensors[spec.name] = tf.tensor(flatten(inputs[spec.name]!), shapeOf(inputs[spec.name]!), spec.dtype);
  } catch (e) {
    tf.dispose(Object.values(tensors));
    throw e;
  }
  return tensors;
}

/**
 * Runs every example and compares its outputs; `goldenFits` must have passed. `first` is example
 * 0's outputs when the probe already ran it (probe.ts).
 */
export async function checkGolden(
  loaded: LoadedModel,
  io: IoSchema,
  golden: Golden,
  first?: Outputs,
): Promise<GoldenFailure | null> {
  const { atol, rtol } = { ...DEFAULT_TOLERANCE, ...golden.tolerance };
  for (const [index, example] of golden.examples.entries()) {
    let outputs: Outputs;
    if (index === 0 && first) {
      outputs = first;
    } else {
      let inputs: Record<string, Tensor> = {};
      try {
        inputs = await exampleTensors(io, example.inputs);
        outputs = await runExample(loaded, inputs);
      } catch (e) {
        return { code: 'golden_invalid', message: `golden example ${index} could not run: ${(e as Error).message}` };
      } finally {
        for (const t of Object.values(inputs)) t.dispose();
      }
    }
    for (const spec of io.outputs) {
      const actual = outputs[spec.name]!;
      const bad = actual.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0)
        return {
          code: 'non_finite_output',
          message: `example ${index}, output ${spec.name}[${bad}] is ${actual[bad]}`,
        };
      const expected = example.outputs[spec.name];
      if (expected === undefined) continue; // an example may check a subset of outputs
      const want = flatten(expected);
      if (want.length !== actual.length) {
        return {
          code: 'golden_mismatch',
          message: `example ${index}, output ${spec.name} has ${actual.length} values, expected ${want.length}`,
        };
      }
      for (let i = 0; i < want.length; i++) {
        if (!(Math.abs(actual[i]! - want[i]!) <= atol + rtol * Math.abs(want[i]!))) {
          return {
            code: 'golden_mismatch',
            message: `example ${index}, output ${spec.name}[${i}] is ${actual[i]}, expected ${want[i]} (atol ${atol}, rtol ${rtol})`,
          };
        }
      }
    }
  }
  return null;
}
