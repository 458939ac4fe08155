// Monitoring an image model end to end, with a real third-party model (nsfwjs's MobileNetV2,
// test/fixtures/real-models.ts): `modelfleet baseline --images` summarises 400 training images
// (made by test/fixtures/images.ts, PNG and JPEG) into declared statistics, `publish --baseline`
// signs them in; SDK clients in Chromium predict on <img> elements of other images like them
// (model "steady") and on the same images darkened to half exposure (model "dark"), their workers
// measure each source image, and the sketches carry only the @input statistics. Closing the
// window: "dark" alarms on brightness, never on width or height; "steady" does not alarm.
// The worker's numbers equal the CLI's bit for bit on the same PNG files (lossless: both decoders
// give the same pixels); JPEG decoders (Chromium's, jpeg-js) may differ by rounding.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMAGE_STATS, imageStats, windowOf } from '@modelfleet/protocol';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeImage } from '../../control-plane/cli/commands/image-stats.ts';
import { encodeJpeg, encodePng, scene, writeScenes } from '../fixtures/images.ts';
import { realModelDir } from '../fixtures/real-models.ts';
import { runCli } from '../harness/cli.ts';
import { type TestWorker, startWorker } from '../harness/worker.ts';
import { launchChromium } from './chromium.ts';
import { type StaticServer, startStaticServer } from './server.ts';

const DEVICES = 30; // ε = 50/day as the tabular drift test; brightness p was 4e-4 with 20 devices (the bar: 1e-3 per feature), 3e-6 with 30
const PER_DEVICE = 10; // MIN_SAMPLES: each image gives one value per statistic
const TIMED = 3; // devices that also run the unmonitored copy, to time what measuring adds
const INPUT = 'input_1'; // the Keras input layer's name, as the signed io signature carries it
let worker: TestWorker;
let site: StaticServer;
let browser: Browser;
let appKey: string;
let cwd: string;
const cli = (...argv: string[]) => runCli(worker, cwd, ...argv);

/** Device d's images: 1000 + d × PER_DEVICE + j, every other one JPEG; URLs served by the static server. */
const deviceImage = (d: number, j: number) => 1000 + d * PER_DEVICE + j;
const urlOf = (i: number, gain: number) => `/scenes/${gain}/${i}.${i % 2 ? 'jpg' : 'png'}`;

beforeAll(async () => {
  const modelDir = realModelDir('nsfw-mobilenet-v2');
  [worker, site, browser] = await Promise.all([
    startWorker({ http: true, vars: { DRIFT_MIN_DEVICES: String(DEVICES), DRIFT_EPSILON_PER_DAY: '50' } }),
    startStaticServer(),
    launchChromium(),
  ]);
  cwd = mkdtempSync(join(tmpdir(), 'modelfleet-image-drift-'));
  writeScenes(join(cwd, 'train'), 400, { mixed: true }); // the baseline's own sampling error is part of every test: 400 keeps it small
  const b = await cli('baseline', '--images', 'train', '--input', INPUT, '--out', 'baseline.json');
  expect(b.code, b.err).toBe(0);
  for (const model of ['steady', 'dark']) {
    const r = await cli(
      'publish',
      modelDir,
      '--model',
      model,
      '--create',
      '--alias',
      'champion',
      '--baseline',
      'baseline.json',
    );
    expect(r.code, r.err).toBe(0);
  }
  const plain = await cli('publish', modelDir, '--model', 'plain', '--create', '--alias', 'champion'); // no baseline: nothing measured
  expect(plain.code, plain.err).toBe(0);
  for (let d = 0; d < DEVICES; d++) {
    for (let j = 0; j < PER_DEVICE; j++) {
      const i = deviceImage(d, j);
      for (const gain of [1, 0.5]) {
        const img = scene(i, gain);
        site.files.set(urlOf(i, gain), i % 2 ? encodeJpeg(img) : encodePng(img));
      }
    }
  }
  appKey = (
    (await (await worker.api('/v1/apps', { method: 'POST', json: { name: 'images', models: ['*'] } })).json()) as {
      appKey: string;
    }
  ).appKey;
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await worker?.dispose();
});

it('devices measure their images; darkened images alarm on brightness, not on width or height', async () => {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`[image-drift] ${e.message}`));
  await page.goto(`${site.url}/image-drift.html`);
  await page.waitForFunction(() => (globalThis as unknown as { sdkReady?: boolean }).sdkReady === true);
  const urls = (gain: number) =>
    Array.from({ length: DEVICES }, (_, d) =>
      Array.from({ length: PER_DEVICE }, (_, j) => urlOf(deviceImage(d, j), gain)),
    );
  const out = (await page.evaluate((c) => (globalThis as any).runImageDevices(c), {
    // WASM: MobileNetV2 on 240 images is minutes on the plain-JS CPU backend with two shared cores.
    endpoint: worker.url,
    appKey,
    trustRoot: worker.rootEnvelope,
    devices: DEVICES,
    backend: 'wasm',
    plan: { steady: urls(1), dark: urls(0.5), plain: urls(1).slice(0, TIMED) },
  })) as {
    report: { device: string; telemetry: { sent: number; queued: number } }[];
    measured: Record<string, Record<string, number>[] | null>;
    ms: Record<string, number>;
  };

  expect(new Set(out.report.map((r) => r.device)).size).toBe(DEVICES);
  // Two sketches (steady, dark) and a health record per model run (plain has no baseline, so no sketch).
  out.report.forEach((r, d) => expect(r.telemetry).toMatchObject({ sent: d < TIMED ? 5 : 4, queued: 0 }));
  expect(out.measured.plain).toBeNull(); // no baseline: the worker measures nothing

  // What the worker measured, per source image, against the CLI's numbers on the same files.
  const steady = out.measured.steady!;
  expect(steady).toHaveLength(PER_DEVICE);
  let jpegGap = 0;
  const signedGap: Record<string, number> = {}; // device − CLI, summed over the JPEG files: a decoder bias would show here
  for (let j = 0; j < PER_DEVICE; j++) {
    const i = deviceImage(0, j);
    const file = join(cwd, `device-${i}.${i % 2 ? 'jpg' : 'png'}`);
    writeFileSync(file, site.files.get(urlOf(i, 1)) as Buffer);
    const image = decodeImage(file);
    const cliStats = imageStats(image.data, image.width, image.height);
    expect(Object.keys(steady[j]!).sort()).toEqual(IMAGE_STATS.map((s) => `@input.${INPUT}.${s}`).sort());
    for (const s of IMAGE_STATS) {
      const device = steady[j]![`@input.${INPUT}.${s}`]!;
      if (i % 2 === 0)
        expect(Object.is(device, cliStats[s]), `PNG ${i} ${s}: device ${device}, CLI ${cliStats[s]}`).toBe(true);
      else {
        jpegGap = Math.max(jpegGap, Math.abs(device - cliStats[s]));
        signedGap[s] = (signedGap[s] ?? 0) + (device - cliStats[s]) / (PER_DEVICE / 2);
      }
    }
    // The source size, not the model's 224×224.
    expect([steady[j]![`@input.${INPUT}.width`], steady[j]![`@input.${INPUT}.height`]]).toEqual([
      image.width,
      image.height,
    ]);
  }
  expect(jpegGap).toBeLessThan(2); // two JPEG decoders: rounding, not a different picture

  const today = windowOf(new Date());
  const verdicts: Record<
    string,
    {
      alarm: boolean;
      verdict: { features: { name: string; alarm: boolean; p?: number; effects?: { sigmaShift?: number } }[] };
    }
  > = {};
  for (const model of ['steady', 'dark']) {
    const open = (await (await worker.api(`/v1/models/${model}/versions/1/sketches/${today}`)).json()) as {
      devices: number;
    };
    expect(open.devices).toBe(DEVICES);
    const closed = await worker.api(`/v1/models/${model}/versions/1/sketches/${today}/close`, { method: 'POST' });
    expect(closed.status).toBe(200);
    verdicts[model] = (await closed.json()) as (typeof verdicts)[string];
  }
  const summary = (m: string) =>
    verdicts[m]!.verdict.features.map(
      (f) =>
        `${f.name.replace(`@input.${INPUT}.`, '')}: ${f.alarm ? 'ALARM' : 'ok'} p=${f.p?.toExponential(1)} shift=${f.effects?.sigmaShift?.toFixed(2)}`,
    );
  console.log(
    `[image-drift] median predict of ${PER_DEVICE} images: measured ${out.ms.steady?.toFixed(0)} ms, unmeasured ${out.ms.plain?.toFixed(0)} ms; largest JPEG gap ${jpegGap}, mean signed JPEG gap ${JSON.stringify(signedGap)}\nsteady: ${summary('steady').join('; ')}\ndark: ${summary('dark').join('; ')}`,
  );

  const alarmed = (m: string) => verdicts[m]!.verdict.features.filter((f) => f.alarm).map((f) => f.name);
  expect(verdicts.dark!.alarm).toBe(true);
  expect(alarmed('dark')).toContain(`@input.${INPUT}.brightness`);
  expect(alarmed('dark')).not.toContain(`@input.${INPUT}.width`);
  expect(alarmed('dark')).not.toContain(`@input.${INPUT}.height`);
  expect(verdicts.dark!.verdict.features.map((f) => f.name)).toEqual(IMAGE_STATS.map((s) => `@input.${INPUT}.${s}`));
  expect(verdicts.steady!.alarm).toBe(false);
}, 420_000);
