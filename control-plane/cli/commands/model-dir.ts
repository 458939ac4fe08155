/**
 * @module cli/commands/model-dir
 * Reads a TF.js model directory (model.json + the weight files it names) into the upload:
 * the concatenated weights, cut by the protocol's chunk plan and hashed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ModelFormat, TfjsModelError, TfjsModelJson, planChunks, weightSpecsOf } from '@modelfleet/protocol';
import { CliError } from '../errors.ts';

export interface ModelDir {
  format: ModelFormat;
  modelJson: TfjsModelJson;
  chunks: { digest: string; size: number; bytes: Uint8Array }[];
  totalBytes: number;
}

/** Graph models say so in `format`, or carry a GraphDef (`modelTopology.node`). */
export function detectFormat(modelJson: TfjsModelJson): ModelFormat {
  return modelJson.format === 'graph-model' || Array.isArray((modelJson.modelTopology as { node?: unknown }).node)
    ? 'tfjs-graph'
    : 'tfjs-layers';
}

export function readModelDir(dir: string): ModelDir {
  const path = join(dir, 'model.json');
  if (!existsSync(path))
    throw new CliError(
      'input',
      'file_not_found',
      `${path} not found: a TF.js model directory holds model.json and its weight files`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError('input', 'malformed_model_json', `${path} is not JSON: ${(e as Error).message}`);
  }
  const result = TfjsModelJson.safeParse(parsed);
  if (!result.success)
    throw new CliError(
      'input',
      'malformed_model_json',
      `${path} is not a TF.js model.json: ${result.error.issues[0]?.path.join('.')}: ${result.error.issues[0]?.message}`,
    );
  const modelJson = result.data;

  const files = modelJson.weightsManifest
    .flatMap((g) => g.paths)
    .map((p) => {
      const file = join(dir, p);
      if (!existsSync(file))
        throw new CliError(
          'input',
          'missing_weight_file',
          `weight file ${p} named in model.json is missing from ${dir}`,
        );
      return new Uint8Array(readFileSync(file));
    });
  const weights = Buffer.concat(files);
  try {
    const plan = planChunks(weightSpecsOf(modelJson));
    if (plan.totalBytes !== weights.length) {
      throw new CliError(
        'input',
        'weights_mismatch',
        `model.json declares ${plan.totalBytes} bytes of weights (dtype × shape), the weight files hold ${weights.length}`,
      );
    }
    const chunks = plan.chunks.map((c) => {
      const bytes = new Uint8Array(weights.buffer, weights.byteOffset + c.offset, c.size);
      return { digest: createHash('sha256').update(bytes).digest('hex'), size: c.size, bytes };
    });
    return { format: detectFormat(modelJson), modelJson, chunks, totalBytes: plan.totalBytes };
  } catch (e) {
    if (e instanceof TfjsModelError) throw new CliError('input', e.code, e.message);
    throw e;
  }
}
