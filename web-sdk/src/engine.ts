/**
 * @module engine
 * TF.js inference for one page or worker: picks a backend (WebGPU → WASM → CPU, by capability
 * and by what the manifest allows; engine-backends.ts), loads models from artifacts, runs predict
 * (engine-run.ts). The worker exposes this object through comlink; tests and the inline runner
 * call it directly.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import { type LayersModel, loadLayersModel } from '@tensorflow/tfjs-layers';
import type { Backend } from '@modelfleet/protocol';
import type { ModelArtifacts } from './artifacts.ts';
import type { EngineApi } from './engine-api.ts';
import { type BackendLoaders, createBackends } from './engine-backends.ts';
import { type Loaded, materialise, runLoaded } from './engine-run.ts';
import type { InputStats } from './input-measure.ts';
import type { Outputs, WireInput } from './tensors.ts';

export type { BackendLoaders } from './engine-backends.ts';

async function build(a: ModelArtifacts): Promise<LayersModel | GraphModel> {
  const handler = tf.io.fromMemory({
    ...a.modelJson,
    weightSpecs: a.weightSpecs,
    weightData: a.weightData,
  } as tf.io.ModelArtifacts);
  return a.format === 'tfjs-layers' ? loadLayersModel(handler) : loadGraphModel(handler);
}

/** True when an error says the GPU device went away under the call. */
const gpuGone = (e: unknown) => /lost|destroyed|GPU/i.test(String((e as Error)?.message));

export function createEngine(loaders: BackendLoaders = {}): EngineApi {
  const models = new Map<number, Loaded>();
  const backends = createBackends(loaders);
  let nextHandle = 1;

  /** The GPU device is gone: move to the next backend and rebuild every model from its artifacts. */
  async function fallBack(): Promise<void> {
    for (const m of models.values()) {
      try {
        m.model.dispose();
      } catch {} // its GPU buffers went with the device; nothing is left to free or to report
    }
    await backends.fallBack();
    for (const m of models.values()) m.model = await build(m.artifacts);
  }

  return {
    init: (preference) => backends.init(preference),
    backend: () => backends.current(),
    backendProblems: async () => backends.problems(),

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
    async predict(
      handle: number,
      wire: WireInput[],
    ): Promise<{ outputs: Outputs; backend: Backend; inputStats?: InputStats }> {
      // Pixels are read once (the bitmaps are closed), so a retry after a lost device reuses them.
      const stats: InputStats = [];
      const inputs = wire.map((w) => materialise(w, stats));
      const measured = stats.length > 0 ? { inputStats: stats } : {};
      const onGpu = () => backends.current() === 'webgpu';
      try {
        if (backends.deviceLost() && onGpu()) await fallBack();
        return { outputs: await this.run(handle, inputs), backend: backends.current()!, ...measured };
      } catch (e) {
        if (!onGpu() || !(backends.deviceLost() || gpuGone(e))) throw e;
        await fallBack();
        return { outputs: await this.run(handle, inputs), backend: backends.current()!, ...measured };
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
      return runLoaded(loaded, inputs);
    },

    unload(handle: number): void {
      models.get(handle)?.model.dispose();
      models.delete(handle);
    },
  };
}

export type { EngineApi } from './engine-api.ts';
