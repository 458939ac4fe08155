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
export const NestedNumbers: z.ZodType<NestedNumbers> = z.lazy(() => z.union([z.number(), z.array(NestedNumbers)]));

export const Golden = z.object({
  tolerance: z.object({ atol: z.number().min(0).optional(), rtol: z.number().min(0).optional() }).optional(),
  examples: z
    .array(z.object({ inputs: z.record(z.string(), NestedNumbers), outputs: z.record(z.string(), NestedNumbers) }))
    .min(1)
    .max(256),
});
export type Golden = z.infer<typeof Golden>;
