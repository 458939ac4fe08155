/**
 * @module golden
 * Smoke inference on the golden examples shipped with a version: outputs must be finite and
 * match the expected values within |actual − expected| ≤ atol + rtol·|expected|.
 */
import type { Golden, IoSchema, NestedNumbers } from '@modelfleet/protocol';
import type { Tensor } from '@tensorflow/tfjs-core';
import { type LoadedModel, runExample } from './load.ts';
import { tfjs } from './tfjs-runtime.ts';

export const DEFAULT_TOLERANCE = { atol: 1e-4, rtol: 1e-3 };

export type GoldenFailure = { code: 'golden_invalid' | 'golden_mismatch' | 'non_finite_output'; message: string };

const flatten = (value: NestedNumbers): number[] => (Array.isArray(value) ? value.flatMap(flatten) : [value]);

function shapeOf(value: NestedNumbers): number[] {
  const shape: number[] = [];
  for (let v: NestedNumbers = value; Array.isArray(v); v = v[0] ?? 0) shape.push(v.length);
  return shape;
}

const names = (ts: IoSchema['inputs']) => ts.map((x) => x.name).join(', ');

export async function checkGolden(loaded: LoadedModel, io: IoSchema, golden: Golden): Promise<GoldenFailure | null> {
  const tf = await tfjs();
  const { atol, rtol } = { ...DEFAULT_TOLERANCE, ...golden.tolerance };
  for (const [index, example] of golden.examples.entries()) {
    const missing = io.inputs.filter((i) => !(i.name in example.inputs)).map((i) => i.name);
    if (missing.length > 0) {
      return { code: 'golden_invalid', message: `golden example ${index} lacks input(s) ${missing.join(', ')}; the model's inputs are ${names(io.inputs)}` };
    }
    // An expected output under a name the model lacks would otherwise be compared with nothing.
    const unknown = Object.keys(example.outputs).filter((k) => !io.outputs.some((o) => o.name === k));
    if (unknown.length > 0) {
      return { code: 'golden_invalid', message: `golden example ${index} expects output(s) ${unknown.join(', ')}; the model's outputs are ${names(io.outputs)}` };
    }
    const inputs: Record<string, Tensor> = {};
    let outputs: Awaited<ReturnType<typeof runExample>>;
    try {
      for (const spec of io.inputs) {
        const value = example.inputs[spec.name]!;
        inputs[spec.name] = tf.tensor(flatten(value), shapeOf(value), spec.dtype);
      }
      outputs = await runExample(loaded, inputs);
    } catch (e) {
      return { code: 'golden_invalid', message: `golden example ${index} could not run: ${(e as Error).message}` };
    } finally {
      for (const t of Object.values(inputs)) t.dispose();
    }
    for (const spec of io.outputs) {
      const actual = outputs[spec.name]!;
      const bad = actual.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) return { code: 'non_finite_output', message: `example ${index}, output ${spec.name}[${bad}] is ${actual[bad]}` };
      const expected = example.outputs[spec.name];
      if (expected === undefined) continue; // an example may check a subset of outputs
      const want = flatten(expected);
      if (want.length !== actual.length) {
        return { code: 'golden_mismatch', message: `example ${index}, output ${spec.name} has ${actual.length} values, expected ${want.length}` };
      }
      for (let i = 0; i < want.length; i++) {
        if (!(Math.abs(actual[i]! - want[i]!) <= atol + rtol * Math.abs(want[i]!))) {
          return { code: 'golden_mismatch', message: `example ${index}, output ${spec.name}[${i}] is ${actual[i]}, expected ${want[i]} (atol ${atol}, rtol ${rtol})` };
        }
      }
    }
  }
  return null;
}
