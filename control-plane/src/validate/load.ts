/**
 * @module load
 * Loads an uploaded model from memory with TF.js, strictly: every weight the topology needs
 * must be present with the shape it expects; a layers model may not have weights left over.
 * Also runs examples, and reads the model's own input/output signature.
 */
import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import type * as tfc from '@tensorflow/tfjs-core';
import { type LayersModel, loadLayersModel } from '@tensorflow/tfjs-layers';
import type { IoSchema, IoTensor, TfjsModelJson } from '@modelfleet/protocol';
import { graphWeightProblems } from './graph-weights.ts';
import { scopedLoad, tfjs } from './tfjs-runtime.ts';

export type LoadedModel =
  | { kind: 'tfjs-layers'; model: LayersModel; io: IoSchema }
  | { kind: 'tfjs-graph'; model: GraphModel; io: IoSchema };

type Shape = readonly (number | null | undefined)[] | undefined;

const dims = (shape: Shape): (number | null)[] => (shape ?? []).map((d) => (d === null || d === undefined || d < 0 ? null : d));

function ioTensor(name: string, dtype: string | undefined, shape: Shape): IoTensor {
  const t = dtype === 'int32' || dtype === 'bool' ? dtype : 'float32';
  return { name, dtype: t, shape: dims(shape) };
}

const layersWeights = (m: LayersModel) => m.weights.map((w) => w.read());

export type LoadFailure = { code: 'model_unloadable' | 'weights_mismatch'; message: string };
export type LoadOutcome = { ok: true; loaded: LoadedModel } | { ok: false; failure: LoadFailure };

/**
 * Loads the model from memory. A failure is classified by what failed: if the topology alone
 * cannot be loaded the model is unloadable; if it can, the weights do not fit it.
 */
export async function loadFromMemory(format: 'tfjs-layers' | 'tfjs-graph', modelJson: TfjsModelJson, weightData: ArrayBuffer): Promise<LoadOutcome> {
  const tf = await tfjs();
  // model.json and ModelArtifacts share field names; only weightsManifest becomes weightSpecs.
  const { weightsManifest, ...rest } = modelJson;
  const weightSpecs = weightsManifest.flatMap((g) => g.weights);
  const artifacts = { ...rest, weightSpecs, weightData } as tfc.io.ModelArtifacts;
  const unloadable = (e: unknown): LoadOutcome => ({ ok: false, failure: { code: 'model_unloadable', message: `TF.js could not load the ${format} model: ${(e as Error).message}` } });

  if (format === 'tfjs-layers') {
    let model: LayersModel;
    try {
      model = await scopedLoad(() => loadLayersModel(tf.io.fromMemory(artifacts), { strict: true }), layersWeights);
    } catch (e) {
      if (!(await layersTopologyLoads(modelJson))) return unloadable(e);
      return { ok: false, failure: { code: 'weights_mismatch', message: `the weights do not fit the layers topology: ${(e as Error).message}` } };
    }
    // Layers io names are the names of the input and output layers (Sequential models do not
    // fill inputNames/outputNames, so read them off the symbolic tensors' source layers).
    const io = {
      inputs: model.inputs.map((t) => ioTensor(t.sourceLayer.name, t.dtype, t.shape)),
      outputs: model.outputs.map((t) => ioTensor(t.sourceLayer.name, t.dtype, t.shape)),
    };
    return { ok: true, loaded: { kind: 'tfjs-layers', model, io } };
  }

  const problems = graphWeightProblems(modelJson.modelTopology, modelJson.modelInitializer, weightSpecs);
  if (problems.length > 0) return { ok: false, failure: { code: 'weights_mismatch', message: `the weights do not fit the graph: ${problems.slice(0, 5).join('; ')}` } };
  let model: GraphModel;
  try {
    model = await scopedLoad(() => loadGraphModel(tf.io.fromMemory(artifacts)), (m) => Object.values(m.weights).flat());
  } catch (e) {
    return unloadable(e);
  }
  const inputs = model.inputs.map((t) => ioTensor(t.name, t.dtype, t.shape));
  const loaded: LoadedModel = { kind: 'tfjs-graph', model, io: { inputs, outputs: model.outputs.map((t) => ioTensor(t.name, t.dtype, t.shape)) } };
  try {
    if (model.outputs.some((t) => !t.shape)) loaded.io.outputs = await probeOutputShapes(loaded);
  } catch (e) {
    model.dispose();
    return { ok: false, failure: { code: 'model_unloadable', message: `the ${format} model loads but does not run on zeros: ${(e as Error).message}` } };
  }
  return { ok: true, loaded };
}

/** Whether the layers topology builds without any weights (initialisers only); disposes it. */
async function layersTopologyLoads(modelJson: TfjsModelJson): Promise<boolean> {
  const tf = await tfjs();
  try {
    const bare = await scopedLoad(() => loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology })), layersWeights);
    bare.dispose();
    return true;
  } catch {
    return false;
  }
}

/**
 * TF.js reports no output shapes for graph models (not even from a signature); one run on
 * zeros (batch 1) reveals them, and the batch dimension stays a wildcard when the inputs' is.
 */
async function probeOutputShapes(loaded: LoadedModel): Promise<IoTensor[]> {
  const tf = await tfjs();
  const batchFree = loaded.io.inputs.some((i) => i.shape[0] === null);
  const zeros = Object.fromEntries(loaded.io.inputs.map((i) => [i.name, tf.zeros(i.shape.map((d) => d ?? 1), i.dtype)]));
  try {
    const names = loaded.io.outputs.map((o) => o.name);
    const y = await executeGraph(loaded.model as GraphModel, zeros, names);
    const outs = Array.isArray(y) ? y : [y];
    const shapes = outs.map((t, k) => ({ ...loaded.io.outputs[k]!, shape: t.shape.map((d, j) => (j === 0 && batchFree ? null : d)) }));
    tf.dispose(outs);
    return shapes;
  } finally {
    tf.dispose(Object.values(zeros));
  }
}

/** Runs one example; returns flat outputs by output name. Tensors are disposed. */
export async function runExample(loaded: LoadedModel, inputs: Record<string, tfc.Tensor>): Promise<Record<string, Float32Array | Int32Array | Uint8Array>> {
  const names = loaded.io.outputs.map((o) => o.name);
  let outs: tfc.Tensor[];
  if (loaded.kind === 'tfjs-layers') {
    const ordered = loaded.io.inputs.map((i) => inputs[i.name]!);
    const y = loaded.model.predict(ordered.length === 1 ? ordered[0]! : ordered);
    outs = Array.isArray(y) ? y : [y];
  } else {
    const y = await executeGraph(loaded.model, inputs, names);
    outs = Array.isArray(y) ? y : [y];
  }
  const result: Record<string, Float32Array | Int32Array | Uint8Array> = {};
  for (let i = 0; i < outs.length; i++) {
    result[names[i]!] = (await outs[i]!.data()) as Float32Array | Int32Array | Uint8Array;
    outs[i]!.dispose();
  }
  return result;
}

/** execute() for static graphs (synchronous, quiet); executeAsync() only for control flow. */
export async function executeGraph(model: GraphModel, inputs: Record<string, tfc.Tensor>, names: string[]): Promise<tfc.Tensor | tfc.Tensor[]> {
  try {
    return model.execute(inputs, names);
  } catch (e) {
    if (/executeAsync|dynamic|control flow/i.test((e as Error).message)) return model.executeAsync(inputs, names);
    throw e;
  }
}

export function disposeModel(loaded: LoadedModel): void {
  loaded.model.dispose();
}
