/**
 * @module baseline
 * The monitoring baseline carried (and so signed) in a manifest: what "normal" inputs and
 * outputs looked like in training (DESIGN §7). Devices sketch against it; the control plane
 * tests drift against it. This is the shape validated at publish; the drift issue fills it in.
 */
import * as z from 'zod/mini';
import { reservedNameProblem } from './input-stats.ts';

const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

export const NumericFeatureBaseline = z.looseObject({
  name: z.string().check(z.minLength(1)),
  kind: z.literal('numeric'),
  /** B+1 strictly increasing, finite equiprobable bin edges from the training data. */
  edges: z.array(z.number()).check(z.minLength(2), z.maxLength(257), z.refine(increasing, 'edges must be strictly increasing')),
  /** Probability-integral-transform table: points (x, F0(x)) with x and F0 non-decreasing. */
  pit: z.optional(
    z
      .array(z.tuple([z.number(), z.number().check(z.minimum(0), z.maximum(1))]))
      .check(z.minLength(2), z.refine((t) => t.every((p, i) => i === 0 || (p[0] >= t[i - 1]![0] && p[1] >= t[i - 1]![1])), 'pit must be non-decreasing')),
  ),
});

export const CategoricalFeatureBaseline = z.looseObject({
  name: z.string().check(z.minLength(1)),
  kind: z.literal('categorical'),
  vocabulary: z.array(z.string()).check(z.minLength(1), z.maxLength(4096), z.refine((v) => new Set(v).size === v.length, 'vocabulary has duplicates')),
  /** Training frequencies of vocabulary…, OTHER, MISSING (length vocabulary + 2); the Rao–Scott test needs them. */
  frequencies: z.optional(z.array(z.number().check(z.minimum(0)))),
}).check(z.refine((f) => !f.frequencies || (f.frequencies.length === f.vocabulary.length + 2 && f.frequencies.some((x) => x > 0)), 'frequencies needs one entry per vocabulary item plus OTHER and MISSING, not all zero'));

export const OutputBaseline = z.looseObject({
  classCounts: z.optional(z.array(z.int().check(z.minimum(0)))),
  confidenceDeciles: z.optional(z.array(z.number().check(z.minimum(0), z.maximum(1))).check(z.length(9), z.refine(increasingOrEqual, 'deciles must be non-decreasing'))),
});
function increasingOrEqual(xs: number[]) {
  return xs.every((x, i) => i === 0 || x >= xs[i - 1]!);
}

export const Baseline = z
  .looseObject({
    features: z.array(z.discriminatedUnion('kind', [NumericFeatureBaseline, CategoricalFeatureBaseline])).check(z.maxLength(512)),
    outputs: z.optional(OutputBaseline),
  })
  .check(
    z.refine((b) => new Set(b.features.map((f) => f.name)).size === b.features.length, 'feature names must be unique'),
    // @ is reserved (@output.…); only declared input statistics (@input.<input>.<stat>, input-stats.ts) pass.
    z.refine((b) => b.features.every((f) => !reservedNameProblem(f)), {
      error: (iss) => (iss.input as { features: { name: string; kind: string }[] }).features.map(reservedNameProblem).find((p) => p !== null) ?? 'reserved_feature_name',
    }),
  );
export type Baseline = z.infer<typeof Baseline>;
