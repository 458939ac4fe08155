/**
 * @module golden
 * The golden examples an operator uploads with a model and CI reproduces at publish (SPEC 9.1).
 * Only the control plane reads them, so they stay in classic zod (with OpenAPI metadata).
 */
import { z } from 'zod';

export type NestedNumbers = number | NestedNumbers[];
const isNested = (v: unknown, depth = 0): boolean =>
  (typeof v === 'number' && Number.isFinite(v)) ||
  (depth < 8 && Array.isArray(v) && v.every((x) => isNested(x, depth + 1)));
// A refinement rather than z.lazy: recursive schemas send OpenAPI generators into endless recursion.
export const NestedNumbers = z
  .union([z.number(), z.array(z.unknown())])
  .refine(isNested, 'must be a finite number or nested arrays of them (at most 8 deep)')
  .meta({
    description: 'A number or nested arrays of numbers (a tensor value)',
  }) as unknown as z.ZodType<NestedNumbers>;

export const Golden = z.object({
  tolerance: z.object({ atol: z.number().min(0).optional(), rtol: z.number().min(0).optional() }).optional(),
  examples: z
    .array(z.object({ inputs: z.record(z.string(), NestedNumbers), outputs: z.record(z.string(), NestedNumbers) }))
    .min(1)
    .max(256),
});
export type Golden = z.infer<typeof Golden>;
