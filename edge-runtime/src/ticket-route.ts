/**
 * @module ticket-route
 * `GET /v1/edge/tickets/{model}` (SPEC §1): the device's signed ticket for a model, or with
 * `bundle=1` the ticket with newer roots, the manifest and a small model's chunks; on every answer
 * (304s included) the device's upload proof for its assignment (SPEC 11.1).
 */
import {
  ATTESTATION_HEADER,
  DEVICE_KEY_PATTERN,
  type DeviceProfile,
  HAVE_PATTERN,
  HAVE_PREFIX,
  MAX_HAVE,
  PROFILE_PARAMS,
  PROOF_HEADER,
} from '@modelfleet/protocol';
import { ApiError, vars } from '@modelfleet/server-shared';
import type { Context } from 'hono';
import { APP_KEY_HEADER, appForKey, assertAppServesModel, limitDevice } from './apps.ts';
import { bundleEtag, ticketBundle } from './bundle.ts';
import type { EdgeEnv } from './env.ts';
import { attested, issueProof } from './provenance.ts';
import { ticketFor } from './tickets.ts';

const DEVICE_PATTERN = DEVICE_KEY_PATTERN;
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

export async function ticketRoute<E extends EdgeEnv>(c: Context<{ Bindings: E }>): Promise<Response> {
  const ttl = vars(c.env).EDGE_CACHE_TTL_MS;
  // SPEC 1.3: the key may come as `?key=`, which keeps a browser's GET free of a CORS preflight.
  const app = await appForKey(c.env, c.req.header(APP_KEY_HEADER) ?? c.req.query('key'), ttl);
  const device = c.req.query('device');
  if (!device || !DEVICE_PATTERN.test(device)) {
    throw new ApiError('bad_request', 'pass ?device=<stable device key> (1–128 of A-Z a-z 0-9 . _ : -)');
  }
  await limitDevice(c.env, app, device);
  const model = c.req.param('model')!;
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
    return c.json(await ticketBundle(c.env, ticket, { root, have: have?.split(',') ?? [], ttlMs: ttl }), 200, headers);
  }
  const headers = { etag: ticket.etag, 'cache-control': 'private, no-cache', ...proofHeader };
  if (c.req.header('if-none-match') === ticket.etag) return c.body(null, 304, headers);
  return c.json(ticket.envelope, 200, headers);
}
