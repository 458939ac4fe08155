/**
 * @module load
 * Loads an uploaded model from memory with TF.js, strictly: every weight the topology needs
 * must be present with the shape it expects; a layers model may not have weights left over.
 * Also runs examples, and reads the model's own input/output signature (graph models' output
 * shapes are read by running it: probe.ts).
 */
import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import type * as tfc from '@tensorflow/tfjs-core';
import { type LayersModel, loadLayersModel } from '@tensorflow/tfjs-layers';
import type { IoSchema, IoTensor, TfjsModelJson } from '@modelfleet/protocol';
import { graphWeightProblems } from './graph-weights.ts';
import { scopedLoad, tfjs } from './tfjs-runtime.ts';

/** `outputsKnown`: whether `io.outputs` shapes come from TF.js (else they are [] until probed). */
export type LoadedModel =
  | { kind: 'tfjs-layers'; model: LayersModel; io: IoSchema; outputsKnown: true }
  | { kind: 'tfjs-graph'; model: GraphModel; io: IoSchema; outputsKnown: boolean };

type Shape = readonly (number | null | undefined)[] | undefined;

const dims = (shape: Shape): (number | null)[] =>
  (shape ?? []).map((d) => (d === null || d === undefined || d < 0 ? null : d));

export function ioTensor(name: string, dtype: string | undefined, shape: Shape): IoTensor {
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
export async function loadFromMemory(
  format: 'tfjs-layers' | 'tfjs-graph',
  modelJson: TfjsModelJson,
  weightData: ArrayBuffer,
): Promise<LoadOutcome> {
  const tf = await tfjs();
  // model.json and ModelArtifacts share field names; only weightsManifest becomes weightSpecs.
  const { weightsManifest, ...rest } = modelJson;
  const weightSpecs = weightsManifest.flatMap((g) => g.weights);
  const artifacts = { ...rest, weightSpecs, weightData } as tfc.io.ModelArtifacts;
  const unloadable = (e: unknown): LoadOutcome => ({
    ok: false,
    failure: { code: 'model_unloadable', message: `TF.js could not load the ${format} model: ${(e as Error).message}` },
  });

  if (format === 'tfjs-layers') {
    let model: LayersModel;
    try {
      model = await scopedLoad(() => loadLayersModel(tf.io.fromMemory(artifacts), { strict: true }), layersWeights);
    } catch (e) {
      if (!(await layersTopologyLoads(modelJson))) return unloadable(e);
      return {
        ok: false,
        failure: {
          code: 'weights_mismatch',
          message: `the weights do not fit the layers topology: ${(e as Error).message}`,
        },
      };
    }
    // Layers io names are the names of the input and output layers (Sequential models do not
    // fill inputNames/outputNames, so read them off the symbolic tensors' source layers).
    const io = {
      inputs: model.inputs.map((t) => ioTensor(t.sourceLayer.name, t.dtype, t.shape)),
      outputs: model.outputs.map((t) => ioTensor(t.sourceLayer.name, t.dtype, t.shape)),
    };
    return { ok: true, loaded: { kind: 'tfjs-layers', model, io, outputsKnown: true } };
  }

  const problems = graphWeightProblems(modelJson.modelTopology, modelJson.modelInitializer, weightSpecs);
  if (problems.length > 0)
    return {
      ok: false,
      failure: {
        code: 'weights_mismatch',
        message: `the weights do not fit the graph: ${problems.slice(0, 5).join('; ')}`,
      },
    };
  let model: GraphModel;
  try {
    model = await scopedLoad(
      () => loadGraphModel(tf.io.fromMemory(artifacts)),
      (m) => Object.values(m.weights).flat(),
    );
  } catch (e) {
    return unloadable(e);
  }
  // TF.js reports no output shapes for graph models (not even from a signature): they stay
  // unknown (`outputsKnown: false`) until the probe runs the graph (probe.ts).
  const io = {
    inputs: model.inputs.map((t) => ioTensor(t.name, t.dtype, t.shape)),
    outputs: model.outputs.map((t) => ioTensor(t.name, t.dtype, t.shape)),
  };
  return { ok: true, loaded: { kind: 'tfjs-graph', model, io, outputsKnown: model.outputs.every((t) => t.shape) } };
}

/** Whether the layers topology builds without any weights (initialisers only); disposes it. */
async function layersTopologyLoads(modelJson: TfjsModelJson): Promise<boolean> {
  const tf = await tfjs();
  try {
    const bare = await scopedLoad(
      () => loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology })),
      layersWeights,
    );
    bare.dispose();
    return true;
  } catch {
    return false;
  }
}

/** Runs the model on `inputs` (by input name); the output tensors in `io.outputs` order, for the caller to dispose. */
export async function runTensors(loaded: LoadedModel, inputs: Record<string, tfc.Tensor>): Promise<tfc.Tensor[]> {
  if (loaded.kind === 'tfjs-layers') {
    const ordered = loaded.io.inputs.map((i) => inputs[i.name]!);
    const y = loaded.model.predict(ordered.length === 1 ? ordered[0]! : ordered);
    return Array.isArray(y) ? y : [y];
  }
  const y = await executeGraph(
    loaded.model,
    inputs,
    loaded.io.outputs.map((o) => o.name),
  );
  return Array.isArray(y) ? y : [y];
}

/** Flat output values by output name. */
export type Outputs = Record<string, Float32Array | Int32Array | Uint8Array>;

/** Runs one example; returns flat outputs by output name. Tensors are disposed. */
export async function runExample(loaded: LoadedModel, inputs: Record<string, tfc.Tensor>): Promise<Outputs> {
  const outs = await runTensors(loaded, inputs);
  const result: Outputs = {};
  try {
    for (const [i, out] of outs.entries())
      result[loaded.io.outputs[i]!.name] = (await out.data()) as Float32Array | Int32Array | Uint8Array;
  } finally {
    for (const out of outs) out.dispose();
  }
  return result;
}

/** execute() for static graphs (synchronous, quiet); executeAsync() only for control flow. */
export async function executeGraph(
  model: GraphModel,
  inputs: Record<string, tfc.Tensor>,
  names: string[],
): Promise<tfc.Tensor | tfc.Tensor[]> {
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
