/**
 * npm run bench:chunks — how the packing target of planChunks (SPEC 5.1) trades round trips
 * against update bytes. For each model and target: chunk count, the download time of all chunks
 * in Chromium under emulated network (40 ms RTT, 20 Mbit/s; fresh context per run, SHA-256 of
 * each chunk as it arrives, median of 3) beside one request for the model's own weight files,
 * the same on loopback (the device's own cost per request), and the bytes a device re-downloads
 * when only the last layer changes. Then, at the default
 * target, download time by concurrency. Run it when the default is in question; it takes ~3 min.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_PACK_BYTES, planChunks, weightSpecsOf } from '@modelfleet/protocol';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../browser/chromium.ts';
import { type StaticServer, startStaticServer } from '../browser/server.ts';
import { buildLargeLayersModel, buildLayersModel, withRetrainedTensors } from '../fixtures/models.ts';
import { readRealModel } from '../fixtures/real-models.ts';
import { EMULATED, lastLayerInWeightOrder, median } from './cold-load.ts';

const KiB = 1024;
const TARGETS = [64 * KiB, 128 * KiB, 256 * KiB, 512 * KiB, 1024 * KiB, 2048 * KiB, 4096 * KiB];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface Subject {
  id: string;
  modelJson: any;
  weightData: Uint8Array;
  files: Uint8Array[];
  lastLayer: string[];
  timed: boolean;
}

/** The same weights with the last layer retrained (every byte of its tensors changed). */
const retrained = (s: Subject) => withRetrainedTensors(s, s.lastLayer).weightData;

const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function planFor(s: Subject, target: number, weights = s.weightData) {
  const plan = planChunks(weightSpecsOf(s.modelJson), { packBytes: target });
  return plan.chunks.map((c) => ({ ...c, digest: digest(weights.subarray(c.offset, c.offset + c.size)) }));
}

async function timedDownload(
  browser: Browser,
  site: StaticServer,
  urls: string[],
  parallel: number,
  emulate = true,
): Promise<number> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    if (emulate) {
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', EMULATED);
    }
    await page.goto(`${site.url}/chunks.html`);
    const r = (await page.evaluate(`download(${JSON.stringify({ urls, parallel })})`)) as { ms: number };
    return r.ms;
  } finally {
    await context.close();
  }
}

async function subjects(): Promise<Subject[]> {
  const real = (id: 'movenet-lightning' | 'nsfw-mobilenet-v2', lastLayer: (names: string[]) => string[]): Subject => {
    const m = readRealModel(id);
    const names = weightSpecsOf(m.modelJson).map((w) => w.name);
    return {
      id,
      modelJson: m.modelJson,
      weightData: m.weightData,
      files: Object.values(m.weightFiles),
      lastLayer: lastLayer(names),
      timed: true,
    };
  };
  const synthetic = async (
    id: string,
    a: Promise<{ modelJson: any; weightData: Uint8Array; weightFiles: Record<string, Uint8Array> }>,
    layer: string,
    timed: boolean,
  ): Promise<Subject> => {
    const m = await a;
    const names = weightSpecsOf(m.modelJson).map((w) => w.name);
    return {
      id,
      modelJson: m.modelJson,
      weightData: m.weightData,
      files: Object.values(m.weightFiles),
      lastLayer: names.filter((n) => n.startsWith(`${layer}/`)),
      timed,
    };
  };
  return [
    // movenet: the last layer in weight order (its final separable conv, weights + offset).
    real('movenet-lightning', () =>
      lastLayerInWeightOrder(weightSpecsOf(readRealModel('movenet-lightning').modelJson)),
    ),
    // nsfw: the classifier head, dense_3 (Keras lists weights alphabetically: it sits mid-buffer).
    real('nsfw-mobilenet-v2', (names) => names.filter((n) => n.startsWith('dense_3/'))),
    await synthetic(
      'sdkbench 1024-1024-16',
      buildLayersModel({ seed: 71, inputs: 1024, hidden: 1024, outputs: 16 }),
      'out',
      true,
    ),
    await synthetic('publish bench 20 MiB', buildLargeLayersModel(20 * 2 ** 20, 1), 'big3', false),
  ];
}

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const site = await startStaticServer();
site.files.set('/blank.html', '<!doctype html>');
const browser = await launchChromium();
const rows: Record<string, string>[] = [];
try {
  for (const s of await subjects()) {
    const fileUrls = s.files.map((bytes, i) => (site.files.set(`/w/${s.id}/file${i}`, bytes), `/w/${s.id}/file${i}`));
    const v2 = retrained(s);
    const changedBytes = planChunks(weightSpecsOf(s.modelJson))
      .tensors.filter((t) => s.lastLayer.includes(t.name))
      .reduce((n, t) => n + t.size, 0);
    const plans = TARGETS.map((target) => {
      const chunks = planFor(s, target);
      const before = new Set(chunks.map((c) => c.digest));
      const update = planFor(s, target, v2)
        .filter((c) => !before.has(c.digest))
        .reduce((n, c) => n + c.size, 0);
      const urls = chunks.map(
        (c, i) => (
          site.files.set(`/c/${s.id}/${target}/${i}`, s.weightData.subarray(c.offset, c.offset + c.size)),
          `/c/${s.id}/${target}/${i}`
        ),
      );
      return { target, chunks, update, urls, ms: [] as number[], loopback: [] as number[] };
    });
    const plain: number[] = [];
    const plainLoopback: number[] = [];
    // Rounds alternate over every plan and the plain files, so machine drift spreads evenly.
    for (let r = 0; s.timed && r < ROUNDS; r++) {
      plain.push(await timedDownload(browser, site, fileUrls, 4));
      plainLoopback.push(await timedDownload(browser, site, fileUrls, 4, false));
      for (const p of plans) {
        p.ms.push(await timedDownload(browser, site, p.urls, 6));
        p.loopback.push(await timedDownload(browser, site, p.urls, 6, false));
      }
    }
    for (const p of plans) {
      rows.push({
        model: s.id,
        target: `${fmt(p.target / KiB)} KiB`,
        chunks: String(p.chunks.length),
        'emulated download (6 parallel)': s.timed ? `${fmt(median(p.ms))} ms` : '—',
        'weight files, plain': s.timed ? `${fmt(median(plain))} ms` : '—',
        'loopback (plain)': s.timed ? `${fmt(median(p.loopback))} ms (${fmt(median(plainLoopback))})` : '—',
        'last-layer update': `${fmt(p.update / KiB, 1)} KiB (changed ${fmt(changedBytes / KiB, 1)} KiB)`,
      });
    }
    console.log(`${s.id}: done`);
  }
  // Concurrency at the default target, on the largest real graph model.
  const s = (await subjects())[0]!;
  const chunks = planFor(s, DEFAULT_PACK_BYTES);
  const urls = chunks.map(
    (c, i) => (site.files.set(`/p/${i}`, s.weightData.subarray(c.offset, c.offset + c.size)), `/p/${i}`),
  );
  const byParallel = new Map<number, number[]>([1, 2, 4, 6, 8, 16].map((p) => [p, []]));
  for (let r = 0; r < ROUNDS; r++)
    for (const [p, ms] of byParallel) ms.push(await timedDownload(browser, site, urls, p));
  console.table(rows);
  console.table(
    [...byParallel].map(([p, ms]) => ({
      model: s.id,
      target: `${fmt(DEFAULT_PACK_BYTES / KiB)} KiB (${chunks.length} chunks)`,
      parallel: p,
      'emulated download': `${fmt(median(ms))} ms`,
    })),
  );
} finally {
  await browser.close();
  await site.close();
}
