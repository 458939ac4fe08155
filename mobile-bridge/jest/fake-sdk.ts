/** A web SDK stand-in for the component tests: "fraud" v7 doubles its input; "broken" fails its digest check. */
import type { PageClient } from '../src/webview/serve.ts';

export function fakeSdk(): PageClient {
  return {
    async load(name) {
      if (name === 'broken')
        throw Object.assign(new Error('chunk 9f… does not match its digest'), { code: 'chunk_digest_mismatch' });
      return {
        version: 7,
        backend: 'webgpu',
        predict: async (inputs: never) => ({ out: (inputs as number[][]).map((r) => r.map((x) => 2 * x)) }),
        feedback: () => {},
        reload: async () => ({ version: 7, changed: false, downloadedBytes: 0 }),
      };
    },
    status: async () => ({}),
    flush: async () => ({}),
    close: async () => {},
  };
}
