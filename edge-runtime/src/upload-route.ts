/**
 * @module upload-route
 * `POST /v1/edge/{channel}/{model}/{version}`: sketch uploads, the only device writes; they never
 * touch the registry (D1/R2). Drift sketches
 * (against the version's signed baseline) and health records (against the built-in health
 * layout) share validation, aggregation and release. SPEC §10 specifies them for any runtime;
 * control-plane routes/edge-docs.ts documents them from the same constants and UPLOAD_ERRORS.
 */
import {
  DEVICE_KEY_PATTERN,
  MAX_SKETCH_BYTES,
  PROOF_HEADER,
  ROLLOUT_ID_PATTERN,
  SKETCH_CONTENT_TYPE,
  type SketchAccepted,
  type SketchChannel,
  STEP_PHASES,
  type StepPhase,
} from '@modelfleet/protocol';
import { ApiError, vars } from '@modelfleet/server-shared';
import type { Context } from 'hono';
import { APP_KEY_HEADER, appForKey, assertAppServesModel, limitDevice } from './apps.ts';
import { readBounded } from './bounded-body.ts';
import type { EdgeEnv } from './env.ts';
import { networkOf } from './provenance.ts';
import { ingestSketch } from './sketches.ts';

const DEVICE_PATTERN = DEVICE_KEY_PATTERN;

/** The handler for one channel: sketches, health, step-health or step-sketches. */
export const uploadRoute =
  (channel: SketchChannel) =>
  async <E extends EdgeEnv>(c: Context<{ Bindings: E }>): Promise<Response> => {
    const ttl = vars(c.env).EDGE_CACHE_TTL_MS;
    const app = await appForKey(c.env, c.req.header(APP_KEY_HEADER), ttl);
    const device = c.req.query('device');
    if (!device || !DEVICE_PATTERN.test(device)) throw new ApiError('bad_request', 'pass ?device=<stable device key>');
    await limitDevice(c.env, app, device);
    const model = c.req.param('model')!;
    assertAppServesModel(app, model);
    const version = Number(c.req.param('version'));
    if (!Number.isInteger(version) || version < 1)
      throw new ApiError('bad_request', 'version must be a positive integer');
    if ((c.req.header('content-type') ?? '').split(';')[0]!.trim() !== SKETCH_CONTENT_TYPE) {
      throw new ApiError(
        'unsupported_media_type',
        'send the sketch as application/octet-stream (protocol sketch layout v1)',
      );
    }
    if (Number(c.req.header('content-length') ?? 0) > MAX_SKETCH_BYTES)
      throw new ApiError('payload_too_large', `sketch uploads are at most ${MAX_SKETCH_BYTES} bytes`);
    const body = await readBounded(c.req.raw.body, MAX_SKETCH_BYTES, 'sketch uploads');
    const rollout = c.req.query('rollout');
    if (rollout !== undefined && !ROLLOUT_ID_PATTERN.test(rollout))
      throw new ApiError('bad_request', 'rollout is a rollout id (ro_ and 16 hex digits)');
    const phase = c.req.query('phase') as StepPhase | undefined;
    if (phase !== undefined && (channel !== 'step-health' || !STEP_PHASES.includes(phase)))
      throw new ApiError('bad_request', `phase is ${STEP_PHASES.join(' or ')}, and only for step-health records`);
    const proof = c.req.header(PROOF_HEADER);
    const network = await networkOf(c.env, c.req.raw.headers);
    const result = await ingestSketch(c.env, {
      app,
      device,
      model,
      version,
      body,
      now: new Date(),
      ttlMs: ttl,
      channel,
      network,
      ...(proof ? { proof } : {}),
      ...(rollout ? { rollout } : {}),
      ...(phase ? { phase } : {}),
    });
    const accepted: SketchAccepted = { accepted: true, ...result };
    return c.json(accepted, 202);
  };
