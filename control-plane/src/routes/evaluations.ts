/**
 * @module routes/evaluations
 * Evaluation sets and server-side evaluation (issue 15: a gate must not rest on numbers the
 * publisher wrote). An operator registers the set; operators and publishers (CI) may ask for a
 * version to be scored on it, which changes nothing but the evaluation row; viewers read both.
 */
import { createRoute } from '@hono/zod-openapi';
import { EvalSetRequest, EvalSetView, Evaluation } from '@modelfleet/protocol';
import { ApiError } from '@modelfleet/server-shared';
import { requireRole } from '../auth/operators.ts';
import { evaluateVersion } from '../evaluate/run.ts';
import { registerEvalSet } from '../evaluate/register.ts';
import { evalSetView, findEvaluation, requireEvalSet } from '../evaluate/store.ts';
import { jsonBody } from '../http/guards.ts';
import { createApp } from '../http/openapi-app.ts';
import { findModel } from '../registry/models.ts';
import { ModelParam, VersionParam, bearer, errorResponses, json, jsonRequest } from './shared.ts';

export const evaluationRoutes = createApp();

const tooLarge = { 413: { description: 'Body over 8 MiB (payload_too_large)', content: errorResponses[400].content } };
const mismatch = {
  422: {
    description: 'The version cannot be scored on the set (eval_set_mismatch)',
    content: errorResponses[400].content,
  },
};

evaluationRoutes.openapi(
  createRoute({
    method: 'put',
    path: '/models/{model}/eval-set',
    security: bearer,
    middleware: [requireRole('operator'), ...jsonBody] as const,
    description:
      "Registers the model's evaluation set (replacing the previous one): at most 10,000 labelled rows for its single input, checked against the champion. " +
      "The champion and a live rollout's challenger are scored on it before the answer.",
    request: { params: ModelParam, ...jsonRequest(EvalSetRequest) },
    responses: {
      200: json(EvalSetView, 'The set now current, with the evaluations on it'),
      ...errorResponses,
      ...tooLarge,
    },
  }),
  async (c) =>
    c.json(await registerEvalSet(c.env, c.req.valid('param').model, c.req.valid('json'), c.get('operator')), 200),
);

evaluationRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/models/{model}/eval-set',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    request: { params: ModelParam },
    responses: {
      200: json(EvalSetView, 'The current set and the evaluations on it, newest version first'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { model } = c.req.valid('param');
    const m = await findModel(c.env.DB, model);
    return c.json(await evalSetView(c.env.DB, model, await requireEvalSet(c.env.DB, m.id, model)), 200);
  },
);

evaluationRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/models/{model}/versions/{version}/evaluate',
    security: bearer,
    middleware: [requireRole('publisher')] as const,
    description:
      "Scores the version's stored model on the current evaluation set, in the control plane (once per version and set; later calls return the same row).",
    request: { params: VersionParam },
    responses: { 200: json(Evaluation, 'The evaluation'), ...errorResponses, ...mismatch },
  }),
  async (c) => {
    const { model, version } = c.req.valid('param');
    return c.json(await evaluateVersion(c.env, model, version, c.get('operator').actor), 200);
  },
);

evaluationRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/models/{model}/versions/{version}/evaluation',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    request: { params: VersionParam },
    responses: { 200: json(Evaluation, "The version's evaluation on the current set"), ...errorResponses },
  }),
  async (c) => {
    const { model, version } = c.req.valid('param');
    const m = await findModel(c.env.DB, model);
    const set = await requireEvalSet(c.env.DB, m.id, model);
    const found = await findEvaluation(c.env.DB, m.id, version, set.digest);
    if (!found)
      throw new ApiError(
        'not_found',
        `v${version} of ${model} has not been scored on the current set; POST …/versions/${version}/evaluate`,
      );
    return c.json(found, 200);
  },
);
