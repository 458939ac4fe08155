/**
 * @module validate
 * CI on publish, inside the Worker (DESIGN §3): the model loads in TF.js, its weights match the
 * topology, the declared io matches its signature, and the golden examples reproduce. A pure
 * function of the upload: no bindings, so it is the same in tests and in production.
 */
import type { Golden, IoSchema, TfjsModelJson } from '@modelfleet/protocol';
import { tensorByteLength, weightSpecsOf } from '@modelfleet/protocol';
import { checkGolden } from './golden.ts';
import { ioMismatches } from './io-match.ts';
import { type LoadedModel, disposeModel, loadFromMemory } from './load.ts';

export type ValidationCode = 'model_unloadable' | 'weights_mismatch' | 'io_mismatch' | 'golden_mismatch' | 'non_finite_output' | 'golden_invalid';
export interface Check { name: string; ok: boolean; ms: number; detail?: string }
export interface Reason { code: ValidationCode; message: string }

export interface ValidationInput {
  format: 'tfjs-layers' | 'tfjs-graph';
  modelJson: TfjsModelJson;
  weightData: ArrayBuffer;
  io?: IoSchema;
  golden?: Golden;
}

export type ValidationResult =
  | { ok: true; io: IoSchema; checks: Check[] }
  | { ok: false; reasons: Reason[]; checks: Check[] };

// TF.js words a topology/weight disagreement like this; anything else means it failed to load.
const WEIGHT_ERROR = /shape|weight|dtype|not found in the|no target variable/i;

export async function validateModel(input: ValidationInput): Promise<ValidationResult> {
  const checks: Check[] = [];
  const reasons: Reason[] = [];
  const record = (name: string, started: number, problem?: Reason) => {
    checks.push({ name, ok: !problem, ms: Math.round((performance.now() - started) * 10) / 10, ...(problem ? { detail: problem.message } : {}) });
    if (problem) reasons.push(problem);
  };
  const failed = (): ValidationResult => ({ ok: false, reasons, checks });

  let t = performance.now();
  const expected = weightSpecsOf(input.modelJson).reduce((n, s) => n + tensorByteLength(s), 0);
  if (expected !== input.weightData.byteLength) {
    record('weights-size', t, { code: 'weights_mismatch', message: `weight specs need ${expected} bytes, the weight files hold ${input.weightData.byteLength}` });
    return failed();
  }
  record('weights-size', t);

  t = performance.now();
  let loaded: LoadedModel;
  try {
    loaded = await loadFromMemory(input.format, input.modelJson, input.weightData);
  } catch (e) {
    const message = `TF.js could not load the ${input.format} model: ${(e as Error).message}`;
    record('load', t, { code: WEIGHT_ERROR.test((e as Error).message) ? 'weights_mismatch' : 'model_unloadable', message });
    return failed();
  }
  record('load', t);

  try {
    t = performance.now();
    const problems = input.io ? ioMismatches(input.io, loaded.io) : [];
    record('io-schema', t, problems.length > 0 ? { code: 'io_mismatch', message: problems.join('; ') } : undefined);
    if (input.golden && problems.length === 0) {
      t = performance.now();
      record('golden', t, (await checkGolden(loaded, loaded.io, input.golden)) ?? undefined);
    }
    return reasons.length > 0 ? failed() : { ok: true, io: loaded.io, checks };
  } finally {
    disposeModel(loaded);
  }
}
