// Shared set-up of the validateModel suites: the test-only Worker (test/fixtures/validate-worker.ts)
// bundled with esbuild and started in workerd through Miniflare, and helpers that post models to it.
// Not a test file: validate.test.ts, validate-probe.test.ts and validate-real-models.test.ts each
// call startValidateWorker() for their own Worker (vitest isolates files, so nothing is shared).
import { toBase64 } from '@modelfleet/protocol';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, expect } from 'vitest';
import type { ModelArtifacts } from '../../../test/fixtures/models.ts';

const ENTRY = new URL('../../../test/fixtures/validate-worker.ts', import.meta.url).pathname;

/** The Worker as esbuild bundles it for workerd; also what the bundle-size figures measure. */
export async function bundleValidateWorker(minify = false): Promise<string> {
  const { outputFiles } = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    minify,
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    // 'browser' first, as wrangler does: tfjs-core's browser map drops node-fetch.
    mainFields: ['browser', 'module', 'main'],
    // tfjs-core's Node platform calls require('util') only when it is constructed, which never
    // happens in workerd (IS_BROWSER is true there); leave the require unresolved.
    external: ['cloudflare:*', 'node:*', 'util'],
    logLevel: 'silent',
  });
  return outputFiles[0]!.text;
}

let mf: Miniflare;
/** Starts the Worker before the calling file's tests and disposes of it after them. */
export function startValidateWorker(): void {
  beforeAll(async () => {
    mf = new Miniflare({
      modules: true,
      script: await bundleValidateWorker(),
      compatibilityDate: '2026-04-01',
      compatibilityFlags: ['nodejs_compat'],
      cf: false,
    });
    await mf.ready;
  });
  afterAll(() => mf?.dispose());
}

export type Result = {
  ok: boolean;
  ms: number;
  io?: any;
  reasons?: { code: string; message: string }[];
  checks: { name: string; ok: boolean; ms: number; detail?: string }[];
};

export async function validate(
  a: ModelArtifacts,
  over: { modelJson?: unknown; weightData?: Uint8Array; io?: unknown; golden?: unknown } = {},
): Promise<Result> {
  const body = {
    format: a.format,
    modelJson: over.modelJson ?? a.modelJson,
    weightData: toBase64(over.weightData ?? a.weightData),
    io: over.io,
    golden: over.golden,
  };
  const res = await mf.dispatchFetch('http://validate/validate', { method: 'POST', body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as Result;
}

export const codes = (r: Result) => (r.reasons ?? []).map((x) => x.code);
export const probeOf = (r: Result) => r.checks.find((c) => c.name === 'probe')?.detail;
export const runtime = async () =>
  (await (await mf.dispatchFetch('http://validate/runtime')).json()) as {
    platform: string;
    backend: string;
    flags: Record<string, boolean>;
    numTensors: number;
  };
export const numTensors = async () => (await runtime()).numTensors;
