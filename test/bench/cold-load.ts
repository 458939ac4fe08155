/**
 * @module bench/cold-load
 * SDK cold load vs plain TF.js over HTTP, each run in a fresh browser context (empty HTTP cache
 * and IndexedDB), on loopback and under emulated network (CDP Network.emulateNetworkConditions),
 * for the largest real graph model (movenet-lightning) and the demo model (examples/fraud-model).
 * Rounds alternate the sides; figures are medians. The SDK's progress phases say where its time goes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { StaticServer } from '../browser/server.ts';
import { ROOT } from '../harness/bundle.ts';

/** 40 ms round trip, 20 Mbit/s down, 10 Mbit/s up (CDP throughputs are bytes per second). */
export const EMULATED = { offline: false, latency: 40, downloadThroughput: 20e6 / 8, uploadThroughput: 10e6 / 8 };
export type Network = 'loopback' | 'emulated';

export interface ColdModel {
  /** Registry name (published by the caller) and the folder the plain page loads from. */
  name: string;
  format: 'tfjs-layers' | 'tfjs-graph';
  modelJson: unknown;
  weightFiles: Record<string, Uint8Array>;
}

export interface SdkRun {
  ms: number;
  fromNavigation: number;
  phases: [string, number][];
  requests: number;
  warmMs?: number;
  error?: string;
}
export interface PlainRun {
  ms: number;
  fromNavigation: number;
  requests: number;
  error?: string;
}

/**
 * The last layer in weight order: the tensors sharing the name prefix (up to the last "/") of the
 * last floating-point tensor (converted graphs end with folded int32 constants, not a layer).
 */
export function lastLayerInWeightOrder(specs: { name: string; dtype: string }[]): string[] {
  const last = specs.findLast((w) => w.dtype === 'float32')!;
  const prefix = last.name.slice(0, last.name.lastIndexOf('/') + 1);
  return specs
    .filter((w) => w.name.startsWith(prefix) && !w.name.slice(prefix.length).includes('/'))
    .map((w) => w.name);
}

export const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The demo model with what `npm start` publishes beside it (the baseline goes into the manifest). */
export function fraudModel(): ColdModel & { meta: Record<string, unknown> } {
  const dir = join(ROOT, 'examples/fraud-model');
  const read = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
  const modelJson = read('model.json') as { weightsManifest: { paths: string[] }[] };
  const weightFiles = Object.fromEntries(
    modelJson.weightsManifest.flatMap((g) => g.paths).map((p) => [p, new Uint8Array(readFileSync(join(dir, p)))]),
  );
  const meta = Object.fromEntries(
    ['metrics', 'params', 'golden', 'baseline', 'lineage'].map((k) => [k, read(`${k}.json`)]),
  );
  return { name: 'fraud-demo', format: 'tfjs-layers', modelJson, weightFiles, meta };
}

export function serveModel(site: StaticServer, m: ColdModel): string {
  site.files.set(`/models/${m.name}/model.json`, JSON.stringify(m.modelJson));
  for (const [p, bytes] of Object.entries(m.weightFiles)) site.files.set(`/models/${m.name}/${p}`, bytes);
  return `/models/${m.name}/model.json`;
}

/** One page load in a fresh context; resolves with what the page put in `coldResult`. */
export async function freshRun<T extends { error?: string }>(
  browser: Browser,
  url: string,
  network: Network,
): Promise<T> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    if (network === 'emulated') {
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', EMULATED);
    }
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as { coldResult?: unknown }).coldResult !== undefined, null, {
      timeout: 120_000,
    });
    const result = await page.evaluate(() => (globalThis as unknown as { coldResult: T }).coldResult);
    if (result.error) throw new Error(`${url.split('#')[0]}: ${result.error}`);
    return result;
  } finally {
    await context.close();
  }
}

export interface ColdSeries {
  plain: PlainRun[];
  sdkReady: SdkRun[];
  sdkNav: SdkRun[];
}

/**
 * `rounds` rounds; each runs the plain page, the SDK page with its library ready and the SDK page
 * from navigation, in an order that rotates every round so drift on a shared machine spreads evenly.
 */
export async function coldSeries(
  browser: Browser,
  site: StaticServer,
  m: ColdModel,
  cfg: { endpoint: string; appKey: string; trustRoot: unknown },
  network: Network,
  rounds: number,
): Promise<ColdSeries> {
  const url = serveModel(site, m);
  const hash = (o: unknown) => '#' + encodeURIComponent(JSON.stringify(o));
  const sdkCfg = { ...cfg, model: m.name };
  const out: ColdSeries = { plain: [], sdkReady: [], sdkNav: [] };
  const kinds = [
    async () =>
      out.plain.push(
        await freshRun<PlainRun>(browser, `${site.url}/cold-plain.html${hash({ url, format: m.format })}`, network),
      ),
    async () =>
      out.sdkReady.push(
        await freshRun<SdkRun>(
          browser,
          `${site.url}/cold-sdk.html${hash({ cfg: sdkCfg, libraryReady: true, warm: true })}`,
          network,
        ),
      ),
    async () =>
      out.sdkNav.push(
        await freshRun<SdkRun>(
          browser,
          `${site.url}/cold-sdk.html${hash({ cfg: sdkCfg, libraryReady: false })}`,
          network,
        ),
      ),
  ];
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < kinds.length; k++) await kinds[(r + k) % kinds.length]!();
  }
  return out;
}

/**
 * Where the SDK's cold load goes, from its progress phases (median ms per step): client start
 * (IndexedDB open, device id); the ticket bundle round trip with root and ticket checks; the
 * manifest's verification and storage (and a small model's inline chunks); the chunk downloads,
 * each hashed and stored; activation (one transaction) and garbage collection; the load into the
 * worker (backend ready, weights transferred, TF.js model built).
 */
export function phaseSteps(runs: SdkRun[]): string {
  const steps: [string, string, string][] = [
    ['client start', 'start', 'ticket'],
    ['ticket bundle', 'ticket', 'manifest'],
    ['manifest', 'manifest', 'download|activate'],
    ['chunks', 'download', 'activate'],
    ['activate', 'activate', 'load'],
    ['load in worker', 'load', 'end'],
  ];
  const at = (r: SdkRun, names: string) => {
    for (const n of names.split('|')) {
      if (n === 'start') return 0;
      if (n === 'end') return r.ms;
      const hit = r.phases.find(([p]) => p === n);
      if (hit) return hit[1];
    }
    return NaN;
  };
  return steps
    .map(
      ([label, from, to]) =>
        [label, median(runs.map((r) => at(r, to) - at(r, from)).filter((x) => !Number.isNaN(x)))] as const,
    )
    .filter(([, ms]) => !Number.isNaN(ms))
    .map(([label, ms]) => `${label} ${Math.round(ms)}`)
    .join(' · ');
}
