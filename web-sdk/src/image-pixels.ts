/**
 * @module image-pixels
 * Worker side of image inputs (images.ts packs them on the page): pixels read on an
 * OffscreenCanvas and laid out as [batch, height, width, channels], normalised for float inputs.
 * Imports nothing but tensors.ts, so the worker bundle stays free of the protocol's schemas.
 * A measured input hands each image's source pixels to `measure` (input-measure.ts).
 */
import { type SourcePixels, type WireImages, arrayFor } from './tensors.ts';

let canvas: OffscreenCanvas | undefined;
let context: OffscreenCanvasRenderingContext2D | undefined;

/** RGBA bytes of one image, drawn on a reused OffscreenCanvas (the bitmap is closed after). */
function rgbaOf(p: SourcePixels, width: number, height: number): Uint8ClampedArray {
  if ('rgba' in p) return p.rgba;
  if (!canvas || !context) {
    canvas = new OffscreenCanvas(width, height);
    context = canvas.getContext('2d', { willReadFrequently: true }) ?? undefined;
    if (!context) throw new Error('no 2d context on an OffscreenCanvas here: image inputs cannot be read');
  }
  if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
  context.globalCompositeOperation = 'copy'; // replace, do not blend with the previous image
  context.drawImage(p.bitmap, 0, 0);
  p.bitmap.close();
  return context.getImageData(0, 0, width, height).data;
}

/**
 * Worker side: the batch as one [n, h, w, c] array in the input's dtype, `(pixel − mean) / std`
 * per channel for float inputs.
 */
export function imagePixels(
  w: WireImages,
  measure?: (image: number, rgba: Uint8ClampedArray, width: number, height: number) => void,
): Float32Array | Int32Array | Uint8Array {
  const [n, height, width, channels] = w.shape;
  const pixels = height * width;
  const out = arrayFor(w.dtype, n * pixels * channels);
  const float = w.dtype === 'float32';
  for (const [i, p] of w.images.entries()) {
    const rgba = rgbaOf(p, width, height);
    if (rgba.length !== pixels * 4)
      throw new Error(`image ${i} of input ${w.name} has ${rgba.length / 4} pixels, expected ${width}×${height}`);
    if (p.source) {
      // Resized on the page: the statistics are of the source at its own size, read (and closed) here.
      const s = p.source;
      const [sw, sh] = 'rgba' in s ? [s.width, s.height] : [s.bitmap.width, s.bitmap.height];
      const source = rgbaOf(s, sw, sh);
      measure?.(i, source, sw, sh);
    } else measure?.(i, rgba, width, height);
    let at = i * pixels * channels;
    for (let px = 0; px < pixels; px++) {
      for (let c = 0; c < channels; c++) {
        const v = rgba[px * 4 + c]!;
        out[at++] = float ? (v - w.mean[c]!) / w.std[c]! : v;
      }
    }
  }
  return out;
}
