/**
 * What a page downloads to run a model, per backend: the web SDK (page bundle + the worker's
 * script for that backend + the .wasm binary on WASM, from the build's own report, sizes.json)
 * beside plain TF.js's prebuilt bundles for the same backend (tf.min.js, plus tf-backend-wasm and
 * its .wasm, or tf-backend-webgpu), all gzipped as a CDN would send them. The SDK's page part
 * alone is set against tf.min.js too: it is what the page's main thread evaluates.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT } from '../harness/bundle.ts';

type Row = { bench: string; value: string; anchor: string; ratio: string; target: string };
interface Sizes {
  'modelfleet.esm.js': { gzip: number };
  worker: { backends: Record<'cpu' | 'wasm' | 'webgpu', { gzip: number }>; wasm: Record<string, { gzip: number }> };
}

const gz = (path: string) => gzipSync(readFileSync(join(ROOT, 'node_modules', path))).length;
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

export function weightBench(): Row[] {
  const out = mkdtempSync(join(tmpdir(), 'mf-bench-weight-'));
  execFileSync(process.execPath, [join(ROOT, 'web-sdk/scripts/build.mjs'), '--out', out], { stdio: 'pipe' });
  const s = JSON.parse(readFileSync(join(out, 'sizes.json'), 'utf8')) as Sizes;
  const page = s['modelfleet.esm.js'].gzip;
  // Without cross-origin isolation (no threads) both load the SIMD binary.
  const wasmBinary = s.worker.wasm['tfjs-backend-wasm-simd.wasm']!.gzip;
  const tf = gz('@tensorflow/tfjs/dist/tf.min.js');
  const plain = {
    cpu: tf,
    wasm: tf + gz('@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js') + wasmBinary,
    webgpu: tf + gz('@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js'),
  };
  const sdk = {
    cpu: page + s.worker.backends.cpu.gzip,
    wasm: page + s.worker.backends.wasm.gzip + wasmBinary,
    webgpu: page + s.worker.backends.webgpu.gzip,
  };
  const row = (bench: string, value: number, anchor: number, what: string, target: string): Row => ({
    bench,
    value: kib(value),
    anchor: `${kib(anchor)} ${what}`,
    ratio: `${(value / anchor).toFixed(2)}×`,
    target,
  });
  return [
    row('page weight: SDK page bundle (modelfleet.esm.js, what an app ships), gzip', page, tf, 'tf.min.js', '≤ 40 KiB'),
    row(
      '  SDK page + worker on CPU, gzip',
      sdk.cpu,
      plain.cpu,
      'tf.min.js',
      `worker ≤ 300 KiB (${kib(s.worker.backends.cpu.gzip)})`,
    ),
    row(
      '  SDK page + worker on WASM + .wasm, gzip',
      sdk.wasm,
      plain.wasm,
      'tf.min.js + tf-backend-wasm + .wasm',
      `worker ≤ 300 KiB (${kib(s.worker.backends.wasm.gzip)})`,
    ),
    row(
      '  SDK page + worker on WebGPU, gzip',
      sdk.webgpu,
      plain.webgpu,
      'tf.min.js + tf-backend-webgpu',
      `worker ≤ 300 KiB (${kib(s.worker.backends.webgpu.gzip)})`,
    ),
  ];
}
