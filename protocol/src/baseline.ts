/**
 * @module baseline
 * The monitoring baseline carried (and so signed) in a manifest: what "normal" inputs and
 * outputs looked like in training. Devices sketch against it; the control plane tests drift
 * against it (docs/drift-and-privacy.md).
 *
 * Real data is rarely continuous: amounts are zero-inflated, temperatures sit on a grid, counts
 * are integers. So a numeric feature carries its empirical CDF as a table of points with the CDF
 * just below and at each point (`[x, F(x−), F(x)]`): where F jumps (a point mass, "atom"),
 * devices draw u uniformly inside the jump — the randomized PIT — so u is uniform under the
 * baseline for any mix of continuous and discrete data. `rows` is how many training rows the
 * tables come from: the tests add the baseline's own sampling error (two-sample form).
 */
import * as z from 'zod/mini';
import { reservedNameProblem } from './input-stats.ts';

const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);
const share = () => z.number().check(z.minimum(0), z.maximum(1));
const rows = () => z.optional(z.int().check(z.minimum(1)));

/** `[x, F(x)]` (tables from before atoms: treated as F(x−) = F(x)) or `[x, F(x−), F(x)]`. */
export type PitPoint = [number, number] | [number, number, number];
const isShare = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;
/**
 * One loop over the table instead of a zod union of tuples per point: a device parses the
 * baseline with every cold load, and per-point schemas made that the slowest step of verifying
 * a small model's manifest (the demo model's 1,100 points: the bench's "manifest" step of a cold
 * load went from 29 to 15 ms). baseline.test.ts holds each rule the per-point schema had.
 */
const isPitPoint = (p: unknown): p is PitPoint =>
  Array.isArray(p) &&
  (p.length === 2 || p.length === 3) &&
  Number.isFinite(p[0]) &&
  isShare(p[1]) &&
  (p.length === 2 || (isShare(p[2]) && p[1] <= p[2]));
const pitTable = (t: unknown[]) =>
  t.every(
    (p, i) =>
      isPitPoint(p) && (i === 0 || (p[0] > (t[i - 1] as PitPoint)[0] && p[1] >= (t[i - 1] as PitPoint).at(-1)!)),
  );

/**
 * Items are `unknown` to zod and checked by `pitTable` in one pass; the registry gives the OpenAPI
 * document (JSON Schema) their shape, which it would otherwise show as "any".
 */
const PitTable = z
  .array(z.unknown(), 'pit must be an array of points')
  .check(
    z.minLength(1, 'pit needs at least one point'),
    z.maxLength(2048, 'pit has at most 2,048 points'),
    z.refine(
      pitTable,
      'pit must be [x, F(x−), F(x)] or [x, F(x)] points (F in [0, 1]), increasing in x and non-decreasing in F',
    ),
  ) as unknown as z.ZodMiniType<PitPoint[], PitPoint[]>;
z.globalRegistry.add(PitTable, {
  description: 'Empirical CDF: [x, F(x−), F(x)] or [x, F(x)] points, increasing in x, F in [0, 1] and non-decreasing',
  items: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 3 },
} as never);

export const NumericFeatureBaseline = z
  .looseObject({
    name: z.string().check(z.minLength(1)),
    kind: z.literal('numeric'),
    /** B+1 strictly increasing, finite bin edges (training quantiles; ties collapse, so bins need not be equiprobable). */
    edges: z
      .array(z.number())
      .check(z.minLength(2), z.maxLength(257), z.refine(increasing, 'edges must be strictly increasing')),
    /** The training share of each of the B interior bins (sum 1): what tests, PSI and charts expect. */
    shares: z.optional(z.array(share())),
    /** Empirical CDF table, strictly increasing in x, non-decreasing in F; jumps at atoms. */
    pit: z.optional(PitTable),
    /** Finite training values behind the tables. */
    rows: rows(),
    /** Share of training rows with no finite value (they go to the MISSING bin). */
    missing: z.optional(share()),
  })
  .check(
    z.refine((f) => !f.shares || f.shares.length === f.edges.length - 1, 'shares needs one entry per bin (edges − 1)'),
  );

export const CategoricalFeatureBaseline = z
  .looseObject({
    name: z.string().check(z.minLength(1)),
    kind: z.literal('categorical'),
    vocabulary: z.array(z.string()).check(
      z.minLength(1),
      z.maxLength(4096),
      z.refine((v) => new Set(v).size === v.length, 'vocabulary has duplicates'),
    ),
    /** Training frequencies of vocabulary…, OTHER, MISSING (length vocabulary + 2); the Rao–Scott test needs them. */
    frequencies: z.optional(z.array(z.number().check(z.minimum(0)))),
    rows: rows(),
  })
  .check(
    z.refine(
      (f) => !f.frequencies || (f.frequencies.length === f.vocabulary.length + 2 && f.frequencies.some((x) => x > 0)),
      'frequencies needs one entry per vocabulary item plus OTHER and MISSING, not all zero',
    ),
  );

/**
 * Label-free accuracy (confidence-based performance estimation): on labelled validation
 * predictions, the share correct within each bin of the top-class confidence. A fleet's
 * accuracy is then Σ (fleet's share of bin b) × accuracy[b] — right for a model whatever its
 * calibration, as long as P(correct | confidence) is unchanged (covariate shift).
 */
export const Reliability = z
  .looseObject({
    /** Per bin of `confidence.edges` (interior bins). */
    accuracy: z.array(share()),
    counts: z.array(z.int().check(z.minimum(0))),
    /** The share of validation predictions that were correct: the reference the fleet is compared with. */
    validationAccuracy: share(),
  })
  .check(z.refine((r) => r.accuracy.length === r.counts.length, 'accuracy and counts need one entry per bin'));

export const OutputBaseline = z
  .looseObject({
    classCounts: z.optional(z.array(z.int().check(z.minimum(0)))),
    confidenceDeciles: z.optional(
      z.array(share()).check(z.length(9), z.refine(increasingOrEqual, 'deciles must be non-decreasing')),
    ),
    /** The top-class confidence as a full numeric baseline (bins, shares, PIT with atoms, rows). */
    confidence: z.optional(NumericFeatureBaseline),
    reliability: z.optional(Reliability),
  })
  .check(
    z.refine(
      (o) => !o.reliability || !o.confidence || o.reliability.accuracy.length === o.confidence.edges.length - 1,
      'reliability needs one entry per confidence bin',
    ),
  );
function increasingOrEqual(xs: number[]) {
  return xs.every((x, i) => i === 0 || x >= xs[i - 1]!);
}

export const Baseline = z
  .looseObject({
    features: z
      .array(z.discriminatedUnion('kind', [NumericFeatureBaseline, CategoricalFeatureBaseline]))
      .check(z.maxLength(512)),
    outputs: z.optional(OutputBaseline),
  })
  .check(
    z.refine((b) => new Set(b.features.map((f) => f.name)).size === b.features.length, 'feature names must be unique'),
    // @ is reserved (@output.…); only declared input statistics (@input.<input>.<stat>, input-stats.ts) pass.
    z.refine((b) => b.features.every((f) => !reservedNameProblem(f)), {
      error: (iss) =>
        (iss.input as { features: { name: string; kind: string }[] }).features
          .map(reservedNameProblem)
          .find((p) => p !== null) ?? 'reserved_feature_name',
    }),
  );
export type Baseline = z.infer<typeof Baseline>;
export type NumericFeatureBaseline = z.infer<typeof NumericFeatureBaseline>;
