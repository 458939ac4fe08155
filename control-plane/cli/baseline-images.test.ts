// `modelfleet baseline --images <dir> --input <name>`: an image model's baseline from a directory
// of JPEG/PNG files — 40 scenes made here by test/fixtures/images.ts (PNG and JPEG, encoded with
// pngjs and jpeg-js), plus four real files shipped in node_modules (three JPEG screenshots from
// @react-native/debugger-frontend, playwright-core's PNG app icon with alpha). The numbers are the
// device's: the worker's code path, given the same decoded pixels, computes them bit for bit.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Baseline, IMAGE_STATS, type ImageStat, imageStats, sketchNumeric } from '@modelfleet/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { imagePixels } from '../../web-sdk/src/image-pixels.ts';
import { type InputStats, measureImage } from '../../web-sdk/src/input-measure.ts';
import { ROOT } from '../../test/harness/bundle.ts';
import { writeScenes } from '../../test/fixtures/images.ts';
import { decodeImage, listImages } from './commands/image-stats.ts';
import { run } from './main.ts';

const dir = mkdtempSync(join(tmpdir(), 'mf-baseline-images-'));
const REAL = [
  'node_modules/@react-native/debugger-frontend/dist/third-party/front_end/Images/react_native/learn-react-native-devtools.jpg',
  'node_modules/@react-native/debugger-frontend/dist/third-party/front_end/Images/react_native/learn-debugging-basics.jpg',
  'node_modules/@react-native/debugger-frontend/dist/third-party/front_end/Images/react_native/learn-native-debugging.jpg',
  'node_modules/playwright-core/lib/server/chromium/appIcon.png',
];

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { stdout: (l) => out.push(l), stderr: (l) => err.push(l), cwd: dir, env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The device's path: RGBA bytes as the worker reads them (an ImageData's), measured on the way to the tensor. */
function deviceStats(image: { width: number; height: number; data: Uint8Array }): Record<string, number> {
  const stats: InputStats = [];
  const rgba = new Uint8ClampedArray(image.data);
  imagePixels(
    {
      kind: 'images',
      name: 'image',
      dtype: 'float32',
      shape: [1, image.height, image.width, 3],
      images: [{ rgba, width: image.width, height: image.height }],
      mean: [0, 0, 0],
      std: [255, 255, 255],
      measure: true,
    },
    measureImage(stats, 'image'),
  );
  return stats[0]!;
}

beforeAll(() => {
  writeScenes(join(dir, 'train', 'outdoor'), 40, { mixed: true });
  mkdirSync(join(dir, 'train', 'real'), { recursive: true });
  REAL.forEach((p, i) =>
    copyFileSync(join(ROOT, p), join(dir, 'train', 'real', `real-${i}${p.slice(p.lastIndexOf('.'))}`)),
  );
  for (let i = 0; i < 20; i++) writeScenes(join(dir, 'fixed'), 1, { from: i * 80 }); // scenes 0, 80, 160…: all 200×180
  writeFileSync(
    join(dir, 'preds.jsonl'),
    Array.from({ length: 44 }, (_, i) => JSON.stringify([1 - (i % 10) / 10, (i % 10) / 10])).join('\n'),
  );
  mkdirSync(join(dir, 'empty'));
  mkdirSync(join(dir, 'broken'));
  writeFileSync(join(dir, 'broken', 'x.png'), 'not a png');
}, 60_000);

describe('modelfleet baseline --images', () => {
  it('builds every declared statistic of a directory of JPEG and PNG files as a numeric feature, with output deciles', async () => {
    const r = await cli(
      'baseline',
      '--images',
      'train',
      '--input',
      'image',
      '--predictions',
      'preds.jsonl',
      '--out',
      'baseline.json',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('baseline: 44 images, @input.image.mean_r (10 bins)');
    const b = Baseline.parse(JSON.parse(readFileSync(join(dir, 'baseline.json'), 'utf8')));
    expect(b.features.map((f) => f.name)).toEqual(IMAGE_STATS.map((s) => `@input.image.${s}`));
    expect(b.outputs!.classCounts).toHaveLength(2);
    const files = listImages(join(dir, 'train'));
    expect(files.filter((f) => f.endsWith('.jpg'))).toHaveLength(23); // 20 made + 3 real
    const device = files.map((f) => deviceStats(decodeImage(f)));
    const at = (s: ImageStat) =>
      b.features.find((f) => f.name === `@input.image.${s}`) as { edges: number[]; pit: [number, number][] };
    for (const s of IMAGE_STATS) {
      const values = device.map((d) => d[`@input.image.${s}`]!);
      // The extreme edges are the extreme values: the baseline holds the device's numbers exactly
      // (as float32, like every baseline value: the sketch takes values as float32 too).
      expect(at(s).edges[0], s).toBe(Math.fround(Math.min(...values)));
      expect(at(s).edges.at(-1), s).toBe(Math.fround(Math.max(...values)));
      // The training images, sketched as a device would against their own baseline, fill the bins about evenly.
      const sketch = sketchNumeric(values, at(s).edges, at(s).pit)!;
      expect(sketch.bins[0]! + sketch.bins.at(-2)! + sketch.bins.at(-1)!, s).toBe(0); // nothing under, over or missing
      for (const h of sketch.bins.slice(1, -3)) expect(h / 4096, s).toBeLessThan(0.25);
    }
    expect(Math.max(...at('width').edges)).toBeGreaterThan(279); // the real screenshots are wider than any scene
  }, 60_000);

  it('the CLI and the device agree bit for bit on the same decoded pixels', () => {
    for (const f of listImages(join(dir, 'train'))) {
      const image = decodeImage(f);
      const cli = imageStats(image.data, image.width, image.height);
      const device = deviceStats(image);
      for (const s of IMAGE_STATS) expect(Object.is(device[`@input.image.${s}`], cli[s]), `${f} ${s}`).toBe(true);
    }
  });

  it('leaves a statistic that is constant over the images out, with a warning; --stats picks some', async () => {
    const r = await cli('baseline', '--images', 'train/outdoor', '--input', 'image', '--stats', 'brightness,width');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).features.map((f: { name: string }) => f.name)).toEqual([
      '@input.image.brightness',
      '@input.image.width',
    ]);
    const fixed = await cli(
      'baseline',
      '--images',
      'fixed',
      '--input',
      'image',
      '--stats',
      'width,height,brightness',
      '--bins',
      '5',
    );
    expect(fixed.code, fixed.err).toBe(0);
    expect(fixed.err).toMatch(
      /warning: width is 200 on every image: not monitored[\s\S]*warning: height is 180 on every image/,
    );
    expect(JSON.parse(fixed.out).features.map((f: { name: string }) => f.name)).toEqual(['@input.image.brightness']);
  }, 60_000);

  it('refuses bad input with coded errors', async () => {
    const cases: [string[], string, number][] = [
      [['baseline', '--images', 'train'], 'error bad_request: --images needs --input <name>', 2],
      [
        ['baseline', 'x.csv', '--images', 'train', '--input', 'image'],
        'error bad_request: --images builds the baseline from images',
        2,
      ],
      [['baseline', '--images', 'train', '--input', 'image', '--stats', 'hue'], 'error bad_request: --stats takes', 2],
      [['baseline', '--images', 'train', '--input', 'image', '--bins', '1'], 'error bad_request: --bins', 2],
      [['baseline', '--images', 'nowhere', '--input', 'image'], 'error file_not_found: --images nowhere', 3],
      [['baseline', '--images', 'empty', '--input', 'image'], 'error no_images', 3],
      [
        ['baseline', '--images', 'broken', '--input', 'image'],
        'error bad_image: --images broken: x.png could not be decoded',
        3,
      ],
      [['baseline'], 'error bad_request: give the training data', 2],
      [['baseline', 'train.csv'], 'error bad_request: --schema <file> is required', 2],
    ];
    for (const [argv, message, code] of cases) {
      const r = await cli(...argv);
      expect([r.code, r.err], argv.join(' ')).toEqual([code, expect.stringContaining(message)]);
    }
  });
});
