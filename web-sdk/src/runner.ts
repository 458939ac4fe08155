/**
 * @module runner
 * What the client needs from an inference engine: a Web Worker in browsers (worker-runner.ts),
 * the engine inline in Node and tests. Inputs arrive in wire form; outputs are typed arrays.
 */
import type { Backend } from '@modelfleet/protocol';
import type { loadArtifacts } from './artifacts.ts';
import type { Outputs, WireInput } from './tensors.ts';

export interface Runner {
  init(preference: Backend[]): Promise<Backend>;
  load(artifacts: Awaited<ReturnType<typeof loadArtifacts>>): Promise<number>;
  /** `transfer`: buffers and bitmaps inside `inputs` to move rather than copy (a worker runner moves them). */
  /** `inputStats`: per example, the declared statistics of measured inputs (engine.ts). */
  predict(
    handle: number,
    inputs: WireInput[],
    transfer?: Transferable[],
  ): Promise<{ outputs: Outputs; backend: Backend; inputStats?: Record<string, number>[] }>;
  unload(handle: number): void | Promise<void>;
  /** Backends tried before the chosen one, and why each did not start (reported by status()). */
  backendProblems?(): Promise<{ backend: Backend; reason: string }[]>;
}
