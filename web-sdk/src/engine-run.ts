/**
 * @module engine-run
 * One call of a loaded model on the current TF.js backend: the worker's own check of the inputs,
 * images read into tensors, layers or graph execution, and outputs copied out as typed arrays.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { IoSchema } from '@modelfleet/protocol';
import type { ModelArtifacts } from './artifacts.ts';
import { imagePixels } from './image-pixels.ts';
import { type InputStats, measureImage, measureTensor } from './input-measure.ts';
import { type OutputTensor, type Outputs, type WireInput, type WireTensor, formatShape } from './tensors.ts';

export interface Loaded {
  kind: ModelArtifacts['format'];
  model: LayersModel | GraphModel;
  io: ModelArtifacts['io'];
  artifacts: ModelArtifacts;
  /** Learnt on the first call: the graph has control flow and needs executeAsync. */
  async?: boolean;
}

/**
 * The worker's own check of what the page sent (the page checks first, with coded errors; this
 * guards a Runner called directly): every input present, dtype and fixed dimensions as signed.
 */
function checkWire(io: IoSchema, inputs: WireInput[]): void {
  for (const spec of io.inputs) {
    const w = inputs.find((i) => i.name === spec.name);
    if (!w)
      throw new Error(`input ${spec.name} is missing; the model takes ${io.inputs.map((i) => i.name).join(', ')}`);
    const fits = w.shape.length === spec.shape.length && spec.shape.every((d, i) => d === null || d === w.shape[i]);
    if (w.dtype !== spec.dtype || !fits)
      throw new Error(
        `input ${spec.name} takes ${spec.dtype}${formatShape(spec.shape)}; got ${w.dtype}${formatShape(w.shape)}`,
      );
  }
}

/**
 * Images become plain tensors: their pixels read and normalised (images.ts). With `stats`, inputs
 * the page marked as measured are summarised on the way (input-measure.ts).
 */
export function materialise(w: WireInput, stats?: InputStats): WireTensor {
  const measured = stats && w.measure ? stats : undefined;
  if (w.kind === 'images')
    return {
      kind: 'tensor',
      name: w.name,
      dtype: w.dtype,
      shape: w.shape,
      data: imagePixels(w, measured && measureImage(measured, w.name)),
    };
  if (measured) measureTensor(measured, w);
  return w;
}

/** The output's values in an array of its own (see run: the backend may still hold the one it read). */
async function outputOf(t: tf.Tensor): Promise<OutputTensor> {
  if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool')
    throw new Error(`an output has dtype ${t.dtype}; modelfleet returns float32, int32 and bool outputs`);
  const data = (await t.data()) as Float32Array | Int32Array | Uint8Array;
  return { dtype: t.dtype, shape: t.shape, data: data.slice() } as OutputTensor;
}

/** Runs `loaded` once on the current backend (no fallback); every tensor made is disposed. */
export async function runLoaded(loaded: Loaded, inputs: WireInput[]): Promise<Outputs> {
  checkWire(loaded.io, inputs);
  const tensors: Record<string, tf.Tensor> = {};
  let outs: tf.Tensor[] = [];
  try {
    for (const w of inputs) {
      tensors[w.name] = tf.tensor(materialise(w).data, w.shape, w.dtype);
    }
    const outNames = loaded.io.outputs.map((o) => o.name);
    const y =
      loaded.kind === 'tfjs-layers' ? predictLayers(loaded, tensors) : await executeGraph(loaded, tensors, outNames);
    outs = Array.isArray(y) ? y : [y];
    // A copy of each output's values: on CPU (and WebGPU once read) the backend hands out the
    // array it stores, which another live tensor may share; the copy is ours to move to the page.
    const result: Outputs = {};
    for (const [i, t] of outs.entries()) result[outNames[i]!] = await outputOf(t);
    return result;
  } finally {
    tf.dispose(outs);
    tf.dispose(Object.values(tensors));
  }
}

function predictLayers(loaded: Loaded, tensors: Record<string, tf.Tensor>): tf.Tensor | tf.Tensor[] {
  const ordered = loaded.io.inputs.map((i) => tensors[i.name]!);
  return (loaded.model as LayersModel).predict(ordered.length === 1 ? ordered[0]! : ordered);
}

/** execute() for static graphs; executeAsync() when the graph has control flow (learnt once). */
async function executeGraph(
  loaded: Loaded,
  tensors: Record<string, tf.Tensor>,
  outNames: string[],
): Promise<tf.Tensor | tf.Tensor[]> {
  const graph = loaded.model as GraphModel;
  if (!loaded.async) {
    try {
      return graph.execute(tensors, outNames);
    } catch (e) {
      if (!/executeAsync|dynamic|control flow/i.test((e as Error).message)) throw e;
      loaded.async = true;
    }
  }
  return graph.executeAsync(tensors, outNames);
}
