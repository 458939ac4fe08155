/**
 * @module tensors
 * What `predict` takes and gives, and the messages that carry them to the inference worker.
 * Platform-free: the page side (inputs.ts, images.ts) and the worker (engine.ts) share it.
 *
 * Inputs: nested arrays of any rank, `{ data, shape }` typed arrays (moved to the worker without
 * a copy), image sources, or a record of those by input name. Outputs: typed arrays with their
 * shape and dtype, moved back from the worker; `toArray` gives nested arrays for small outputs.
 */
import type { IoTensor } from '@modelfleet/protocol';

export type Dtype = IoTensor['dtype'];

/** A number, or nested arrays of numbers (booleans for bool inputs), rectangular. */
export type NestedArray = number | boolean | NestedArray[];

/** Typed arrays accepted as tensor data; each is converted losslessly to the input's dtype. */
export type TensorData =
  | Float32Array
  | Int32Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int8Array;

/** A tensor given as flat data plus its shape. Its buffer moves to the worker (see `transfer`). */
export interface TensorInput {
  data: TensorData;
  shape: readonly number[];
}

declare global {
  // The DOM's element types, named so these types compile against the WebWorker lib too; in an
  // app compiled with the DOM lib they merge with the real interfaces.
  interface HTMLImageElement {}
  interface HTMLCanvasElement {}
  interface HTMLVideoElement {}
}

/** Image sources a browser can turn into an ImageBitmap (read in the worker). */
export type ImageSource =
  | ImageData
  | ImageBitmap
  | HTMLImageElement
  | HTMLCanvasElement
  | HTMLVideoElement
  | OffscreenCanvas
  | VideoFrame;

/** One input: nested arrays (rows may be typed arrays), a typed tensor, one image, or a batch of images. */
export type InputValue = NestedArray[] | TensorData[] | TensorInput | ImageSource | ImageSource[];

/** A value for a single-input model, or values by input name (graph signatures name them). */
export type Inputs = InputValue | Record<string, InputValue>;

export interface ImageOptions {
  /**
   * What to do when an image's size differs from the model's fixed height × width: `'stretch'`
   * (default) resizes it with the browser's own scaler; `false` refuses it (`input_shape`).
   */
  resize?: 'stretch' | false;
  /** createImageBitmap's resizeQuality (default 'medium'). */
  resizeQuality?: 'pixelated' | 'low' | 'medium' | 'high';
  /**
   * Float inputs get `(pixel − mean) / std` per channel, pixels being 0–255 (default mean 0,
   * std 1: raw 0–255). `[0, 1]`: std 255. `[-1, 1]`: mean 127.5, std 127.5. Not for int32 inputs.
   */
  mean?: number | readonly number[];
  std?: number | readonly number[];
}

export interface PredictOptions {
  /** How image inputs are resized and normalised. */
  image?: ImageOptions;
  /**
   * Typed-array inputs are moved to the worker, leaving the caller's buffer detached (zero-copy,
   * default true). Pass false to send a copy and keep using the array.
   */
  transfer?: boolean;
}

export type OutputTensor =
  | { readonly dtype: 'float32'; readonly shape: number[]; readonly data: Float32Array }
  | { readonly dtype: 'int32'; readonly shape: number[]; readonly data: Int32Array }
  | { readonly dtype: 'bool'; readonly shape: number[]; readonly data: Uint8Array };

/** Outputs by output name. */
export type Outputs = Record<string, OutputTensor>;

/** A plain tensor as it crosses to the worker: data already in the input's dtype. */
export interface WireTensor {
  kind: 'tensor';
  name: string;
  dtype: Dtype;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
  /** The baseline declares statistics of this input (@input.<name>.mean/std): the worker measures each example. */
  measure?: boolean;
}

/** Pixels of one image: a bitmap to draw, or RGBA bytes taken from an ImageData. */
export type WirePixels = SourcePixels & {
  /** Only when the input is measured and the image was resized: the source at its own size (statistics are of the source). */
  source?: SourcePixels;
};
export type SourcePixels = { bitmap: ImageBitmap } | { rgba: Uint8ClampedArray; width: number; height: number };

/** A batch of images, already at the size the model takes; the worker reads and normalises them. */
export interface WireImages {
  kind: 'images';
  name: string;
  dtype: Dtype;
  /** [batch, height, width, channels]; channels 1 (red, as tf.browser.fromPixels), 3 (RGB) or 4. */
  shape: [number, number, number, number];
  images: WirePixels[];
  /** Per channel, length `channels`. */
  mean: number[];
  std: number[];
  /** The baseline declares statistics of this input (@input.<name>.brightness, …): the worker measures each image. */
  measure?: boolean;
}

export type WireInput = WireTensor | WireImages;

export const shapeSize = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);

export const formatShape = (shape: readonly (number | null)[]): string => `[${shape.map((d) => d ?? '?').join(',')}]`;

/** The typed array a dtype is carried in. */
export function arrayFor(dtype: Dtype, length: number): Float32Array | Int32Array | Uint8Array {
  return dtype === 'float32'
    ? new Float32Array(length)
    : dtype === 'int32'
      ? new Int32Array(length)
      : new Uint8Array(length);
}

/**
 * Nested arrays shaped like the tensor (bool as 0/1). For small, tabular outputs.
 * @example toArray({ dtype: 'float32', shape: [2, 1], data: new Float32Array([0.1, 0.9]) }) // [[0.1], [0.9]]
 */
export function toArray(t: { shape: readonly number[]; data: ArrayLike<number> }): NestedArray {
  if (t.shape.length === 0) return t.data[0]!;
  const build = (dim: number, offset: number): NestedArray[] => {
    const n = t.shape[dim]!;
    if (dim === t.shape.length - 1) return Array.from({ length: n }, (_, i) => t.data[offset + i]!);
    const stride = shapeSize(t.shape.slice(dim + 1));
    return Array.from({ length: n }, (_, i) => build(dim + 1, offset + i * stride));
  };
  return build(0, 0);
}

/** Every output as nested arrays: `toArrays(await model.predict(x))`. */
export function toArrays(outputs: Outputs): Record<string, NestedArray> {
  return Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, toArray(t)]));
}
