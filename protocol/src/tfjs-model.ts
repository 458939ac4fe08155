/**
 * @module tfjs-model
 * The TF.js `model.json` as uploaded (layers and graph formats), and the chunk plan: how the
 * concatenated weight bytes are cut into content-addressed chunks aligned to tensor boundaries
 * (docs/architecture.md §4, SPEC 5.1). Client and server compute the same plan from the same weight specs.
 */
import { z } from 'zod';

/**
 * Weight dtypes we publish, and bytes per element. `string` (variable length) and `complex64`
 * are refused for now. A quantized weight is stored as its quantization dtype.
 */
export const WEIGHT_DTYPES = ['float32', 'int32', 'bool'] as const;
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };
const QUANT_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

export const WeightSpec = z.looseObject({
  name: z.string().min(1),
  shape: z.array(z.number().int().min(0)).max(8),
  dtype: z.string().min(1),
  quantization: z
    .looseObject({
      dtype: z.enum(['uint8', 'uint16', 'float16']),
      scale: z.number().optional(),
      min: z.number().optional(),
    })
    .optional(),
});
export type WeightSpec = z.infer<typeof WeightSpec>;

export const TfjsModelJson = z.looseObject({
  modelTopology: z.record(z.string(), z.unknown()),
  format: z.string().optional(),
  generatedBy: z.string().optional(),
  convertedBy: z.string().nullable().optional(),
  signature: z.record(z.string(), z.unknown()).optional(),
  userDefinedMetadata: z.record(z.string(), z.unknown()).optional(),
  modelInitializer: z.record(z.string(), z.unknown()).optional(),
  weightsManifest: z
    .array(z.looseObject({ paths: z.array(z.string().min(1)).min(1), weights: z.array(WeightSpec) }))
    .min(1),
});
export type TfjsModelJson = z.infer<typeof TfjsModelJson>;

export class TfjsModelError extends Error {
  override readonly name = 'TfjsModelError';
  constructor(
    readonly code: 'malformed_model_json' | 'unsupported_dtype',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Bytes one weight occupies in the concatenated buffer (quantized weights: their stored dtype).
 * @example tensorByteLength({ name: 'dense/kernel', shape: [4, 8], dtype: 'float32' }) // 128
 */
export function tensorByteLength(spec: WeightSpec): number {
  if (!(WEIGHT_DTYPES as readonly string[]).includes(spec.dtype)) {
    const why = spec.dtype === 'string' ? 'string tensors have no fixed size' : 'TF.js cannot decode it as a weight';
    throw new TfjsModelError(
      'unsupported_dtype',
      `weight ${spec.name} has dtype ${spec.dtype} (${why}); supported: ${WEIGHT_DTYPES.join(', ')}, optionally quantized to uint8, uint16 or float16`,
    );
  }
  const perElement = spec.quantization ? QUANT_BYTES[spec.quantization.dtype]! : DTYPE_BYTES[spec.dtype]!;
  const bytes = spec.shape.reduce((n, d) => n * d, 1) * perElement;
  if (!Number.isSafeInteger(bytes))
    throw new TfjsModelError(
      'malformed_model_json',
      `weight ${spec.name} has shape [${spec.shape.join(',')}], too large to be a weight`,
    );
  return bytes;
}

/** All weight specs in buffer order (manifest groups in order, weights in order within each). */
export function weightSpecsOf(modelJson: TfjsModelJson): WeightSpec[] {
  const specs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.name))
      throw new TfjsModelError('malformed_model_json', `weight ${s.name} appears twice in weightsManifest`);
    seen.add(s.name);
  }
  return specs;
}

/** model.json minus its weightsManifest: the part a manifest embeds. */
export function modelJsonWithoutWeights(modelJson: TfjsModelJson): Record<string, unknown> {
  const { weightsManifest: _weights, ...rest } = modelJson;
  return rest;
}

export type PlannedTensor = {
  name: string;
  dtype: string;
  shape: number[];
  quantization?: WeightSpec['quantization'];
  offset: number;
  size: number;
  chunks: number[];
};

export interface ChunkPlan {
  totalBytes: number;
  chunks: { offset: number; size: number }[];
  tensors: PlannedTensor[];
}

export const DEFAULT_MAX_CHUNK_BYTES = 4 * 2 ** 20;
/**
 * The packing target (SPEC 5.1), chosen by `npm run bench:chunks`: under 40 ms RTT / 20 Mbit/s
 * the download time is flat from 64 KiB to 2 MiB; larger chunks save the device per-request work
 * (movenet on loopback: 166 ms at 256 KiB, 122 ms at 512 KiB, 76 ms for one file), but 256 KiB is
 * the largest target at which a last-layer change stayed small on every model measured
 * (nsfw-mobilenet-v2's head: 34 KiB re-sent at 256 KiB, 404 KiB at 512 KiB, 896 KiB at 1 MiB).
 */
export const DEFAULT_PACK_BYTES = 256 * 2 ** 10;

/**
 * SPEC 5.1. Tensors are taken in weight-manifest order. A tensor smaller than `packBytes` joins
 * the open chunk while that stays within `packBytes`, whatever its name (converted graph models
 * rarely share a layer prefix between neighbours, so packing by layer left movenet in 125
 * chunks, 32 of them ≤ 16 bytes); otherwise it opens a new one. A tensor of `packBytes` or more
 * gets chunks of its own, split every `maxChunkBytes`, and closes the open chunk. Boundaries
 * depend on sizes and order only, never on values: a retrain that changes values re-sends only
 * the chunks holding the changed tensors, and one that reshapes the last layers leaves every
 * chunk before the one they start in as it was. Zero-byte tensors occupy no chunk.
 */
export function planChunks(specs: WeightSpec[], opts: { maxChunkBytes?: number; packBytes?: number } = {}): ChunkPlan {
  const maxChunk = opts.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES;
  const pack = Math.min(opts.packBytes ?? DEFAULT_PACK_BYTES, maxChunk);
  const chunks: ChunkPlan['chunks'] = [];
  const tensors: PlannedTensor[] = [];
  let offset = 0;
  let open: { offset: number; size: number } | null = null; // the packing chunk being filled

  for (const spec of specs) {
    const size = tensorByteLength(spec);
    const indices: number[] = [];
    if (size > 0 && size < pack) {
      if (!open || open.size + size > pack) {
        open = { offset, size: 0 };
        chunks.push(open);
      }
      open.size += size;
      indices.push(chunks.length - 1);
    } else if (size > 0) {
      open = null;
      for (let at = 0; at < size; at += maxChunk) {
        chunks.push({ offset: offset + at, size: Math.min(maxChunk, size - at) });
        indices.push(chunks.length - 1);
      }
    }
    tensors.push({
      name: spec.name,
      dtype: spec.dtype,
      shape: spec.shape,
      ...(spec.quantization ? { quantization: spec.quantization } : {}),
      offset,
      size,
      chunks: indices,
    });
    offset += size;
  }
  return { totalBytes: offset, chunks: chunks.map(({ offset: o, size }) => ({ offset: o, size })), tensors };
}
