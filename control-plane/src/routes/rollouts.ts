/**
 * @module routes/rollouts
 * Staged rollouts: create (and start) as an operator, act on one (promote, pause, resume, abort,
 * kill), read them as a viewer with their decision and audit history. Every action goes through
 * the rollout's coordinator Durable Object, which serialises it with the analysis alarm.
 */
import { createRoute } from '@hono/zod-openapi';
import { ApiError } from '@modelfleet/server-shared';
import {
  CreateRolloutRequest,
  OPERATOR_ACTIONS,
  PlanCheckRequest,
  PlanCheckResponse,
  ROLLOUT_ID_PATTERN,
  RolloutActionRequest,
  RolloutCreated,
  RolloutDetail,
  RolloutList,
  RolloutView,
} from '@modelfleet/protocol';
import { z } from 'zod';
import { requireRole } from '../auth/operators.ts';
import type { Env } from '../env.ts';
import { jsonBody } from '../http/guards.ts';
import { createApp } from '../http/openapi-app.ts';
import { listAudit } from '../registry/audit.ts';
import { findModel } from '../registry/models.ts';
import type { ActResult, TransitionInput } from '../rollouts/coordinator-api.ts';
import { createRollout, previewRollout } from '../rollouts/create.ts';
import type { RolloutAction } from '../rollouts/machine.ts';
import { findRollout, listRollouts } from '../rollouts/store.ts';
import { ModelParam, bearer, errorResponses, json, jsonRequest } from './shared.ts';

export const rolloutRoutes = createApp();

const IdParam = z.object({ id: z.string().regex(ROLLOUT_ID_PATTERN) });

/** Runs an action through the rollout's coordinator; its coded errors become ApiErrors again. */
async function act(env: Env, id: string, input: Omit<TransitionInput, 'at'>) {
  if (!env.ROLLOUTS) throw new ApiError('internal', 'the ROLLOUTS Durable Object is not bound');
  const r = (await env.ROLLOUTS.get(env.ROLLOUTS.idFromName(id)).act(id, input)) as ActResult;
  if ('error' in r) throw new ApiError(r.error.code, r.error.message, r.error.details);
  return r.view;
}

rolloutRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/models/{model}/rollouts',
    security: bearer,
    middleware: [requireRole('publisher'), ...jsonBody] as const,
    description:
      "Operators create any rollout; a publisher (CI) only one within the model's policy, whose gate passes, and whose plan can decide on the fleet (else 422 plan_cannot_decide; an operator gets `warnings`). Steps and tolerances the plan omits are derived from the fleet.",
    request: { params: ModelParam, ...jsonRequest(CreateRolloutRequest) },
    responses: {
      201: json(
        RolloutCreated,
        "The rollout (running unless start = false), the plan's power report and what may keep it from deciding",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const body = c.req.valid('json');
    const op = c.get('operator');
    const {
      view: draft,
      power,
      warnings,
    } = await createRollout(c.env.DB, c.env, c.req.valid('param').model, body.challenger, body.plan, op, body.reason);
    const view = body.start
      ? await act(c.env, draft.id, {
          action: 'start',
          actor: op.actor,
          ...(body.reason ? { reason: body.reason } : {}),
        })
      : draft;
    return c.json({ ...view, power, warnings }, 201);
  },
);

rolloutRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/models/{model}/rollouts/preview',
    security: bearer,
    middleware: [requireRole('publisher'), ...jsonBody] as const,
    description:
      "The plan as creating it would store it (omitted steps and tolerances derived from the fleet), its power report and what creating it would do for the caller's role. Creates nothing.",
    request: { params: ModelParam, ...jsonRequest(PlanCheckRequest) },
    responses: { 200: json(PlanCheckResponse, 'The power report'), ...errorResponses },
  }),
  async (c) =>
    c.json(
      await previewRollout(c.env.DB, c.env, c.req.valid('param').model, c.req.valid('json').plan, c.get('operator')),
      200,
    ),
);

rolloutRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/models/{model}/rollouts',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    request: { params: ModelParam },
    responses: { 200: json(RolloutList, 'Newest first'), ...errorResponses },
  }),
  async (c) => {
    const m = await findModel(c.env.DB, c.req.valid('param').model);
    return c.json({ rollouts: await listRollouts(c.env.DB, m.id) }, 200);
  },
);

rolloutRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/rollouts/{id}',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    request: { params: IdParam },
    responses: {
      200: json(RolloutDetail, 'The rollout, its last decision and its audit history (oldest first)'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { modelId: _m, ...view } = await findRollout(c.env.DB, id);
    const history = (await listAudit(c.env.DB, { subject: `rollout/${id}`, limit: 1000 })).reverse();
    return c.json({ ...view, history }, 200);
  },
);

rolloutRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/rollouts/{id}/{action}',
    security: bearer,
    middleware: [requireRole('operator'), ...jsonBody] as const,
    request: { params: IdParam.extend({ action: z.enum(OPERATOR_ACTIONS) }), ...jsonRequest(RolloutActionRequest) },
    responses: { 200: json(RolloutView, 'The rollout after the action'), ...errorResponses },
  }),
  async (c) => {
    const { id, action } = c.req.valid('param');
    const body = c.req.valid('json');
    if (action === 'promote' && body.step === undefined)
      throw new ApiError(
        'bad_request',
        'promote needs { "step": <the step you are promoting from> } so that two promotes cannot both advance',
      );
    await findRollout(c.env.DB, id); // 404 before waking an object
    const view = await act(c.env, id, {
      action: action as RolloutAction,
      actor: c.get('operator').actor,
      ...(body.step !== undefined ? { expectStep: body.step } : {}),
      ...(body.reason ? { reason: body.reason } : action === 'kill' ? { reason: 'kill switch' } : {}),
    });
    return c.json(view, 200);
  },
);
