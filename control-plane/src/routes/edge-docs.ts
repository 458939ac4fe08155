/**
 * @module routes/edge-docs
 * OpenAPI entries for the device routes. The edge runtime is plain Hono (it stays small and
 * has no validation layer of its own to run on the hot path), so its paths are registered here
 * from the same protocol schemas that the handlers and the SDK use.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { UPLOAD_ERRORS, statusOf } from '@modelfleet/server-shared';
import {
  ApiErrorBody,
  DEVICE_KEY_PATTERN,
  Digest,
  Envelope,
  HAVE_PATTERN,
  MAX_SKETCH_BYTES,
  ModelName,
  ROLLOUT_ID_PATTERN,
  SKETCH_CHANNELS,
  SKETCH_CONTENT_TYPE,
  STEP_PHASES,
  RootList,
  SketchAccepted,
  type SketchChannel,
  TicketBundle,
} from '@modelfleet/protocol';
import { z } from 'zod';
import type { AppEnv } from '../http/context.ts';

const error = (description: string) => ({ description, content: { 'application/json': { schema: ApiErrorBody } } });

export function documentEdge(app: OpenAPIHono<AppEnv>): void {
  documentSecurity(app);
  documentTicket(app);
  documentContent(app);
  for (const channel of SKETCH_CHANNELS) documentUpload(app, channel);
}

/** The device's app key, as a header or (for a preflight-free GET) a query parameter. */
function documentSecurity(app: OpenAPIHono<AppEnv>): void {
  const r = app.openAPIRegistry;
  r.registerComponent('securitySchemes', 'appKey', {
    type: 'apiKey',
    in: 'header',
    name: 'x-modelfleet-app-key',
    description: 'Public per-app device key (mfa_…)',
  });
  r.registerComponent('securitySchemes', 'appKeyQuery', {
    type: 'apiKey',
    in: 'query',
    name: 'key',
    description:
      'The same key as a query parameter: a browser GET without custom headers needs no CORS preflight (SPEC 1.3)',
  });
}

/** GET /v1/edge/tickets/{model}: the signed ticket, or the ticket bundle. */
function documentTicket(app: OpenAPIHono<AppEnv>): void {
  const r = app.openAPIRegistry;
  r.registerPath({
    method: 'get',
    path: '/v1/edge/tickets/{model}',
    tags: ['edge'],
    security: [{ appKey: [] }, { appKeyQuery: [] }],
    summary:
      'Signed ticket: which version this device should run (SPEC §1); with bundle=1, the ticket bundle (SPEC 1.6)',
    request: {
      params: z.object({ model: ModelName }),
      query: z.object({
        device: z.string().regex(DEVICE_KEY_PATTERN),
        bundle: z.literal('1').optional().meta({
          description: "Answer the ticket bundle: ticket, newer roots, the manifest, a small model's chunks (SPEC 1.6)",
        }),
        root: z.coerce.number().int().min(0).optional().meta({
          description: 'With bundle: the newest root version the device holds; later roots come in the bundle',
        }),
        have: z.string().regex(HAVE_PATTERN).optional().meta({
          description:
            'With bundle: up to 4 manifests the device stores complete (first 16 hex of their digests); the bundle leaves a named one out',
        }),
      }),
    },
    responses: {
      200: {
        description:
          'Ticket envelope (DSSE, ticket role); with bundle=1 the ticket bundle, whose ETag also names the newest root',
        content: { 'application/json': { schema: z.union([Envelope, TicketBundle]) } },
      },
      304: { description: 'Unchanged since the ETag sent in If-None-Match' },
      401: error('Missing or unknown app key'),
      403: error('Model not in this app'),
      404: error('Unknown model or no champion'),
      429: error('Rate limited'),
    },
  });
}

/** The content-addressed reads (manifests, chunks) and the root chain. */
function documentContent(app: OpenAPIHono<AppEnv>): void {
  const r = app.openAPIRegistry;
  r.registerPath({
    method: 'get',
    path: '/v1/edge/manifests/{digest}',
    tags: ['edge'],
    summary: 'Manifest envelope by the SHA-256 of its payload (SPEC §2)',
    request: { params: z.object({ digest: Digest }) },
    responses: {
      200: {
        description: 'Immutable manifest envelope (release role)',
        content: { 'application/json': { schema: Envelope } },
      },
      404: error('No such manifest'),
    },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/edge/chunks/{digest}',
    tags: ['edge'],
    summary: 'Weight chunk by SHA-256; Range supported (SPEC §5)',
    request: { params: z.object({ digest: Digest }) },
    responses: {
      200: {
        description: 'Immutable chunk bytes',
        content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } },
      },
      206: { description: 'The requested byte range' },
      404: error('No chunk referenced by an accepted version'),
    },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/edge/roots',
    tags: ['edge'],
    summary: 'Roots after a pinned version, oldest first (SPEC 1.1)',
    request: { query: z.object({ since: z.coerce.number().int().min(0) }) },
    responses: { 200: { description: 'Root envelopes', content: { 'application/json': { schema: RootList } } } },
  });
}

const UPLOADS: Record<SketchChannel, { summary: string; layout: string }> = {
  sketches: {
    summary: "Daily drift sketch of a version's inputs and outputs, one per device per UTC day (SPEC §10)",
    layout: "the layout derived from the version's signed monitoring baseline (SPEC 10.2)",
  },
  health: {
    summary:
      'Daily health record of a version (load and predict outcomes, latency, backend, feedback), one per device per UTC day (SPEC §10)',
    layout: 'the built-in health layout (SPEC 10.5)',
  },
  'step-health': {
    summary: "A rollout step's health record, once per device per step and phase (SPEC 10.6)",
    layout: 'the built-in health layout (SPEC 10.5)',
  },
  'step-sketches': {
    summary: "A rollout step's drift sketch, once per device per step (SPEC 10.6)",
    layout: "the layout derived from the version's signed monitoring baseline (SPEC 10.2)",
  },
};

/**
 * A telemetry upload route, from the constants the edge handler itself uses (device pattern,
 * size limit, channels, phases) and its list of coded refusals (server-shared UPLOAD_ERRORS),
 * grouped by the status each code is answered with.
 */
function documentUpload(app: OpenAPIHono<AppEnv>, channel: SketchChannel): void {
  const step = channel === 'step-health' || channel === 'step-sketches';
  const window = step
    ? "the step's ticket sequence"
    : 'the UTC day, ⌊unix ms / 86 400 000⌋: the current one or the one before';
  const query = z.object({
    device: z.string().regex(DEVICE_KEY_PATTERN).meta({
      description: "The device's stable key (the one it asks for tickets with); one upload per device per window",
    }),
    ...(step
      ? {
          rollout: z
            .string()
            .regex(ROLLOUT_ID_PATTERN)
            .meta({ description: "The rollout the step's ticket belongs to (ticket.rollout.id)" }),
        }
      : channel === 'health'
        ? {
            rollout: z.string().regex(ROLLOUT_ID_PATTERN).optional().meta({
              description:
                "The rollout named by the device's ticket, if any: a control device's record on the champion then counts in the health-control cohort",
            }),
          }
        : {}),
    ...(channel === 'step-health'
      ? {
          phase: z.enum(STEP_PHASES).default('used').meta({
            description:
              "loaded: once when the device starts running the step's version (counted, not judged); used: once after some predictions (judged)",
          }),
        }
      : {}),
  });
  const byStatus = new Map<number, typeof UPLOAD_ERRORS>();
  for (const e of UPLOAD_ERRORS.filter((x) => !x.channels || x.channels.includes(channel)))
    byStatus.set(statusOf(e.code), [...(byStatus.get(statusOf(e.code)) ?? []), e]);
  const responses = Object.fromEntries(
    [...byStatus]
      .sort(([a], [b]) => a - b)
      .map(([status, errors]) => [
        status,
        {
          description: errors.map((e) => `\`${e.code}\`: ${e.when}`).join('. '),
          content: {
            'application/json': {
              schema: z.object({
                error: z.object({
                  code: z.enum([...new Set(errors.map((e) => e.code))] as [string, ...string[]]),
                  message: z.string(),
                  details: z.unknown().optional(),
                }),
              }),
            },
          },
        },
      ]),
  );
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: `/v1/edge/${channel}/{model}/{version}`,
    tags: ['edge', 'telemetry'],
    security: [{ appKey: [] }],
    summary: UPLOADS[channel].summary,
    description: `The body is ${UPLOADS[channel].layout}, encoded as SPEC 10.3 says (little-endian; 44-byte header "MFS1", then per feature u16 bins and i16 components), exactly as long as the layout needs and at most ${MAX_SKETCH_BYTES} bytes. Its window is ${window}. The app key goes in the x-modelfleet-app-key header (not the query).`,
    request: {
      params: z.object({ model: ModelName, version: z.coerce.number().int().min(1) }),
      query,
      headers: z.object({ 'content-type': z.literal(SKETCH_CONTENT_TYPE) }),
      body: {
        required: true,
        description: `The encoded upload (SPEC 10.3), at most ${MAX_SKETCH_BYTES} bytes`,
        content: {
          [SKETCH_CONTENT_TYPE]: {
            schema: z.string().meta({ format: 'binary', contentMediaType: SKETCH_CONTENT_TYPE }),
          },
        },
      },
    },
    responses: {
      202: {
        description: 'Counted: the aggregate now holds `devices` uploads for `window`',
        content: { 'application/json': { schema: SketchAccepted } },
      },
      ...responses,
    },
  });
}
