/**
 * @module tfjs-runtime
 * TF.js inside workerd. The CPU backend is pure JS and needs no WebAssembly or WebGL; with
 * `nodejs_compat` TF.js believes it runs in Node, which is harmless because we never fetch
 * or touch files through it (models load from memory). Prod mode silences the "install
 * tfjs-node" banner and skips debug checks. Set up once per isolate.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

let ready: Promise<typeof tf> | undefined;

export function tfjs(): Promise<typeof tf> {
  ready ??= (async () => {
    tf.enableProdMode();
    await tf.setBackend('cpu');
    await tf.ready();
    return tf;
  })();
  return ready;
}
