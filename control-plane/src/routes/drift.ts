/**
 * @module routes/drift
 * Operator views of drift data. Raw aggregates never leave their Durable Object before the
 * window closes and noise is added; until then only the device count and a digest are shown.
 */
import { createRoute } from '@hono/zod-openapi';
import { ApiError, aggregateStub, vars, windowSeconds } from '@modelfleet/server-shared';
import { z } from 'zod';
import { requireRole } from '../auth/operators.ts';
import { createApp } from '../http/openapi-app.ts';
import { findModel } from '../registry/models.ts';
import { closeWindow, privacyLedger } from '../drift/close.ts';
import { DEFAULT_DETECT } from '../drift/detect.ts';
import { DriftView, PrivacyLedgerView, WindowRelease, WindowStatus, windowOf, windowStart } from '@modelfleet/protocol';
import { ModelParam, bearer, errorResponses, json } from './shared.ts';

export const driftRoutes = createApp();

driftRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/models/{model}/versions/{version}/sketches/{window}',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    request: {
      params: ModelParam.extend({ version: z.coerce.number().int().min(1), window: z.coerce.number().int().min(0) }),
      query: z.object({
        cohort: z
          .string()
          .regex(/^(all|health|health-control|step-ro_[0-9a-f]{16}(-loaded|-sketches)?)$/)
          .default('all')
          .meta({
            description:
              "all (drift sketches), health, health-control, step-<rollout id> (with the step sequence as the window), step-<rollout id>-loaded (devices that started running the step's version) or step-<rollout id>-sketches (the step's drift sketches)",
          }),
      }),
    },
    responses: {
      200: json(
        WindowStatus,
        'Contributions so far (drift sketches, or health records with cohort=health); once released, closed with the count it had',
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { model, version, window } = c.req.valid('param');
    await findModel(c.env.DB, model);
    const stub = aggregateStub(c.env, model, version, window, c.req.valid('query').cohort);
    return c.json({ window, ...(await stub.status()) }, 200);
  },
);

const WindowParams = ModelParam.extend({
  version: z.coerce.number().int().min(1),
  window: z.coerce.number().int().min(0),
});

driftRoutes.openapi(
  createRoute({
    method: 'post',
    path: '/models/{model}/versions/{version}/sketches/{window}/close',
    security: bearer,
    middleware: [requireRole('operator')] as const,
    request: { params: WindowParams },
    responses: {
      200: json(
        WindowRelease,
        'The window, released once (idempotent), with per-feature verdicts, output drift and the retrain trigger',
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { model, version, window } = c.req.valid('param');
    // Closing a window that has not begun would refuse every upload of it (issue 15).
    const seconds = windowSeconds(c.env);
    const current = windowOf(new Date(), seconds);
    if (window > current)
      throw new ApiError(
        'bad_request',
        `window ${window} is in the future (the current ${seconds}-s window is ${current}, from ${windowStart(current, seconds).toISOString()}); a window closes once it has begun`,
      );
    return c.json(await closeWindow(c.env, model, version, window, c.get('operator').actor), 200);
  },
);

driftRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/models/{model}/drift',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    request: { params: ModelParam, query: z.object({ limit: z.coerce.number().int().min(1).max(366).default(30) }) },
    responses: {
      200: json(
        DriftView,
        'Closed windows, newest first: per-feature verdicts (with released bin shares), output drift, CUSUM, retrain requests and device health',
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const seconds = windowSeconds(c.env);
    const m = await findModel(c.env.DB, c.req.valid('param').model);
    const { results } = await c.env.DB.prepare(
      "SELECT version, window, devices, released, alarm, noise_sigma AS noiseSigma, noise, verdict, cusum, retrain, closed_at AS closedAt FROM drift_windows WHERE model_id = ? AND cohort = 'all' ORDER BY window DESC, version DESC LIMIT ?",
    )
      .bind(m.id, c.req.valid('query').limit)
      .all<Record<string, unknown>>();
    const { results: health } = await c.env.DB.prepare(
      "SELECT version, window, devices, verdict FROM drift_windows WHERE model_id = ? AND cohort = 'health' ORDER BY window DESC LIMIT ?",
    )
      .bind(m.id, c.req.valid('query').limit * 4)
      .all<{ version: number; window: number; devices: number; verdict: string | null }>();
    const healthOf = new Map(
      health.map((h) => [
        `${h.version}/${h.window}`,
        { devices: h.devices, summary: h.verdict ? JSON.parse(h.verdict) : null },
      ]),
    );
    const parse = (v: unknown) => (v ? JSON.parse(String(v)) : null);
    return c.json(
      {
        minDevices: vars(c.env).DRIFT_MIN_DEVICES,
        familyAlpha: DEFAULT_DETECT.familyAlpha,
        epsilonPerDay: vars(c.env).DRIFT_EPSILON_PER_DAY,
        windowSeconds: seconds,
        effectFloor: { sigma: DEFAULT_DETECT.minSigmaShift, share: DEFAULT_DETECT.minCategoryShift },
        windows: results.map((r) => ({
          ...r,
          released: r.released === 1,
          alarm: r.alarm === 1,
          noise: parse(r.noise),
          verdict: parse(r.verdict),
          retrain: parse(r.retrain),
          health: healthOf.get(`${r.version}/${r.window}`) ?? null,
        })),
      },
      200,
    );
  },
);

driftRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/models/{model}/privacy',
    security: bearer,
    middleware: [requireRole('viewer')] as const,
    request: { params: ModelParam },
    responses: {
      200: json(
        PrivacyLedgerView,
        'zCDP ledger: spend over the windows of the last 365 days, and split by channel (window, step-health, step-sketches) in the current window (`today`: the day, with day windows) and over the year',
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const seconds = windowSeconds(c.env);
    return c.json(await privacyLedger(c.env, c.req.valid('param').model, windowOf(new Date(), seconds), seconds), 200);
  },
);
