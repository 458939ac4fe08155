/**
 * @module io-schema
 * A model's input/output signature, as its manifest carries it. The golden examples that CI
 * reproduces at publish are an operator request, in golden.ts.
 */
import * as z from 'zod/mini';

export const IoDtype = z.enum(['float32', 'int32', 'bool']);

export const IoTensor = z.object({
  name: z.string().check(z.minLength(1)),
  dtype: IoDtype,
  /** null (or -1 in TF.js files) means any size, typically the batch dimension. */
  shape: z.array(z.nullable(z.int().check(z.minimum(1)))).check(z.maxLength(8)),
});
export type IoTensor = z.infer<typeof IoTensor>;

export const IoSchema = z.object({
  inputs: z.array(IoTensor).check(z.minLength(1), z.maxLength(64)),
  outputs: z.array(IoTensor).check(z.minLength(1), z.maxLength(64)),
});
export type IoSchema = z.infer<typeof IoSchema>;
