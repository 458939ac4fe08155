/**
 * @module console/route-actions
 * The console's form actions (POST): aliases, starting rollouts, rollout actions, redelivery;
 * each writes through the public API as the session's operator (route-helpers.ts attempt).
 */
import { ApiError } from '@modelfleet/server-shared';
import {
  ModelSummary,
  OPERATOR_ACTIONS,
  type OperatorAction,
  RedeliveryResponse,
  RolloutCreated,
  RolloutView,
} from '@modelfleet/protocol';
import { Hono } from 'hono';
import { api } from './api.ts';
import { type ConsoleEnv } from './session.ts';

import { attempt, field } from './route-helpers.tsx';

/** Registers them on the console app, after its session and CSRF middleware. */
export function registerActions(r: Hono<ConsoleEnv>): void {
  // --- actions ---------------------------------------------------------------------------------
  r.post('/models/:name/aliases', async (c) => {
    const name = c.req.param('name');
    const form = await c.req.parseBody();
    const alias = field(form, 'alias');
    const version = Number(field(form, 'version'));
    const back = `/console/models/${encodeURIComponent(name)}`;
    return attempt(c, back, `${alias} → v${version}`, () =>
      api(c, ModelSummary, `/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias)}`, {
        method: 'PUT',
        json: { version },
      }),
    );
  });

  r.post('/models/:name/rollouts', async (c) => {
    const name = c.req.param('name');
    const form = await c.req.parseBody();
    const bakeSeconds = Math.round(Number(field(form, 'bakeMinutes') || '60') * 60);
    // 'fleet': leave the steps out, so the control plane derives them from the fleet.
    const steps =
      field(form, 'steps') === 'fleet'
        ? undefined
        : field(form, 'steps')
            .split(',')
            .map((p) => ({ percent: Number(p), bakeSeconds }));
    const reason = field(form, 'reason');
    return attempt(c, `/console/models/${encodeURIComponent(name)}`, 'rollout started', async () => {
      const { id } = await api(c, RolloutCreated, `/models/${encodeURIComponent(name)}/rollouts`, {
        method: 'POST',
        json: {
          challenger: Number(field(form, 'challenger')),
          plan: steps ? { steps } : {},
          ...(reason ? { reason } : {}),
        },
      });
      return `/console/rollouts/${id}`; // a started rollout opens its own page
    });
  });

  r.post('/rollouts/:id/:action', async (c) => {
    const id = c.req.param('id');
    const action = c.req.param('action') as OperatorAction;
    if (!OPERATOR_ACTIONS.includes(action)) throw new ApiError('not_found', `no rollout action ${action}`);
    const form = await c.req.parseBody();
    const step = field(form, 'step');
    const reason = field(form, 'reason');
    const json = { ...(step ? { step: Number(step) } : {}), ...(reason ? { reason } : {}) };
    return attempt(c, `/console/rollouts/${encodeURIComponent(id)}`, `${action}: done`, () =>
      api(c, RolloutView, `/rollouts/${encodeURIComponent(id)}/${action}`, { method: 'POST', json }),
    );
  });

  r.post('/deliveries/:id/retry', async (c) =>
    attempt(c, '/console/deliveries', `delivery ${c.req.param('id')} queued again`, () =>
      api(c, RedeliveryResponse, `/deliveries/${encodeURIComponent(c.req.param('id'))}/retry`, { method: 'POST' }),
    ),
  );
}
