/**
 * @module engine-backends
 * Which TF.js backend the engine runs on: the first of the app's preference that starts here (CPU
 * last, it always does), why each one before it did not (reported in the client's status), and
 * the next one down when a WebGPU device is lost.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Backend } from '@modelfleet/protocol';
import type { BackendProblem } from './engine-api.ts';

/** Registers optional backends lazily so a CPU-only build does not pay for WebGPU/WASM. */
export type BackendLoaders = Partial<Record<Exclude<Backend, 'cpu'>, () => Promise<unknown>>>;

/** TF.js's reason for a backend that did not initialise is cut to this many characters. */
const MAX_REASON_CHARS = 300;

export interface Backends {
  /** Starts the first backend in `preference` (then CPU) that works here; reports which. */
  init(preference: Backend[]): Promise<Backend>;
  current(): Backend | undefined;
  /** Backends tried before the chosen one, and why each did not start. */
  problems(): BackendProblem[];
  /** True once the running WebGPU device has been lost (a driver reset, a destroyed device). */
  deviceLost(): boolean;
  /** Moves to the next backend of the preference that starts (the caller rebuilds its models). */
  fallBack(): Promise<void>;
}

export function createBackends(loaders: BackendLoaders): Backends {
  const problems: BackendProblem[] = [];
  let backend: Backend | undefined;
  let remaining: Backend[] = [];
  let lost = false;
  const start = (name: Backend) => tryBackend(loaders, name, (reason) => void problems.push({ backend: name, reason }));

  function watchDevice(): void {
    lost = false;
    const device = (tf.backend() as unknown as { device?: { lost?: Promise<unknown> } }).device;
    device?.lost?.then(() => (lost = true));
  }

  return {
    async init(preference) {
      tf.enableProdMode();
      const order = [...new Set([...preference, 'cpu' as const])];
      for (const [i, name] of order.entries()) {
        if (await start(name)) {
          await tf.ready();
          backend = name;
          remaining = order.slice(i + 1);
          if (name === 'webgpu') watchDevice();
          return name;
        }
      }
      throw new Error('no TF.js backend could start');
    },
    current: () => backend,
    problems: () => [...problems],
    deviceLost: () => lost,
    async fallBack() {
      while (remaining.length > 0) {
        const name = remaining.shift()!;
        if (await start(name)) {
          backend = name;
          break;
        }
      }
    },
  };
}

/** Sets the backend `name` if it starts; if not, tells `fail` why and answers false. */
async function tryBackend(loaders: BackendLoaders, name: Backend, fail: (reason: string) => void): Promise<boolean> {
  // TF.js reports a backend that fails to initialise (a WASM binary that 404s, a GPU adapter that
  // refuses) only through console.warn and `false`; keep what it says as the reason.
  const said: string[] = [];
  const warn = console.warn;
  const refuse = (reason: string) => (fail(reason), false);
  try {
    if (name !== 'cpu') {
      const gpu = (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;
      if (name === 'webgpu' && !gpu) return refuse('this browser has no WebGPU (navigator.gpu)');
      const load = loaders[name];
      if (!load) return refuse('not built into this worker');
      await load();
    }
    console.warn = (...args: unknown[]) => void said.push(args.map(String).join(' '));
    if (await tf.setBackend(name)) return true;
    const reason = said
      .filter((l) => !/^Initialization of backend/.test(l))
      .join('; ')
      .slice(0, MAX_REASON_CHARS);
    return refuse(reason || 'TF.js could not initialise it');
  } catch (e) {
    return refuse((e as Error)?.message ?? String(e));
  } finally {
    console.warn = warn;
  }
}
