/**
 * @module validate
 * CI on publish, inside the Worker (docs/architecture.md §3): the model loads in TF.js, its weights match the
 * topology, it runs (probe.ts), the declared io matches its signature, and the golden examples
 * reproduce. A pure
 * function of the upload: no bindings, so it is the same in tests and in production. Every
 * outcome about the model is a value; it throws only for bugs.
 *
 * @example
 * const result = await validateModel({ format: 'tfjs-layers', modelJson, weightData, golden });
 * if (!result.ok) reject(result.reasons); else record(result.io);
 */
import { Golden, IoSchema, TfjsModelError, TfjsModelJson, tensorByteLength, weightSpecsOf } from '@modelfleet/protocol';
import type * as Engine from './engine.ts';
import { ioMismatches, narrowIo } from './io-match.ts';
import { loadEngine } from './lazy.ts';

export type ValidationCode =
  | 'model_unloadable'
  | 'weights_mismatch'
  | 'io_mismatch'
  | 'golden_mismatch'
  | 'non_finite_output'
  | 'golden_invalid';
/**
 * One step of validation as recorded with the version; `ms` is wall time (see tfjs-runtime).
 * The `probe` check's detail names the shapes the model was run at and where they came from.
 */
export interface Check {
  name: string;
  ok: boolean;
  ms: number;
  detail?: string;
}
export interface Reason {
  code: ValidationCode;
  message: string;
}

export interface ValidationInput {
  format: 'tfjs-layers' | 'tfjs-graph';
  /** model.json as uploaded. */
  modelJson: TfjsModelJson;
  /** All weight files concatenated in manifest order. */
  weightData: ArrayBuffer;
  /** The declared signature; `io` is the model's own, narrowed by this one where it is more specific. */
  io?: IoSchema;
  golden?: Golden;
}

export type ValidationResult =
  | { ok: true; io: IoSchema; checks: Check[] }
  | { ok: false; reasons: Reason[]; checks: Check[] };

/**
 * Validations in one isolate take turns (see `exclusive`). The first one in an isolate loads
 * TF.js (lazy.ts).
 */
export async function validateModel(input: ValidationInput): Promise<ValidationResult> {
  const engine = await loadEngine();
  return engine.exclusive(() => validate(engine, input));
}

async function validate(engine: typeof Engine, input: ValidationInput): Promise<ValidationResult> {
  const { checkGolden, disposeModel, exampleTensors, goldenFits, loadFromMemory, probe, probeInputs } = engine;
  const checks: Check[] = [];
  const reasons: Reason[] = [];
  const since = (started: number) => Math.round((performance.now() - started) * 10) / 10;
  const record = (name: string, started: number, problem?: Reason | null) => {
    checks.push({ name, ok: !problem, ms: since(started), ...(problem ? { detail: problem.message } : {}) });
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
    // (c) what can be told without running: a declared io and golden examples that parse, and
    // golden inputs that fit the io the version would be recorded with.
    t = performance.now();
    const declared = input.io === undefined ? undefined : IoSchema.safeParse(input.io);
    if (declared && !declared.success) {
      record('io', t, {
        code: 'io_mismatch',
        message: `the declared io is not an io schema: ${declared.error.issues[0]?.message ?? ''}`,
      });
      return failed();
    }
    const parsed = input.golden === undefined ? undefined : Golden.safeParse(input.golden);
    const narrowed = narrowIo(declared?.data, loaded.io);
    const unfit = !parsed
      ? null
      : parsed.success
        ? goldenFits(narrowed, parsed.data)
        : malformedGolden(parsed.error.issues[0]);
    const golden = parsed?.data;
    if (unfit) {
      record('golden', t, unfit);
      return failed();
    }

    // (d) one run at the probe shapes (probe.ts): it runs, and graph output shapes.
    t = performance.now();
    const inputs = probeInputs(narrowed.inputs, loaded.io.inputs, golden);
    const probed = await probe(
      loaded,
      inputs,
      narrowed.inputs,
      golden && (() => exampleTensors(loaded.io, golden.examples[0]!.inputs)),
    );
    checks.push({ name: 'probe', ok: probed.ok, ms: since(t), detail: probed.ok ? probed.detail : probed.message });
    if (!probed.ok) {
      reasons.push({ code: probed.code, message: probed.message });
      return failed();
    }
    loaded.io.outputs = probed.outputs;

    // (e) the declared io, if any, against the model's own signature.
    t = performance.now();
    if (!record('io', t, declared ? ioProblem(declared.data, loaded.io) : null)) return failed();

    // (f) the golden examples reproduce.
    if (golden) {
      t = performance.now();
      if (!record('golden', t, await checkGolden(loaded, loaded.io, golden, probed.example))) return failed();
    }
    // The declared io, where it is narrower, is what devices are promised (io-match.ts).
    return { ok: true, io: narrowIo(declared?.data, loaded.io), checks };
  } finally {
    disposeModel(loaded);
  }
}

function malformedGolden(issue: { path: PropertyKey[]; message: string } | undefined): Reason {
  return {
    code: 'golden_invalid',
    message: `golden is malformed at ${issue?.path.join('.') || 'the top'}: ${issue?.message ?? ''}`,
  };
}

function ioProblem(declared: IoSchema, actual: IoSchema): Reason | null {
  const problems = ioMismatches(declared, actual);
  return problems.length > 0 ? { code: 'io_mismatch', message: problems.join('; ') } : null;
}

/** A malformed model.json, an unsupported dtype, or a byte count that differs from the specs'. */
function weightsProblem(input: ValidationInput): Reason | null {
  const parsed = TfjsModelJson.safeParse(input.modelJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      code: 'model_unloadable',
      message: `model.json is malformed at ${issue?.path.join('.') || 'the top'}: ${issue?.message ?? ''}`,
    };
  }
  let expected: number;
  try {
    expected = weightSpecsOf(parsed.data).reduce((n, s) => n + tensorByteLength(s), 0);
  } catch (e) {
    if (!(e instanceof TfjsModelError)) throw e;
    return { code: e.code === 'unsupported_dtype' ? 'model_unloadable' : 'weights_mismatch', message: e.message };
  }
  if (expected !== input.weightData.byteLength) {
    return {
      code: 'weights_mismatch',
      message: `the weight specs need ${expected} bytes, the weight files hold ${input.weightData.byteLength}`,
    };
  }
  return null;
}
