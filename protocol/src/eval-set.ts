/**
 * @module eval-set
 * Evaluation sets: labelled rows an operator registers for a classification model, on which the
 * control plane scores versions itself (PUT /v1/models/{model}/eval-set). The CLI sends them and
 * reads the answers, so the format lives here; only the control plane and the CLI use it (classic
 * zod, like api.ts).
 *
 * Format: `inputs` holds one value per row for the model's single input, without the batch
 * dimension (a row of a `[null, 4]` input is `number[4]`, of a `[null, 28, 28, 1]` input a
 * nested 28 × 28 × 1 array); `labels[i]` is row i's class, the index of the output that should be
 * largest. A model with one output unit (a sigmoid) is read as P(class 1), so its labels are 0 or 1.
 *
 * @example
 * const set = EvalSetRequest.parse(JSON.parse(text));
 * const shape = evalSetShape(set); // { ok: true, rowShape: [4] } or { ok: false, message }
 * const digest = await sha256Hex(canonicalEvalSet(set));
 */
import { z } from 'zod';
import { Digest } from './manifest.ts';
import { utf8 } from './encoding.ts';

/** Rows per set. 10,000 rows bound the server's work (docs/rollouts.md has the figures). */
export const MAX_EVAL_SET_ROWS = 10_000;
/** The request body, as the JSON the CLI sends: the same bound as any JSON body (8 MiB). */
export const MAX_EVAL_SET_BYTES = 8 * 2 ** 20;
/** Nesting of one row (a rank-8 input is already far beyond any model here). */
const MAX_ROW_RANK = 8;

export const EvalSetRequest = z.strictObject({
  label: z.string().max(128).optional(),
  inputs: z.array(z.unknown()).min(1).max(MAX_EVAL_SET_ROWS).meta({
    description:
      "One value per row for the model's single input, without the batch dimension (number[] for a [null, n] input)",
  }),
  labels: z.array(z.number().int().min(0)).min(1).max(MAX_EVAL_SET_ROWS).meta({
    description:
      "Each row's class: the index of the output that should be largest (0 or 1 for a single sigmoid output)",
  }),
});
export type EvalSetRequest = z.infer<typeof EvalSetRequest>;

export type EvalSetShape = { ok: true; rowShape: number[] } | { ok: false; message: string };

/** The shape of a value that must be a rectangular array of finite numbers (or a number). */
function shapeOfRow(value: unknown): number[] | string {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) {
    if (v.length === 0) return 'is an empty array';
    if (shape.length === MAX_ROW_RANK) return `nests more than ${MAX_ROW_RANK} levels`;
    shape.push(v.length);
  }
  const check = (v: unknown, depth: number): string | null => {
    if (depth === shape.length) {
      if (typeof v !== 'number') return `holds ${v === null ? 'null' : typeof v} where a number belongs`;
      return Number.isFinite(v) ? null : `holds a non-finite number (${v})`;
    }
    if (!Array.isArray(v) || v.length !== shape[depth])
      return `is ragged: expected ${shape[depth]} values at depth ${depth + 1}`;
    for (const x of v) {
      const problem = check(x, depth + 1);
      if (problem) return problem;
    }
    return null;
  };
  return check(value, 0) ?? shape;
}

/**
 * Every row has the same shape and holds finite numbers only, and there is one label per row.
 * Which shape a model takes, and how many classes it has, the server checks against the model.
 */
export function evalSetShape(set: EvalSetRequest): EvalSetShape {
  if (set.labels.length !== set.inputs.length) {
    return {
      ok: false,
      message: `${set.inputs.length} input rows but ${set.labels.length} labels; give one label per row`,
    };
  }
  let first: number[] | undefined;
  for (const [i, row] of set.inputs.entries()) {
    const shape = shapeOfRow(row);
    if (typeof shape === 'string') return { ok: false, message: `inputs[${i}] ${shape}` };
    first ??= shape;
    if (shape.length !== first.length || shape.some((d, j) => d !== first![j])) {
      return {
        ok: false,
        message: `inputs[${i}] has shape [${shape}], inputs[0] has [${first}]: rows are ragged; every row needs the same shape`,
      };
    }
  }
  return { ok: true, rowShape: first! };
}

/**
 * The bytes a set's digest names and R2 stores: JSON of `{ inputs, labels }` as parsed (the label is
 * a description, not part of the set). JSON.stringify writes every number in its shortest round-trip
 * form, so the same rows give the same digest however the client formatted them.
 */
export function canonicalEvalSet(set: Pick<EvalSetRequest, 'inputs' | 'labels'>): Uint8Array {
  return utf8(JSON.stringify({ inputs: set.inputs, labels: set.labels }));
}

/**
 * What the control plane computed: accuracy (top class against the label), mean log loss of the
 * label's probability (null when the outputs are not probabilities), over `rows` rows.
 */
export const EvalMetrics = z.object({
  accuracy: z.number().min(0).max(1),
  logLoss: z.number().nullable(),
  rows: z.number().int(),
  correct: z.number().int(),
  classes: z.number().int(),
});
export type EvalMetrics = z.infer<typeof EvalMetrics>;

export const Evaluation = z.object({
  version: z.number().int(),
  evalSetDigest: Digest,
  metrics: EvalMetrics,
  evaluatedAt: z.iso.datetime(),
  /** Wall time of loading the version and running every row, in the control plane. */
  ms: z.number(),
  evaluatedBy: z.string(),
  /** Always 'control-plane': these values are not the publisher's (a version's `metrics` are). */
  source: z.literal('control-plane'),
});
export type Evaluation = z.infer<typeof Evaluation>;

export const EvalSetView = z.object({
  model: z.string(),
  digest: Digest,
  rows: z.number().int(),
  rowShape: z.array(z.number().int()),
  classes: z.number().int(),
  label: z.string().nullable(),
  registeredBy: z.string(),
  registeredAt: z.iso.datetime(),
  /** Evaluations on this set (current digest only), by version. */
  evaluations: z.array(Evaluation),
});
export type EvalSetView = z.infer<typeof EvalSetView>;
