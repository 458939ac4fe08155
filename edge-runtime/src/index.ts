/**
 * @module @modelfleet/edge-runtime
 * The device-facing hot path, mounted by the control plane at /v1/edge. Read-only on the
 * registry by construction: nothing here writes D1 or R2.
 */
import {
  ATTESTATION_HEADER,
  PROOF_HEADER,
  DEVICE_KEY_PATTERN,
  type DeviceProfile,
  HAVE_PATTERN,
  HAVE_PREFIX,
  MAX_HAVE,
  MAX_SKETCH_BYTES,
  PROFILE_PARAMS,
  ROLLOUT_ID_PATTERN,
  SKETCH_CHANNELS,
  SKETCH_CONTENT_TYPE,
  type SketchAccepted,
  STEP_PHASES,
  type StepPhase,
} from '@modelfleet/protocol';
import { ApiError, errorResponse, vars } from '@modelfleet/server-shared';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { APP_KEY_HEADER, appForKey, assertAppServesModel, limitDevice } from './apps.ts';
import { bundleEtag, ticketBundle } from './bundle.ts';
import { serveChunk, serveManifest } from './content.ts';
import type { EdgeEnv } from './env.ts';
import { readBounded } from './bounded-body.ts';
import { ticketFor } from './tickets.ts';
import { ingestSketch } from './sketches.ts';
import { attested, issueProof, networkOf } from './provenance.ts';

const TIERS = new Set(['low', 'mid', 'high']);
const BACKEND_NAMES = new Set(['webgpu', 'wasm', 'cpu']);
const short = (v: string | undefined) => (v && v.length <= 40 ? v : undefined);

/** The device's self-description from the ticket query (targeting); unknown or odd values are dropped. */
function profileOf(query: (k: string) => string | undefined): DeviceProfile {
  const tier = (v: string | undefined) => (v && TIERS.has(v) ? (v as 'low' | 'mid' | 'high') : undefined);
  const backends = query(PROFILE_PARAMS.backends)
    ?.split(',')
    .filter((b) => BACKEND_NAMES.has(b)) as DeviceProfile['backends'];
  const p: DeviceProfile = {};
  const platform = short(query(PROFILE_PARAMS.platform));
  const sdkVersion = short(query(PROFILE_PARAMS.sdkVersion));
  const appVersion = short(query(PROFILE_PARAMS.appVersion));
  const memoryTier = tier(query(PROFILE_PARAMS.memoryTier));
  const storageTier = tier(query(PROFILE_PARAMS.storageTier));
  if (platform) p.platform = platform;
  if (sdkVersion) p.sdkVersion = sdkVersion;
  if (appVersion) p.appVersion = appVersion;
  if (backends?.length) p.backends = backends;
  if (memoryTier) p.memoryTier = memoryTier;
  if (storageTier) p.storageTier = storageTier;
  return p;
}
export type { EdgeEnv } from './env.ts';
export { APP_KEY_HEADER } from './apps.ts';
export { ticketSigner } from './tickets.ts';
export { IMMUTABLE } from './content.ts';
export { SketchAggregator } from './aggregator.ts';

const DEVICE_PATTERN = DEVICE_KEY_PATTERN;

export function edgeRoutes<E extends EdgeEnv>(): Hono<{ Bindings: E }> {
  const edge = new Hono<{ Bindings: E }>();
  edge.onError((error) => errorResponse(error));
  // Browsers load models cross-origin: any page may read the public device routes, and the SDK
  // needs its headers (app key, Range, If-None-Match) allowed and ETag/Content-Range readable.
  edge.use(
    '*',
    cors({
      origin: '*',
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      allowHeaders: [APP_KEY_HEADER, PROOF_HEADER, ATTESTATION_HEADER, 'content-type', 'range', 'if-none-match'], // sketch uploads are application/octet-stream
      exposeHeaders: ['etag', 'content-range', 'content-length', 'accept-ranges', PROOF_HEADER],
      maxAge: 86400,
    }),
  );

  edge.get('/tickets/:model', async (c) => {
    const ttl = vars(c.env).EDGE_CACHE_TTL_MS;
    // SPEC 1.3: the key may come as `?key=`, which keeps a browser's GET free of a CORS preflight.
    const app = await appForKey(c.env, c.req.header(APP_KEY_HEADER) ?? c.req.query('key'), ttl);
    const device = c.req.query('device');
    if (!device || !DEVICE_PATTERN.test(device)) {
      throw new ApiError('bad_request', 'pass ?device=<stable device key> (1–128 of A-Z a-z 0-9 . _ : -)');
    }
    await limitDevice(c.env, app, device);
    const model = c.req.param('model');
    assertAppServesModel(app, model);
    const ticket = await ticketFor(
      c.env,
      model,
      device,
      ttl,
      vars(c.env).TICKET_TTL_SECONDS,
      profileOf((k) => c.req.query(k)),
    );
    // SPEC 11.1: the device's upload proof for this assignment, on every answer (304s included).
    const proof =
      vars(c.env).UPLOAD_PROOF === 'off'
        ? null
        : await issueProof(
            c.env,
            { app: app.id, device, model },
            {
              ...ticket.assignment,
              attested: await attested(c.env, c.req.header(ATTESTATION_HEADER), c.req.raw.headers),
            },
          );
    const proofHeader: Record<string, string> = proof ? { [PROOF_HEADER]: proof } : {};
    if (c.req.query('bundle') === '1') {
      // SPEC 1.6: the ticket with newer roots, the manifest and a small model's chunks.
      const root = Number(c.req.query('root') ?? '0');
      if (!Number.isInteger(root) || root < 0)
        throw new ApiError('bad_request', 'root must be the non-negative version of the newest root the device trusts');
      const have = c.req.query('have');
      if (have !== undefined && !HAVE_PATTERN.test(have))
        throw new ApiError(
          'bad_request',
          `have lists at most ${MAX_HAVE} manifest digests by their first ${HAVE_PREFIX} hex characters, comma-separated`,
        );
      const etag = await bundleEtag(c.env, ticket, ttl);
      const headers = { etag, 'cache-control': 'private, no-cache', ...proofHeader };
      if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers);
      return c.json(
        await ticketBundle(c.env, ticket, { root, have: have?.split(',') ?? [], ttlMs: ttl }),
        200,
        headers,
      );
    }
    const headers = { etag: ticket.etag, 'cache-control': 'private, no-cache', ...proofHeader };
    if (c.req.header('if-none-match') === ticket.etag) return c.body(null, 304, headers);
    return c.json(ticket.envelope, 200, headers);
  });

  // Sketch uploads, the only device writes; they never touch the registry (D1/R2). Drift sketches
  // (against the version's signed baseline) and health records (against the built-in health
  // layout) share validation, aggregation and release. SPEC §10 specifies them for any runtime;
  // control-plane routes/edge-docs.ts documents them from the same constants and UPLOAD_ERRORS.
  for (const channel of SKETCH_CHANNELS) {
    edge.post(`/${channel}/:model/:version`, async (c) => {
      const ttl = vars(c.env).EDGE_CACHE_TTL_MS;
      const app = await appForKey(c.env, c.req.header(APP_KEY_HEADER), ttl);
      const device = c.req.query('device');
      if (!device || !DEVICE_PATTERN.test(device))
        throw new ApiError('bad_request', 'pass ?device=<stable device key>');
      await limitDevice(c.env, app, device);
      const model = c.req.param('model');
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
    });
  }

  edge.get('/manifests/:digest', (c) => serveManifest(c.env, c.req.raw, c.req.param('digest')));
  edge.get('/chunks/:digest', (c) =>
    serveChunk(c.env, c.req.raw, c.req.param('digest'), vars(c.env).EDGE_CACHE_TTL_MS),
  );

  // The chain of roots after the one a device pins (SPEC 1.1); public like the keys it lists.
  edge.get('/roots', async (c) => {
    const since = Number(c.req.query('since') ?? '0');
    if (!Number.isInteger(since) || since < 0)
      throw new ApiError('bad_request', 'since must be a non-negative integer root version');
    const { results } = await c.env.DB.prepare('SELECT envelope FROM roots WHERE version > ? ORDER BY version')
      .bind(since)
      .all<{ envelope: string }>();
    return c.json({ roots: results.map((r) => JSON.parse(r.envelope)) }, 200, { 'cache-control': 'no-cache' });
  });

  return edge;
}
