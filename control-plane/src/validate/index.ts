/**
 * @module validate
 * CI on publish, inside the Worker (DESIGN §3): the model loads in TF.js, its weights match the
 * topology, the declared io matches its signature, and the golden examples reproduce. A pure
 * function of the upload: no bindings, so it is the same in tests and in production. Every
 * outcome about the model is a value; it throws only for bugs.
 *
 * @example
 * const result = await validateModel({ format: 'tfjs-layers', modelJson, weightData, golden });
 * if (!result.ok) reject(result.reasons); else record(result.io);
 */
import { Golden, IoSchema, TfjsModelError, TfjsModelJson, tensorByteLength, weightSpecsOf } from '@modelfleet/protocol';
import { checkGolden } from './golden.ts';
import { ioMismatches } from './io-match.ts';
import { disposeModel, loadFromMemory } from './load.ts';
import { exclusive } from './tfjs-runtime.ts';

export type ValidationCode = 'model_unloadable' | 'weights_mismatch' | 'io_mismatch' | 'golden_mismatch' | 'non_finite_output' | 'golden_invalid';
/** One step of validation as recorded with the version; `ms` is wall time (see tfjs-runtime). */
export interface Check { name: string; ok: boolean; ms: number; detail?: string }
export interface Reason { code: ValidationCode; message: string }

export interface ValidationInput {
  format: 'tfjs-layers' | 'tfjs-graph';
  /** model.json as uploaded. */
  modelJson: TfjsModelJson;
  /** All weight files concatenated in manifest order. */
  weightData: ArrayBuffer;
  /** The declared signature; when absent the model's own is returned as `io`. */
  io?: IoSchema;
  golden?: Golden;
}

export type ValidationResult =
  | { ok: true; io: IoSchema; checks: Check[] }
  | { ok: false; reasons: Reason[]; checks: Check[] };

/** Validations in one isolate take turns (see `exclusive`). */
export function validateModel(input: ValidationInput): Promise<ValidationResult> {
  return exclusive(() => validate(input));
}

async function validate(input: ValidationInput): Promise<ValidationResult> {
  const checks: Check[] = [];
  const reasons: Reason[] = [];
  const record = (name: string, started: number, problem?: Reason | null) => {
    checks.push({ name, ok: !problem, ms: Math.round((performance.now() - started) * 10) / 10, ...(problem ? { detail: problem.message } : {}) });
    if (problem) reasons.push(problem);
    return !problem;
  };
  const failed = (): ValidationResult => ({ ok: false, reasons, checks });

  // (b) the inputs are what their schemas say, and the weight bytes are as many as the specs need.
  let t = performance.now();
  if (!record('weights', t, weightsProblem(input))) return failed();

  // (a) TF.js loads it from memory; weights that do not fit the topology are told apart.
  t = performance.now();
  const outcome = await loadFromMemory(input.format, input.modelJson, input.weightData);
  record('load', t, outcome.ok ? null : outcome.failure);
  if (!outcome.ok) return failed();
  const { loaded } = outcome;

  try {
    // (c) the declared io, if any, against the model's own signature.
    t = performance.now();
    if (!record('io', t, input.io === undefined ? null : ioProblem(input.io, loaded.io))) return failed();

    // (d) the golden examples reproduce.
    if (input.golden !== undefined) {
      t = performance.now();
      const golden = Golden.safeParse(input.golden);
      const problem = golden.success
        ? await checkGolden(loaded, loaded.io, golden.data)
        : { code: 'golden_invalid' as const, message: `golden is malformed at ${golden.error.issues[0]?.path.join('.') || 'the top'}: ${golden.error.issues[0]?.message ?? ''}` };
      if (!record('golden', t, problem)) return failed();
    }
    return { ok: true, io: loaded.io, checks };
  } finally {
    disposeModel(loaded);
  }
}

function ioProblem(declared: unknown, actual: IoSchema): Reason | null {
  const io = IoSchema.safeParse(declared);
  if (!io.success) return { code: 'io_mismatch', message: `the declared io is not an io schema: ${io.error.issues[0]?.message ?? ''}` };
  const problems = ioMismatches(io.data, actual);
  return problems.length > 0 ? { code: 'io_mismatch', message: problems.join('; ') } : null;
}

/** A malformed model.json, an unsupported dtype, or a byte count that differs from the specs'. */
function weightsProblem(input: ValidationInput): Reason | null {
  const parsed = TfjsModelJson.safeParse(input.modelJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { code: 'model_unloadable', message: `model.json is malformed at ${issue?.path.join('.') || 'the top'}: ${issue?.message ?? ''}` };
  }
  let expected: number;
  try {
    expected = weightSpecsOf(parsed.data).reduce((n, s) => n + tensorByteLength(s), 0);
  } catch (e) {
    if (!(e instanceof TfjsModelError)) throw e;
    return { code: e.code === 'unsupported_dtype' ? 'model_unloadable' : 'weights_mismatch', message: e.message };
  }
  if (expected !== input.weightData.byteLength) {
    return { code: 'weights_mismatch', message: `the weight specs need ${expected} bytes, the weight files hold ${input.weightData.byteLength}` };
  }
  return null;
}
