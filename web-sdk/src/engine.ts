/**
 * @module engine
 * TF.js inference for one page or worker: picks a backend (WebGPU → WASM → CPU, by capability
 * and by what the manifest allows), loads models from artifacts, runs predict. The worker
 * exposes this object through comlink; tests and the inline runner call it directly.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import { type LayersModel, loadLayersModel } from '@tensorflow/tfjs-layers';
import type { Backend, IoSchema } from '@modelfleet/protocol';
import type { ModelArtifacts } from './artifacts.ts';
import type { EngineApi } from './engine-api.ts';
import { imagePixels } from './image-pixels.ts';
import { type InputStats, measureImage, measureTensor } from './input-measure.ts';
import { type OutputTensor, type Outputs, type WireInput, type WireTensor, formatShape } from './tensors.ts';

interface Loaded {
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
    if (!w) throw new Error(`input ${spec.name} is missing; the model takes ${io.inputs.map((i) => i.name).join(', ')}`);
    const fits = w.shape.length === spec.shape.length && spec.shape.every((d, i) => d === null || d === w.shape[i]);
    if (w.dtype !== spec.dtype || !fits) throw new Error(`input ${spec.name} takes ${spec.dtype}${formatShape(spec.shape)}; got ${w.dtype}${formatShape(w.shape)}`);
  }
}

/**
 * Images become plain tensors: their pixels read and normalised (images.ts). With `stats`, inputs
 * the page marked as measured are summarised on the way (input-measure.ts).
 */
function materialise(w: WireInput, stats?: InputStats): WireTensor {
  const measured = stats && w.measure ? stats : undefined;
  if (w.kind === 'images') return { kind: 'tensor', name: w.name, dtype: w.dtype, shape: w.shape, data: imagePixels(w, measured && measureImage(measured, w.name)) };
  if (measured) measureTensor(measured, w);
  return w;
}

/** The output's values in an array of its own (see run: the backend may still hold the one it read). */
async function outputOf(t: tf.Tensor): Promise<OutputTensor> {
  if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool') throw new Error(`an output has dtype ${t.dtype}; modelfleet returns float32, int32 and bool outputs`);
  const data = (await t.data()) as Float32Array | Int32Array | Uint8Array;
  return { dtype: t.dtype, shape: t.shape, data: data.slice() } as OutputTensor;
}

/** Registers optional backends lazily so a CPU-only build does not pay for WebGPU/WASM. */
export type BackendLoaders = Partial<Record<Exclude<Backend, 'cpu'>, () => Promise<unknown>>>;

export function createEngine(loaders: BackendLoaders = {}): EngineApi {
  const models = new Map<number, Loaded>();
  let nextHandle = 1;
  let backend: Backend | undefined;
  let remaining: Backend[] = [];
  let deviceLost = false;

  async function build(a: ModelArtifacts): Promise<LayersModel | GraphModel> {
    const handler = tf.io.fromMemory({ ...a.modelJson, weightSpecs: a.weightSpecs, weightData: a.weightData } as tf.io.ModelArtifacts);
    return a.format === 'tfjs-layers' ? loadLayersModel(handler) : loadGraphModel(handler);
  }

  function watchDevice(): void {
    deviceLost = false;
    const device = (tf.backend() as unknown as { device?: { lost?: Promise<unknown> } }).device;
    device?.lost?.then(() => (deviceLost = true));
  }

  /** The GPU device is gone: move to the next backend and rebuild every model from its artifacts. */
  async function fallBack(): Promise<void> {
    for (const m of models.values()) {
      try {
        m.model.dispose();
      } catch {} // its GPU buffers went with the device
    }
    while (remaining.length > 0) {
      const name = remaining.shift()!;
      if (await tryBackend(name)) {
        backend = name;
        break;
      }
    }
    for (const m of models.values()) m.model = await build(m.artifacts);
  }

  /** Why each backend before the chosen one did not start (reported in the client's status). */
  const problems: { backend: Backend; reason: string }[] = [];

  async function tryBackend(name: Backend): Promise<boolean> {
    // TF.js reports a backend that fails to initialise (a WASM binary that 404s, a GPU adapter that
    // refuses) only through console.warn and `false`; keep what it says as the reason.
    const said: string[] = [];
    const warn = console.warn;
    try {
      if (name !== 'cpu') {
        if (name === 'webgpu' && !(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) return fail(name, 'this browser has no WebGPU (navigator.gpu)');
        const load = loaders[name];
        if (!load) return fail(name, 'not built into this worker');
        await load();
      }
      console.warn = (...args: unknown[]) => void said.push(args.map(String).join(' '));
      if (await tf.setBackend(name)) return true;
      return fail(name, said.filter((l) => !/^Initialization of backend/.test(l)).join('; ').slice(0, 300) || 'TF.js could not initialise it');
    } catch (e) {
      return fail(name, (e as Error)?.message ?? String(e));
    } finally {
      console.warn = warn;
    }
  }

  function fail(name: Backend, reason: string): false {
    problems.push({ backend: name, reason });
    return false;
  }

  return {
    /** Chooses the first backend in `preference` that works here; reports which. */
    async init(preference: Backend[]): Promise<Backend> {
      tf.enableProdMode();
      const order = [...new Set([...preference, 'cpu' as const])];
      for (const [i, name] of order.entries()) {
        if (await tryBackend(name)) {
          await tf.ready();
          backend = name;
          remaining = order.slice(i + 1);
          if (name === 'webgpu') watchDevice();
          return name;
        }
      }
      throw new Error('no TF.js backend could start');
    },

    backend: () => backend,

    /** Backends tried before the chosen one, and why each did not start. */
    backendProblems: async () => [...problems],

    async load(a: ModelArtifacts): Promise<number> {
      const handle = nextHandle++;
      // Artifacts are kept so a lost GPU device can be survived by rebuilding on another backend.
      models.set(handle, { kind: a.format, model: await build(a), io: a.io, artifacts: a });
      return handle;
    },

    /**
     * Runs one call; if the WebGPU device is lost meanwhile, falls back and runs it again. The
     * backend that answered comes back with the outputs (no extra round trip to the worker).
     */
    async predict(handle: number, wire: WireInput[]): Promise<{ outputs: Outputs; backend: Backend; inputStats?: InputStats }> {
      // Pixels are read once (the bitmaps are closed), so a retry after a lost device reuses them.
      const stats: InputStats = [];
      const inputs = wire.map((w) => materialise(w, stats));
      const measured = stats.length > 0 ? { inputStats: stats } : {};
      try {
        if (deviceLost && backend === 'webgpu') await fallBack();
        return { outputs: await this.run(handle, inputs), backend: backend!, ...measured };
      } catch (e) {
        if (backend !== 'webgpu' || !(deviceLost || /lost|destroyed|GPU/i.test(String((e as Error)?.message)))) throw e;
        await fallBack();
        return { outputs: await this.run(handle, inputs), backend: backend!, ...measured };
      }
    },

    /** Diagnostics: destroys the WebGPU device, as a driver reset would (used by the fault suite). */
    debugLoseGpuDevice(): boolean {
      const device = (tf.backend() as unknown as { device?: { destroy(): void } }).device;
      device?.destroy();
      return !!device;
    },

    async run(handle: number, inputs: WireInput[]): Promise<Outputs> {
      const loaded = models.get(handle);
      if (!loaded) throw new Error(`model handle ${handle} is not loaded`);
      checkWire(loaded.io, inputs);
      const tensors: Record<string, tf.Tensor> = {};
      let outs: tf.Tensor[] = [];
      try {
        for (const w of inputs) {
          tensors[w.name] = tf.tensor(materialise(w).data, w.shape, w.dtype);
        }
        const outNames = loaded.io.outputs.map((o) => o.name);
        if (loaded.kind === 'tfjs-layers') {
          const ordered = loaded.io.inputs.map((i) => tensors[i.name]!);
          const y = (loaded.model as LayersModel).predict(ordered.length === 1 ? ordered[0]! : ordered);
          outs = Array.isArray(y) ? y : [y];
        } else {
          const graph = loaded.model as GraphModel;
          // execute() for static graphs; executeAsync() when the graph has control flow (learnt once).
          let y: tf.Tensor | tf.Tensor[] | undefined;
          if (!loaded.async) {
            try {
              y = graph.execute(tensors, outNames);
            } catch (e) {
              if (!/executeAsync|dynamic|control flow/i.test((e as Error).message)) throw e;
              loaded.async = true;
            }
          }
          y ??= await graph.executeAsync(tensors, outNames);
          outs = Array.isArray(y) ? y : [y];
        }
        // A copy of each output's values: on CPU (and WebGPU once read) the backend hands out the
        // array it stores, which another live tensor may share; the copy is ours to move to the page.
        const result: Outputs = {};
        for (const [i, t] of outs.entries()) result[outNames[i]!] = await outputOf(t);
        return result;
      } finally {
        tf.dispose(outs);
        tf.dispose(Object.values(tensors));
      }
    },

    unload(handle: number): void {
      models.get(handle)?.model.dispose();
      models.delete(handle);
    },
  };
}

export type { EngineApi } from './engine-api.ts';
