/**
 * @module images
 * Image inputs. On the page: any source the browser can draw becomes an ImageBitmap at the
 * model's height × width (resized by the browser when asked), moved to the worker; an ImageData
 * of the right size travels as its RGBA bytes, untouched. The worker reads them (image-pixels.ts).
 * Channels follow tf.browser.fromPixels: 1 = red, 3 = RGB, 4 = RGBA.
 */
import type { IoTensor } from '@modelfleet/protocol';
import { SdkError } from './errors.ts';
import {
  type ImageOptions,
  type ImageSource,
  type SourcePixels,
  type WireImages,
  type WirePixels,
  formatShape,
} from './tensors.ts';

const has = (name: string): boolean => typeof (globalThis as Record<string, unknown>)[name] === 'function';
const is = (v: unknown, name: string): boolean =>
  has(name) && v instanceof ((globalThis as Record<string, unknown>)[name] as new () => unknown);

const SOURCE_TYPES = [
  'ImageData',
  'ImageBitmap',
  'HTMLImageElement',
  'HTMLCanvasElement',
  'HTMLVideoElement',
  'OffscreenCanvas',
  'VideoFrame',
];

// A boolean, not a type guard: where the DOM's element types are bare (WebWorker lib) every object
// would match ImageSource, and narrowing on it would leave `never` behind.
export const isImageSource = (v: unknown): boolean =>
  !!v && typeof v === 'object' && SOURCE_TYPES.some((t) => is(v, t));

/** The size the source will be drawn at; refuses sources with nothing to draw yet. */
function sizeOf(name: string, src: ImageSource): { width: number; height: number } {
  if (is(src, 'HTMLImageElement')) {
    // Structural: this package compiles against the WebWorker lib, where the DOM types are bare.
    const img = src as unknown as { complete: boolean; naturalWidth: number; naturalHeight: number };
    if (!img.complete || img.naturalWidth === 0)
      throw new SdkError(
        'input_value',
        `image for input ${name} has not loaded (or failed to); await img.decode() before predict`,
      );
    return { width: img.naturalWidth, height: img.naturalHeight };
  }
  if (is(src, 'HTMLVideoElement')) {
    const video = src as unknown as { readyState: number; videoWidth: number; videoHeight: number };
    // HAVE_CURRENT_DATA: a frame exists to draw.
    if (video.readyState < 2 || video.videoWidth === 0)
      throw new SdkError('input_value', `video for input ${name} has no frame yet; wait for its 'loadeddata' event`);
    return { width: video.videoWidth, height: video.videoHeight };
  }
  if (is(src, 'VideoFrame')) {
    const frame = src as VideoFrame;
    return { width: frame.displayWidth, height: frame.displayHeight };
  }
  return { width: (src as { width: number }).width, height: (src as { height: number }).height };
}

/** `mean`/`std` spread over the channels; refuses a wrong count or a zero std. */
function perChannel(
  name: string,
  what: 'mean' | 'std',
  value: number | readonly number[] | undefined,
  channels: number,
  fallback: number,
): number[] {
  if (value === undefined) return Array(channels).fill(fallback);
  const values = typeof value === 'number' ? Array(channels).fill(value) : [...value];
  if (values.length !== channels || !values.every(Number.isFinite) || (what === 'std' && values.some((v) => v === 0))) {
    throw new SdkError(
      'bad_input',
      `image ${what} for input ${name} must be one finite number or ${channels} (one per channel)${what === 'std' ? ', none zero' : ''}; got ${JSON.stringify(value)}`,
    );
  }
  return values;
}

/** Height, width and channels an image input takes; null height/width = any (the image's own). */
function imageGeometry(spec: IoTensor): {
  batch: number | null;
  height: number | null;
  width: number | null;
  channels: number;
} {
  const [batch, height, width, channels] = spec.shape;
  if (spec.shape.length !== 4 || (channels !== null && channels !== 1 && channels !== 3 && channels !== 4)) {
    throw new SdkError(
      'input_shape',
      `input ${spec.name} is ${formatShape(spec.shape)}; images need a [batch, height, width, channels] input with 1, 3 or 4 channels`,
    );
  }
  return { batch: batch ?? null, height: height ?? null, width: width ?? null, channels: channels ?? 3 };
}

type Size = { width: number; height: number };
type Geometry = ReturnType<typeof imageGeometry>;
/** What travels to the worker; filled as the images are read, so a failure part-way can close what was made. */
type Packed = { images: WirePixels[]; transfer: Transferable[] };

/** Refuses a batch of the wrong length, and mean/std on an input that takes raw pixel values. */
function checkBatch(spec: IoTensor, g: Geometry, count: number, o: ImageOptions): void {
  if (g.batch !== null && count !== g.batch) {
    throw new SdkError(
      'input_shape',
      `input ${spec.name} takes a batch of ${g.batch} image(s) ${formatShape(spec.shape)}; got ${count}`,
    );
  }
  if (spec.dtype !== 'float32' && (o.mean !== undefined || o.std !== undefined)) {
    throw new SdkError(
      'bad_input',
      `input ${spec.name} is ${spec.dtype}: it takes raw 0–255 pixel values; drop image.mean / image.std`,
    );
  }
}

/**
 * The size the whole batch travels at: the model's fixed one, else the first image's. Checked
 * before any bitmap is made, so a refused batch costs no decoding.
 */
function batchSize(spec: IoTensor, g: Geometry, sizes: Size[], o: ImageOptions): Size {
  const first = sizes[0]!;
  const height = g.height ?? first.height;
  const width = g.width ?? first.width;
  const resize = o.resize ?? 'stretch';
  sizes.forEach((s, i) => {
    if (s.width === width && s.height === height) return;
    const fixed = g.height !== null && g.width !== null;
    if (!fixed)
      throw new SdkError(
        'input_shape',
        `images in one batch for input ${spec.name} must share a size: image 0 is ${first.width}×${first.height}, image ${i} is ${s.width}×${s.height}`,
      );
    if (resize === false) {
      throw new SdkError(
        'input_shape',
        `image ${i} for input ${spec.name} is ${s.width}×${s.height}; the model takes ${width}×${height} — resize it, or allow image: { resize: 'stretch' }`,
      );
    }
  });
  return { width, height };
}

/** One image at the batch's size: an ImageData that already fits as its bytes, anything else as a bitmap. */
async function packImage(
  src: ImageSource,
  size: Size,
  target: Size,
  o: ImageOptions,
  measure: boolean,
  out: Packed,
): Promise<void> {
  const same = size.width === target.width && size.height === target.height;
  if (same && is(src, 'ImageData')) {
    // The bytes as given: no decode, no colour conversion, exactly what tf.browser.fromPixels reads.
    const rgba = new Uint8ClampedArray((src as ImageData).data);
    out.images.push({ rgba, width: target.width, height: target.height });
    out.transfer.push(rgba.buffer);
    return;
  }
  const resized = {
    resizeWidth: target.width,
    resizeHeight: target.height,
    resizeQuality: o.resizeQuality ?? 'medium',
  };
  const bitmap = await createImageBitmap(src as ImageBitmapSource, {
    premultiplyAlpha: 'none',
    ...(same ? {} : resized),
  });
  const pixels: WirePixels = { bitmap };
  out.images.push(pixels);
  out.transfer.push(bitmap);
  // The worker measures the source, not the resized copy (a second read of a live video may be a later frame).
  if (measure && !same) pixels.source = await sourcePixels(src, size, out);
}

/** The source at its own size, for measuring: an ImageData as its bytes, anything else as a fresh bitmap. */
async function sourcePixels(src: ImageSource, size: Size, out: Packed): Promise<SourcePixels> {
  if (is(src, 'ImageData')) {
    const rgba = new Uint8ClampedArray((src as ImageData).data);
    out.transfer.push(rgba.buffer);
    return { rgba, width: size.width, height: size.height };
  }
  const bitmap = await createImageBitmap(src as ImageBitmapSource, { premultiplyAlpha: 'none' });
  out.transfer.push(bitmap);
  return { bitmap };
}

/** Bitmaps hold decoded pixels until closed; a batch that fails part-way must not leave them to the GC. */
function closeBitmaps(images: WirePixels[]): void {
  for (const p of images) {
    if ('bitmap' in p) p.bitmap.close();
    if (p.source && 'bitmap' in p.source) p.source.bitmap.close();
  }
}

/**
 * Packs a batch of images for one input. Sizes are checked before any bitmap is made.
 * `measure`: the baseline declares statistics of this input; a resized image then also travels
 * at its own size, since the statistics are of the source (protocol input-stats.ts).
 * @example const { wire, transfer } = await fromImages(spec, [video], { mean: 127.5, std: 127.5 });
 */
export async function fromImages(
  spec: IoTensor,
  sources: ImageSource[],
  o: ImageOptions,
  measure = false,
): Promise<{ wire: WireImages; transfer: Transferable[] }> {
  const g = imageGeometry(spec);
  checkBatch(spec, g, sources.length, o);
  const mean = perChannel(spec.name, 'mean', o.mean, g.channels, 0);
  const std = perChannel(spec.name, 'std', o.std, g.channels, 1);
  const sizes = sources.map((s) => sizeOf(spec.name, s));
  const { width, height } = batchSize(spec, g, sizes, o);
  if (!has('createImageBitmap'))
    throw new SdkError(
      'bad_input',
      'image inputs need createImageBitmap (a browser page or worker); pass { data, shape } instead',
    );

  const out: Packed = { images: [], transfer: [] };
  try {
    for (const [i, src] of sources.entries()) await packImage(src, sizes[i]!, { width, height }, o, measure, out);
  } catch (e) {
    closeBitmaps(out.images);
    if (e instanceof SdkError) throw e;
    throw new SdkError(
      'input_value',
      `image for input ${spec.name} could not be read (${(e as Error).message}); is it loaded, decodable and same-origin or CORS-enabled?`,
      e,
    );
  }
  return {
    wire: {
      kind: 'images',
      name: spec.name,
      dtype: spec.dtype,
      shape: [sources.length, height, width, g.channels],
      images: out.images,
      mean,
      std,
      ...(measure ? { measure } : {}),
    },
    transfer: out.transfer,
  };
}
