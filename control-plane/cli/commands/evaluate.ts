/**
 * @module cli/commands/evaluate
 * `eval-set put|show` and `evaluate`: an operator registers a model's evaluation set from a JSON
 * file (`{ "inputs": [[…], …], "labels": [0, 2, …], "label"?: "…" }`, docs/rollouts.md),
 * and anyone with a publisher token asks the control plane to score a version on it. The file is
 * checked here first (shape, finite values, one label per row, size), so a mistake costs no upload.
 */
import { EvalSetRequest, EvalSetView, Evaluation, MAX_EVAL_SET_BYTES, evalSetShape } from '@modelfleet/protocol';
import { Api, type Ctx, emit, readJsonFile, table } from '../context.ts';
import { CliError } from '../errors.ts';

const api = (c: Ctx) => Api.from(c.io, c.globals);

const metricsLine = (e: Evaluation) =>
  `accuracy ${e.metrics.accuracy.toFixed(4)}, log loss ${e.metrics.logLoss === null ? '-' : e.metrics.logLoss.toFixed(4)} on ${e.metrics.rows} rows`;

function showSet(c: Ctx, v: EvalSetView): void {
  emit(c, v, () => [
    `${v.model}: evaluation set ${v.digest.slice(0, 12)}… ${v.label ? `"${v.label}" ` : ''}${v.rows} rows of [${v.rowShape.join(',')}], ${v.classes} classes, registered by ${v.registeredBy}`,
    'computed by the control plane:',
    table(
      v.evaluations.map((e) => ({
        version: e.version,
        accuracy: e.metrics.accuracy.toFixed(4),
        logLoss: e.metrics.logLoss === null ? '-' : e.metrics.logLoss.toFixed(4),
        ms: e.ms,
        at: e.evaluatedAt.slice(0, 19).replace('T', ' '),
      })),
    ),
  ]);
}

export async function putEvalSet(c: Ctx, model: string, file: string, o: { label?: string }): Promise<void> {
  const raw = readJsonFile(c.io, file, 'eval-set file');
  const parsed = EvalSetRequest.safeParse({ ...(raw as object), ...(o.label ? { label: o.label } : {}) });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CliError('input', 'bad_request', `${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const shape = evalSetShape(parsed.data);
  if (!shape.ok) throw new CliError('input', 'bad_request', `${file}: ${shape.message}`);
  const bytes = JSON.stringify(parsed.data).length;
  if (bytes > MAX_EVAL_SET_BYTES)
    throw new CliError(
      'input',
      'payload_too_large',
      `${file} is ${bytes} bytes as JSON; the control plane takes at most ${MAX_EVAL_SET_BYTES} (use fewer rows)`,
    );
  showSet(c, await api(c).request(EvalSetView, 'PUT', `/v1/models/${model}/eval-set`, parsed.data));
}

export async function showEvalSet(c: Ctx, model: string): Promise<void> {
  showSet(c, await api(c).request(EvalSetView, 'GET', `/v1/models/${model}/eval-set`));
}

export async function evaluate(c: Ctx, model: string, version: string): Promise<void> {
  const v = Number(version);
  if (!Number.isInteger(v) || v < 1)
    throw new CliError('usage', 'bad_request', `version must be a positive integer, got ${version}`);
  const e = await api(c).request(Evaluation, 'POST', `/v1/models/${model}/versions/${v}/evaluate`);
  emit(
    c,
    e,
    () =>
      `${model} v${e.version} on evaluation set ${e.evalSetDigest.slice(0, 12)}…: ${metricsLine(e)} (computed by the control plane)`,
  );
}
