/**
 * @module inputs
 * Page side of `predict`: binds what the app passed to the model's signed input signature,
 * checks rank, shape and dtype before anything runs, and packs each input for the worker —
 * typed arrays moved without a copy, nested arrays flattened once, images turned into bitmaps
 * (images.ts). Every refusal is an SdkError naming the input, what the model takes and what
 * was given; nothing reaches the worker then, so the model keeps serving.
 */
import type { IoSchema, IoTensor } from '@modelfleet/protocol';
import { SdkError } from './errors.ts';
import { fromImages, isImageSource } from './images.ts';
import {
  type Dtype,
  type ImageSource,
  type InputValue,
  type Inputs,
  type NestedArray,
  type PredictOptions,
  type TensorData,
  type TensorInput,
  type WireInput,
  type WireTensor,
  arrayFor,
  formatShape,
  shapeSize,
} from './tensors.ts';

export interface PreparedInputs {
  wire: WireInput[];
  /** Buffers and bitmaps to move to the worker. */
  transfer: Transferable[];
}

const isTensorInput = (v: unknown): v is TensorInput =>
  !!v &&
  typeof v === 'object' &&
  ArrayBuffer.isView((v as TensorInput).data) &&
  Array.isArray((v as TensorInput).shape);

const isInputValue = (v: unknown): v is InputValue => Array.isArray(v) || isTensorInput(v) || isImageSource(v);

const names = (io: IoSchema) => io.inputs.map((i) => i.name).join(', ');

/** Which value feeds which input: a bare value for a single-input model, else a record by name. */
function bind(io: IoSchema, input: Inputs): Map<IoTensor, InputValue> {
  if (isInputValue(input)) {
    if (io.inputs.length === 1) return new Map([[io.inputs[0]!, input]]);
    throw new SdkError(
      'input_missing',
      `the model takes ${io.inputs.length} inputs (${names(io)}); pass them by name: { ${io.inputs.map((i) => `${i.name}: …`).join(', ')} }`,
    );
  }
  if (!input || typeof input !== 'object') {
    throw new SdkError(
      'bad_input',
      `predict takes nested arrays, { data, shape }, an image, or inputs by name (${names(io)}); got ${input === null ? 'null' : typeof input}`,
    );
  }
  const given = input as Record<string, InputValue>;
  const unknown = Object.keys(given).filter((k) => !io.inputs.some((i) => i.name === k));
  if (unknown.length > 0)
    throw new SdkError('input_unknown', `the model has no input ${unknown.join(', ')}; its inputs are ${names(io)}`);
  const bound = new Map<IoTensor, InputValue>();
  for (const spec of io.inputs) {
    const v = given[spec.name];
    if (v === undefined)
      throw new SdkError('input_missing', `input ${spec.name} is missing; the model takes ${names(io)}`);
    if (!isInputValue(v))
      throw new SdkError(
        'bad_input',
        `input ${spec.name} must be nested arrays, { data, shape } or an image source; got ${typeof v}`,
      );
    bound.set(spec, v);
  }
  return bound;
}

/**
 * The given shape, with a batch of one added when it lacks only the batch dimension, checked
 * against the signature: same rank, every fixed dimension equal.
 */
export function fitShape(spec: IoTensor, given: readonly number[]): number[] {
  const shape =
    given.length === spec.shape.length - 1 && (spec.shape[0] === null || spec.shape[0] === 1)
      ? [1, ...given]
      : [...given];
  if (shape.length !== spec.shape.length) {
    throw new SdkError(
      'input_shape',
      `input ${spec.name} takes rank ${spec.shape.length} ${formatShape(spec.shape)}; got rank ${given.length} ${formatShape(given)}`,
    );
  }
  const bad = spec.shape.findIndex((d, i) => d !== null && d !== shape[i]);
  if (bad >= 0) {
    throw new SdkError(
      'input_shape',
      `input ${spec.name} takes ${formatShape(spec.shape)}; got ${formatShape(shape)} (dimension ${bad} is ${shape[bad]}, the model takes ${spec.shape[bad]})`,
    );
  }
  return shape;
}

/** Rows may be typed arrays: `[Float32Array, Float32Array]` is a [2, n] input. */
const isList = (x: unknown): x is ArrayLike<unknown> =>
  Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));

function nestedShape(v: unknown): number[] {
  const shape: number[] = [];
  for (let x: unknown = v; isList(x); x = x[0]) {
    shape.push(x.length);
    if (x.length === 0) break;
  }
  return shape;
}

/** Flattens nested arrays into the input's dtype, refusing ragged arrays and values the dtype cannot hold. */
function fromNested(spec: IoTensor, value: NestedArray[] | TensorData[]): WireTensor {
  const given = nestedShape(value);
  const data = arrayFor(spec.dtype, shapeSize(given));
  let at = 0;
  const walk = (v: unknown, depth: number, path: string) => {
    if (depth < given.length) {
      if (!isList(v) || v.length !== given[depth]) {
        throw new SdkError(
          'input_shape',
          `input ${spec.name} is ragged: ${path || 'the value'} has ${isList(v) ? `${v.length} entries` : 'a number'} where ${given[depth]} were expected`,
        );
      }
      for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${path}[${i}]`);
      return;
    }
    data[at++] = scalar(spec, v as NestedArray, path);
  };
  walk(value, 0, '');
  return { kind: 'tensor', name: spec.name, dtype: spec.dtype, shape: fitShape(spec, given), data };
}

function scalar(spec: IoTensor, v: NestedArray, path: string): number {
  if (spec.dtype === 'bool' && typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'number')
    throw new SdkError(
      'input_value',
      `input ${spec.name}${path} is ${Array.isArray(v) ? 'an array' : typeof v}, expected a number`,
    );
  if (spec.dtype === 'int32' && !(Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31)) {
    throw new SdkError(
      'input_value',
      `input ${spec.name} is int32 but ${spec.name}${path} is ${v}; pass whole numbers`,
    );
  }
  if (spec.dtype === 'bool' && v !== 0 && v !== 1)
    throw new SdkError(
      'input_value',
      `input ${spec.name} is bool but ${spec.name}${path} is ${v}; pass true/false or 0/1`,
    );
  return v;
}

const INTEGER_ARRAYS = ['Int32Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int8Array'];
const CARRIER: Record<Dtype, string> = { float32: 'Float32Array', int32: 'Int32Array', bool: 'Uint8Array' };

/** Which typed arrays convert to a dtype without losing values. */
function accepts(dtype: Dtype, arrayType: string): boolean {
  if (dtype === 'float32') return arrayType === 'Float32Array' || INTEGER_ARRAYS.includes(arrayType);
  if (dtype === 'int32') return INTEGER_ARRAYS.includes(arrayType);
  return arrayType === 'Uint8Array';
}

function isDetached(data: ArrayBufferView): boolean {
  const buffer = data.buffer as ArrayBuffer & { detached?: boolean };
  return (
    buffer.detached === true ||
    (data.byteLength === 0 && buffer.byteLength === 0 && (data as unknown as { length: number }).length === 0)
  );
}

/** A typed tensor: moved as is when its array is the dtype's own and fills its buffer, else converted (a copy). */
function fromTyped(spec: IoTensor, value: TensorInput, transfer: boolean, moved: Transferable[]): WireTensor {
  const { data } = value;
  const arrayType = data.constructor.name;
  if (!value.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new SdkError(
      'input_shape',
      `input ${spec.name}: shape ${JSON.stringify(value.shape)} must list whole, non-negative dimensions`,
    );
  }
  const size = shapeSize(value.shape);
  if (size > 0 && isDetached(data)) {
    throw new SdkError(
      'input_detached',
      `input ${spec.name}: its buffer was already moved to the worker by an earlier predict (zero-copy); pass a fresh array, or predict(x, { transfer: false }) to keep yours`,
    );
  }
  if (!accepts(spec.dtype, arrayType)) {
    throw new SdkError(
      'input_dtype',
      `input ${spec.name} is ${spec.dtype}; got a ${arrayType} — pass a ${CARRIER[spec.dtype]}${spec.dtype === 'int32' ? ' (or a Uint8Array of pixels)' : ''}`,
    );
  }
  if (data.length !== size) {
    throw new SdkError(
      'input_shape',
      `input ${spec.name}: shape ${formatShape(value.shape)} needs ${size} values, data has ${data.length}`,
    );
  }
  const shape = fitShape(spec, value.shape);
  const own = arrayType === CARRIER[spec.dtype];
  const whole =
    data.byteOffset === 0 &&
    data.byteLength === data.buffer.byteLength &&
    !(typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer);
  let wire: Float32Array | Int32Array | Uint8Array;
  if (own && whole && transfer) wire = data as Float32Array | Int32Array | Uint8Array;
  else if (own) wire = (data as Float32Array | Int32Array | Uint8Array).slice();
  else (wire = arrayFor(spec.dtype, size)).set(data);
  moved.push(wire.buffer as ArrayBuffer);
  return { kind: 'tensor', name: spec.name, dtype: spec.dtype, shape, data: wire };
}

/**
 * Checks and packs every input. Throws SdkError (`input_missing`, `input_unknown`, `input_shape`,
 * `input_dtype`, `input_value`, `input_detached`, `bad_input`) before anything is moved.
 * `measure`: inputs whose declared statistics the worker computes (the baseline's @input features).
 *
 * @example
 * const { wire, transfer } = await prepareInputs(io, { data: pixels, shape: [1, 192, 192, 3] });
 */
export async function prepareInputs(
  io: IoSchema,
  input: Inputs,
  options: PredictOptions = {},
  measure?: ReadonlySet<string>,
): Promise<PreparedInputs> {
  const bound = bind(io, input);
  // Check everything first, so that a bad second input never leaves the first one's buffer moved.
  const plans: (() => Promise<WireInput> | WireInput)[] = [];
  const transfer: Transferable[] = [];
  const moved: Transferable[] = [];
  for (const [spec, value] of bound) {
    if (isImageSource(value) || (Array.isArray(value) && value.length > 0 && isImageSource((value as unknown[])[0]))) {
      const sources = (Array.isArray(value) ? value : [value]) as ImageSource[];
      plans.push(async () => {
        const packed = await fromImages(spec, sources, options.image ?? {}, measure?.has(spec.name));
        transfer.push(...packed.transfer);
        return packed.wire;
      });
    } else if (isTensorInput(value)) {
      const wire = fromTyped(spec, value, options.transfer !== false, moved);
      plans.push(() => wire);
    } else {
      const wire = fromNested(spec, value as NestedArray[] | TensorData[]);
      moved.push(wire.data.buffer as ArrayBuffer);
      plans.push(() => wire);
    }
  }
  const wire: WireInput[] = [];
  for (const plan of plans) wire.push(await plan());
  // Declared statistics (@input.<name>.mean/std): the worker measures these tensors per example.
  for (const w of wire) if (w.kind === 'tensor' && measure?.has(w.name)) w.measure = true;
  return { wire, transfer: [...moved, ...transfer] };
}
