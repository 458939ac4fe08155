/**
 * @module io-schema
 * A model's input/output signature and the golden examples that CI reproduces at publish.
 */
import { z } from 'zod';

export const IoDtype = z.enum(['float32', 'int32', 'bool']);

export const IoTensor = z.object({
  name: z.string().min(1),
  dtype: IoDtype,
  /** null (or -1 in TF.js files) means any size, typically the batch dimension. */
  shape: z.array(z.number().int().min(1).nullable()).max(8),
});
export type IoTensor = z.infer<typeof IoTensor>;

export const IoSchema = z.object({
  inputs: z.array(IoTensor).min(1).max(64),
  outputs: z.array(IoTensor).min(1).max(64),
});
export type IoSchema = z.infer<typeof IoSchema>;

export type NestedNumbers = number | NestedNumbers[];
const isNested = (v: unknown, depth = 0): boolean =>
  (typeof v === 'number' && Number.isFinite(v)) || (depth < 8 && Array.isArray(v) && v.every((x) => isNested(x, depth + 1)));
// A refinement rather than z.lazy: recursive schemas send OpenAPI generators into endless recursion.
export const NestedNumbers = z
  .union([z.number(), z.array(z.unknown())])
  .refine(isNested, 'must be a finite number or nested arrays of them (at most 8 deep)')
  .meta({ description: 'A number or nested arrays of numbers (a tensor value)' }) as unknown as z.ZodType<NestedNumbers>;

export const Golden = z.object({
  tolerance: z.object({ atol: z.number().min(0).optional(), rtol: z.number().min(0).optional() }).optional(),
  examples: z
    .array(z.object({ inputs: z.record(z.string(), NestedNumbers), outputs: z.record(z.string(), NestedNumbers) }))
    .min(1)
    .max(256),
});
export type Golden = z.infer<typeof Golden>;
