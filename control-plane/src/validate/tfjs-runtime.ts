/**
 * @module tfjs-runtime
 * TF.js inside workerd, set up once per isolate (the isolate is reused across requests).
 *
 * What workerd looks like to tfjs-core's detection, and what we do about it:
 * - `WorkerGlobalScope` exists, so IS_BROWSER is true and tfjs-core installs its browser
 *   platform; with `nodejs_compat`, `process.versions.node` exists too, so IS_NODE is also
 *   true, and the CPU backend would print its "install tfjs-node" banner on first use. We
 *   install our own platform built on Worker globals instead of relying on that guess, and
 *   set IS_NODE to false so nothing takes a Node path (`require('util')`, `process.hrtime`).
 * - Code generation from strings (`eval`, `new Function`) throws in workerd; the CPU backend,
 *   tfjs-layers and tfjs-converter (4.22) do not use it. WebGL, WebGPU and WASM backends are
 *   not for a Worker: CPU is set explicitly.
 * - Prod mode: no debug checks, no platform-overwrite or banner warnings.
 * It works unchanged in Node (tests), where the same globals exist.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

type Platform = Parameters<typeof tf.setPlatform>[1];

/** tfjs-core's Platform on Worker globals: fetch, performance.now, TextEncoder/Decoder, setTimeout. */
export const workerdPlatform: Platform = {
  fetch: (path, init) => fetch(path, init),
  // In deployed Workers the clock only advances across I/O (a Spectre mitigation), so
  // TF.js's own timings (tf.time, profile) read 0 for pure compute; nothing here relies on them.
  now: () => performance.now(),
  encode(text, encoding) {
    if (encoding !== 'utf-8' && encoding !== 'utf8')
      throw new Error(`the workerd platform encodes utf-8 only, not ${encoding}`);
    return new TextEncoder().encode(text);
  },
  decode: (bytes, encoding) => new TextDecoder(encoding).decode(bytes),
  setTimeoutCustom: (fn, delay) => void setTimeout(fn as () => void, delay),
  isTypedArray: (a): a is Float32Array | Int32Array | Uint8Array | Uint8ClampedArray =>
    a instanceof Float32Array || a instanceof Int32Array || a instanceof Uint8Array || a instanceof Uint8ClampedArray,
};

let ready: Promise<typeof tf> | undefined;

export function tfjs(): Promise<typeof tf> {
  ready ??= (async () => {
    tf.enableProdMode(); // first: silences the warning setPlatform gives when replacing one
    tf.env().set('IS_NODE', false);
    tf.setPlatform('workerd', workerdPlatform);
    if (!(await tf.setBackend('cpu'))) throw new Error('TF.js could not initialise its CPU backend');
    await tf.ready();
    return tf;
  })();
  return ready;
}

let turn: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` when no other call to `exclusive` is running in this isolate. TF.js state is
 * global (engine scopes, registered variables), validation is CPU-bound so overlapping gains
 * nothing, and one model in memory at a time keeps a large upload within the isolate's memory.
 */
export function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const run = turn.then(fn, fn);
  turn = run.catch(() => undefined);
  return run;
}

/**
 * Runs a model load in an engine scope so that nothing it created outlives it by accident:
 * on success every tensor but `keep(result)` (the model's weights) is disposed; on failure
 * (tfjs-layers creates the variables, then finds a weight that does not fit) everything is,
 * the variables, which scopes do not track, by name. Call it inside `exclusive`.
 */
export async function scopedLoad<T>(load: () => Promise<T>, keep: (result: T) => tf.Tensor[]): Promise<T> {
  const engine = tf.engine();
  const variablesBefore = new Set(Object.keys(engine.state.registeredVariables));
  engine.startScope();
  let result: T;
  try {
    result = await load();
  } catch (e) {
    engine.endScope();
    for (const [name, v] of Object.entries(engine.state.registeredVariables))
      if (!variablesBefore.has(name)) v.dispose();
    throw e;
  }
  engine.endScope(keep(result));
  return result;
}
