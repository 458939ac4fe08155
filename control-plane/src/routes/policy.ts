/**
 * @module routes/policy
 * A model's rollout policy (rollouts/policy.ts): read by viewers, set by operators, audited.
 */
import { createRoute } from '@hono/zod-openapi';
import { RolloutPolicy, RolloutPolicyView } from '@modelfleet/protocol';
import { requireRole } from '../auth/operators.ts';
import { jsonBody } from '../http/guards.ts';
import { createApp } from '../http/openapi-app.ts';
import { auditStatement } from '../registry/audit.ts';
import { findModel } from '../registry/models.ts';
import { policyFor } from '../rollouts/policy.ts';
import { ModelParam, bearer, errorResponses, json, jsonRequest } from './shared.ts';

export const policyRoutes = createApp();

policyRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/models/{model}/rollout-policy',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    request: { params: ModelParam },
    responses: {
      200: json(RolloutPolicyView, 'The policy in force (the defaults when none was set)'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { model } = c.req.valid('param');
    return c.json({ model, ...(await policyFor(c.env.DB, (await findModel(c.env.DB, model)).id)) }, 200);
  },
);

policyRoutes.openapi(
  createRoute({
    method: 'put',
    path: '/models/{model}/rollout-policy',
    security: bearer,
    middleware: [requireRole('operator'), ...jsonBody] as const,
    description:
      'What a publisher token may start on its own: minimum steps, largest first step, minimum bake, required metrics, the gate and its metric source. Operators are not bound by it.',
    request: { params: ModelParam, ...jsonRequest(RolloutPolicy) },
    responses: { 200: json(RolloutPolicyView, 'The policy now in force'), ...errorResponses },
  }),
  async (c) => {
    const { model } = c.req.valid('param');
    const policy = c.req.valid('json');
    const m = await findModel(c.env.DB, model);
    const before = await policyFor(c.env.DB, m.id);
    const op = c.get('operator');
    const at = new Date().toISOString();
    await c.env.DB.batch([
      c.env.DB.prepare(
        'INSERT INTO rollout_policies (model_id, policy, updated_by, updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (model_id) DO UPDATE SET policy = ?2, updated_by = ?3, updated_at = ?4',
      ).bind(m.id, JSON.stringify(policy), op.actor, at),
      auditStatement(
        c.env.DB,
        {
          actor: op.actor,
          action: 'rollout-policy.set',
          subject: `model/${model}/rollout-policy`,
          before: before.configured ? before.policy : null,
          after: policy,
        },
        at,
      ),
    ]);
    return c.json({ model, policy, configured: true, updatedBy: op.actor, updatedAt: at }, 200);
  },
);
